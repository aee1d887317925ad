#!/usr/bin/env bash
# Installs the native libraries and tools universeg needs on Debian 12. Idempotent; uses sudo only when not root.
set -euo pipefail
# orthanc, orthanc-dicomweb: the PACS the DICOM network tests send to (C-STORE and STOW-RS; each test starts its
# own on loopback ports). slurm-wlm, munge: the cluster the sharding test starts (Tests/Cluster).
packages=(libnifti-dev libdcmtk-dev libopenjp2-7-dev libopenblas-dev zlib1g-dev pkg-config dcmtk dicom3tools slurm-wlm munge jq orthanc orthanc-dicomweb)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
command -v swift >/dev/null || { echo "error: the Swift 6 toolchain is not on PATH (https://www.swift.org/install/linux/)" >&2; exit 1; }
