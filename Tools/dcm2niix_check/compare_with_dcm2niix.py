#!/usr/bin/env python3
"""Compare `universeg inspect --json` with dcm2niix over every DICOM series of a corpus.

universeg inspects the whole tree once. Each series it finds (all volumes of one SeriesInstanceUID) and each file it
skips is then given to dcm2niix alone, in a folder of its own, so that the two tools see the same files (a 4D NIfTI
counts as one volume per 4th-dimension index). Volumes are matched within a row by dimensions, then by world bounds. Compared per volume: dimensions, spacing (mm, along the index axes) and world bounds (RAS+ mm of the eight
corner voxel centres). Prints a table (Markdown with --markdown) and exits 1 when a disagreement has no entry in
EXPLANATIONS.

    Tools/dcm2niix_check/.venv/bin/python Tools/dcm2niix_check/compare_with_dcm2niix.py \
        --universeg .build/debug/universeg --corpus ../shared/data/io-tests/dicom --markdown
"""
import argparse
import collections
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import nibabel as nib
import numpy as np

TOLERANCE_MM = 0.05

# Why the tools disagree: "files" by the row's first file (relative to the corpus, as the table prints it),
# "refusals" by the start of universeg's reason for skipping a file. docs/dicom-corpus.md is this script's output.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "explanations.json")) as f:
    EXPLANATIONS = json.load(f)


def explanation_for(name, refusal):
    if name in EXPLANATIONS["files"]:
        return EXPLANATIONS["files"][name]
    for prefix, text in EXPLANATIONS["refusals"].items():
        if refusal and refusal.startswith(prefix):
            return text
    return ""


def corners(affine, shape):
    idx = np.array([[i, j, k, 1] for k in (0, shape[2] - 1) for j in (0, shape[1] - 1) for i in (0, shape[0] - 1)])
    world = idx @ np.asarray(affine, dtype=float).T
    return world[:, :3].min(axis=0), world[:, :3].max(axis=0)


def dcm2niix_volumes(dcm2niix, files, workdir):
    """dcm2niix's 3D volumes for exactly `files` (copied into a folder of their own)."""
    source, output = os.path.join(workdir, "in"), os.path.join(workdir, "out")
    for folder in (source, output):
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    for n, path in enumerate(files):
        shutil.copy(path, os.path.join(source, f"{n:04d}_{os.path.basename(path)}"))
    log = subprocess.run([dcm2niix, "-z", "n", "-b", "n", "-f", "%s_%r_%t", "-o", output, source],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    volumes = []
    for path in sorted(glob.glob(os.path.join(output, "*.nii"))):
        image = nib.load(path)
        shape = image.shape + (1,) * (4 - len(image.shape))
        low, high = corners(image.affine, shape[:3])
        spacing = [float(x) for x in np.linalg.norm(image.affine[:3, :3], axis=0)]
        volumes += [{"dims": list(shape[:3]), "spacing": spacing, "low": low, "high": high}] * shape[3]
    notes = [line.strip() for line in log.splitlines() if line.startswith(("Warning", "Error", "Unsupported"))
             or "No valid DICOM" in line]
    return volumes, notes


def universeg_report(universeg, corpus):
    out = subprocess.run([universeg, "inspect", corpus, "--json"], check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    volumes = []
    for v in report["volumes"]:
        if v["format"] != "DICOM":
            continue
        volumes.append({
            "uid": v.get("seriesInstanceUID") or "none:" + v["files"][0], "dims": v["dims"], "spacing": v["spacing"],
            "low": np.array(v["boundsMin"]), "high": np.array(v["boundsMax"]), "description": v["description"],
            "files": v["files"],
        })
    return volumes, report["skipped"]


def bounds_difference(a, b):
    return float(max(np.abs(a["low"] - b["low"]).max(), np.abs(a["high"] - b["high"]).max()))


def match(ours, theirs):
    """Pairs volumes of one series: equal dimensions first, closest bounds first."""
    pairs, left = [], list(theirs)
    for o in sorted(ours, key=lambda v: (v["dims"], list(v["low"]))):
        candidates = [n for n, t in enumerate(left) if t["dims"] == o["dims"]] or list(range(len(left)))
        if not candidates:
            pairs.append((o, None))
            continue
        best = min(candidates, key=lambda n: bounds_difference(o, left[n]))
        pairs.append((o, left.pop(best)))
    pairs += [(None, t) for t in left]
    return pairs


def dims_text(volumes):
    counts = collections.Counter("x".join(map(str, v["dims"])) for v in volumes)
    return ", ".join(f"{n}×{d}" if n > 1 else d for d, n in sorted(counts.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--universeg", default=".build/debug/universeg")
    parser.add_argument("--corpus", default="../shared/data/io-tests/dicom")
    parser.add_argument("--dcm2niix", default=os.path.join(os.path.dirname(sys.executable), "dcm2niix"))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()

    version = subprocess.run([args.dcm2niix, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    ours, skipped = universeg_report(args.universeg, args.corpus)
    by_uid = collections.defaultdict(list)
    for v in ours:
        by_uid[v["uid"]].append(v)
    groups = [(uid, vols, sorted({f for v in vols for f in v["files"]}), None) for uid, vols in by_uid.items()]
    groups += [("file:" + os.path.relpath(s["path"], args.corpus), [], [s["path"]], s["reason"]) for s in skipped]

    rows, unexplained, both_refuse, theirs_total = [], 0, [], 0
    with tempfile.TemporaryDirectory() as workdir:
        for uid, o, files, refusal in groups:
            t, notes = dcm2niix_volumes(args.dcm2niix, files, workdir)
            theirs_total += len(t)
            name = os.path.relpath(files[0], args.corpus) + (f" (+{len(files) - 1})" if len(files) > 1 else "")
            if not o and not t:
                both_refuse.append(name)
                continue
            pairs = match(o, t)
            worst_bounds = max((bounds_difference(a, b) for a, b in pairs if a and b), default=0.0)
            worst_spacing = max((max(abs(x - y) for x, y in zip(a["spacing"], b["spacing"])) for a, b in pairs
                                 if a and b and a["dims"] == b["dims"]), default=0.0)
            agree = (all(a and b and a["dims"] == b["dims"] for a, b in pairs)
                     and worst_bounds <= TOLERANCE_MM and worst_spacing <= TOLERANCE_MM)
            explanation = explanation_for(name, refusal)
            status = "agree" if agree else ("explained" if explanation else "UNEXPLAINED")
            unexplained += status == "UNEXPLAINED"
            ours_text = dims_text(o) if o else "refused: " + refusal
            theirs_text = dims_text(t) if t else "nothing (" + "; ".join(notes[-1:]) + ")"
            rows.append([name, ours_text, theirs_text, f"{worst_bounds:.3f}" if o and t else "—",
                         f"{worst_spacing:.3f}" if o and t else "—", status, explanation])

    read = [r for r in rows if not r[1].startswith("refused: ")]
    refused = collections.defaultdict(list)
    for r in rows:
        if r[1].startswith("refused: "):
            refused[(r[6] or r[1], r[5])].append(r)
    if args.markdown:
        print(f"dcm2niix {version}; tolerance {TOLERANCE_MM} mm; {len(ours)} universeg volumes; "
              f"{theirs_total} dcm2niix volumes from the same files\n")
        print("### Series universeg reads\n")
        header = ["files (first)", "universeg dims", "dcm2niix dims", "bounds Δ mm", "spacing Δ mm", "status", "explanation"]
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in read:
            print("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
        print("\n### Files universeg refuses and dcm2niix converts\n")
        print("| universeg's reason (first file's) | files | dcm2niix dims | status | explanation |")
        print("|---|---|---|---|---|")
        for (explanation, status), group in refused.items():
            names = ", ".join(os.path.basename(r[0]) for r in group)
            dims = "; ".join(sorted({r[2] for r in group}))
            print(f"| {group[0][1][len('refused: '):]} | {names} | {dims} | {status} | {explanation} |")
    else:
        print(f"dcm2niix {version}: {len(ours)} universeg volumes, {theirs_total} dcm2niix volumes")
        for row in rows:
            print("  ".join(str(c) for c in row[:6]))
    print(f"\nNeither tool reads ({len(both_refuse)} files): " + ", ".join(both_refuse))
    print(f"\n{sum(r[5] == 'agree' for r in rows)} agree, {sum(r[5] == 'explained' for r in rows)} explained, "
          f"{unexplained} unexplained", file=sys.stderr)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
