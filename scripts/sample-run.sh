#!/usr/bin/env bash
# Installs what is missing, builds universeg, and runs the sample pipelines on SampleData with the bundled
# model: Pipelines/tissue-nifti.yaml (two tissue classes of a T1 study, from labelled slices of another part of
# the same kind of image), Pipelines/tissue-dicom.yaml (the same study as a DICOM series, written back as DICOM SEG),
# Pipelines/brain-lesion-nifti.yaml (a NIfTI study) and Pipelines/brain-lesion-dicom.yaml
# (a DICOM study, written back as DICOM SEG). The bundled model misses these small lesions (see MODEL_CARD.md);
# the lesion pipelines show the NIfTI and DICOM round trips. With the bundled model each study takes about 11 s on 2 cores (release build; the
# first build takes about 2 minutes). A second run skips both studies (see out/*/ledger.jsonl).
#
#   scripts/sample-run.sh [--weights FILE]     # another model instead of the bundled one
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product universeg
bin="$(swift build -c release --show-bin-path)/universeg"

status=0
for pipeline in Pipelines/tissue-nifti.yaml Pipelines/tissue-dicom.yaml Pipelines/brain-lesion-nifti.yaml Pipelines/brain-lesion-dicom.yaml; do
    echo "== universeg run $pipeline $*"
    "$bin" run "$pipeline" "$@" || status=$?
    [ "$status" -eq 3 ] && exit 3    # cannot start (e.g. no bundled model): the error above says why
done

echo
echo "Outputs:"
for folder in out/tissue-nifti out/tissue-dicom out/brain-lesion-nifti out/brain-lesion-dicom; do
    [ -d "$folder" ] || continue
    echo "  $folder/index.html (summary: one row per study, QC image, volumes)"
    find "$folder" -mindepth 2 -type f ! -name '.tmp-*' | sort | sed 's/^/    /'
done
exit "$status"
