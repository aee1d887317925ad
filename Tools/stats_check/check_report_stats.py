#!/usr/bin/env python3
"""Recomputes a study report's per-target statistics with nibabel + numpy, independently of the Swift code, and
compares them with report.json (and, given, with the run's summary.csv rows).

    python Tools/stats_check/check_report_stats.py REPORT.json LABELMAP.nii.gz IMAGE.nii.gz [--summary summary.csv]

IMAGE is the study's source NIfTI (its scl_slope/scl_inter applied, as the tool does). Checked per target: voxel
count, volume in mL (voxel count x product of the voxel sizes / 1000), intensity mean, std (population), min, max
and percentiles 5/25/50/75/95 (numpy's linear method), centroid and bounding box of the voxel centres in RAS+ mm
(the NIfTI's best affine), the box in voxel indices, and touchesBorder (the mask reaches the first or last index of
an axis longer than one voxel). Prints one line per target; exits 1 listing every mismatch.
"""
import csv
import json
import sys

import nibabel as nib
import numpy as np

RTOL = 1e-6


def expected_statistics(labels, image, affine, value):
    """The statistics of label `value`, as docs/pipeline-schema.md defines them; None when the mask is empty."""
    mask = labels == value
    if not mask.any():
        return None
    values = image[mask].astype(np.float64)
    index = np.argwhere(mask).astype(np.float64)            # (n, 3) voxel indices i, j, k
    ras = index @ affine[:3, :3].T + affine[:3, 3]
    lo, hi = np.argwhere(mask).min(axis=0), np.argwhere(mask).max(axis=0)
    shape = np.array(mask.shape)
    touches = bool(np.any((shape > 1) & ((lo == 0) | (hi == shape - 1))))
    percentiles = np.percentile(values, [5, 25, 50, 75, 95])
    return {
        "intensity": {"mean": values.mean(), "std": values.std(), "min": values.min(), "max": values.max(),
                      **{f"p{p}": q for p, q in zip([5, 25, 50, 75, 95], percentiles)}},
        "boundingBoxVoxels": {"min": lo.tolist(), "max": hi.tolist()},
        "boundingBoxRAS": {"min": ras.min(axis=0).tolist(), "max": ras.max(axis=0).tolist()},
        "centroidRAS": ras.mean(axis=0).tolist(),
        "touchesBorder": touches,
    }


def close(a, b):
    return abs(a - b) <= RTOL * max(1.0, abs(a), abs(b))


def compare(expected, written, path, problems):
    """Appends to `problems` every leaf of `expected` that `written` differs from."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            if key not in written:
                problems.append(f"{path}.{key}: missing in the report")
            else:
                compare(value, written[key], f"{path}.{key}", problems)
    elif isinstance(expected, list):
        if len(expected) != len(written):
            problems.append(f"{path}: {written} != {expected}")
        for n, (e, w) in enumerate(zip(expected, written)):
            compare(e, w, f"{path}[{n}]", problems)
    elif isinstance(expected, bool):
        if expected != written:
            problems.append(f"{path}: report {written}, numpy {expected}")
    elif not close(float(expected), float(written)):
        problems.append(f"{path}: report {written}, numpy {expected}")


def check(report_path, labels_path, image_path, summary_path=None):
    """Every mismatch between the report (and summary.csv) and numpy's numbers, as text lines."""
    report = json.load(open(report_path))
    labels_file, image_file = nib.load(labels_path), nib.load(image_path)
    labels = np.asarray(labels_file.dataobj).astype(np.int64)
    image = image_file.get_fdata(dtype=np.float64)
    affine = image_file.affine
    if labels.shape != image.shape or not np.allclose(labels_file.affine, affine, atol=1e-4):
        return ["the label map is not on the image's grid"]
    voxel_ml = float(np.prod(image_file.header.get_zooms()[:3])) / 1000
    problems = []
    for target in report["targets"]:
        name, value = target["name"], target["value"]
        count = int((labels == value).sum())
        if target["voxels"] != count:
            problems.append(f"{name}.voxels: report {target['voxels']}, numpy {count}")
        if not close(target["volumeML"], count * voxel_ml):
            problems.append(f"{name}.volumeML: report {target['volumeML']}, numpy {count * voxel_ml}")
        expected = expected_statistics(labels, image, affine, value)
        if expected is None:
            if target.get("statistics") is not None:
                problems.append(f"{name}: empty mask, yet the report has statistics")
            continue
        if target.get("statistics") is None:
            problems.append(f"{name}: no statistics in the report")
            continue
        compare(expected, target["statistics"], name, problems)
        s = expected["intensity"]
        print(f"{name}: {count} voxels, {count * voxel_ml:.4f} mL, mean {s['mean']:.4f}, "
              f"centroid {np.round(expected['centroidRAS'], 3).tolist()}, touches border {expected['touchesBorder']}")
    if summary_path:
        rows = {(r["study"], r["target"]): r for r in csv.DictReader(open(summary_path, newline=""))}
        for target in report["targets"]:
            row = rows.get((report["study"], target["name"]))
            if row is None:
                problems.append(f"summary.csv: no row for {report['study']} / {target['name']}")
                continue
            stats = target.get("statistics")
            pairs = [("voxels", target["voxels"]), ("volume_ml", target["volumeML"])]
            if stats:
                pairs += [(k, stats["intensity"][k]) for k in ["mean", "std", "min", "max", "p5", "p25", "p50", "p75", "p95"]]
                pairs += list(zip(["centroid_r_mm", "centroid_a_mm", "centroid_s_mm"], stats["centroidRAS"]))
                pairs += [("touches_border", stats["touchesBorder"])]
            for column, value in pairs:
                text = row[column]
                if isinstance(value, bool):
                    ok = text == ("true" if value else "false")
                else:
                    ok = text != "" and float(text) == float(value)     # the CSV repeats the report exactly
                if not ok:
                    problems.append(f"summary.csv {target['name']}.{column}: {text!r}, report {value}")
    return problems


def main():
    args = sys.argv[1:]
    summary = None
    if "--summary" in args:
        at = args.index("--summary")
        summary = args[at + 1]
        del args[at:at + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    problems = check(*args, summary_path=summary)
    for line in problems:
        print("MISMATCH " + line)
    print("report matches numpy" if not problems else f"{len(problems)} mismatches")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
