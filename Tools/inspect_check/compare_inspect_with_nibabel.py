"""Check `universeg inspect --json` against nibabel, and that every file under the path is accounted for.

    universeg inspect DIR --json > report.json
    python Tools/inspect_check/compare_inspect_with_nibabel.py report.json DIR [--reference DICOM_DIR=NIFTI ...]

For each NIfTI volume in the report: shape, number of volumes, orientation letters (nibabel aff2axcodes), spacing
(column norms of the affine), RAS bounding box of the voxel centres and the finite intensity range of volume 0 must
match nibabel. `--reference` pairs a DICOM series folder with the NIfTI it was made from: the DICOM volume's
bounding box must equal the NIfTI's (the slice order may differ, the box may not).
Prints one line per mismatch and a summary; exits 1 on any mismatch. Not needed to build or test the tool.
"""
import argparse
import itertools
import json
import os
import sys

import nibabel as nib
import numpy as np

TOL_MM = 1e-3


def corner_bounds(affine, shape):
    corners = np.array([affine @ [i, j, k, 1] for i, j, k in
                        itertools.product(*[(0, n - 1) for n in shape[:3]])])[:, :3]
    return corners.min(0), corners.max(0)


def expected_nifti(path):
    img = nib.load(path)
    if not hasattr(img, "affine"):   # CIFTI: nibabel wraps it; its NIfTI-2 container has the affine we report
        img = nib.Nifti2Image.from_filename(path)
    shape = img.shape + (1,) * (3 - len(img.shape)) if len(img.shape) < 3 else img.shape
    volumes = int(np.prod(shape[3:])) if len(shape) > 3 else 1
    data = np.asarray(img.dataobj, dtype=np.float64)
    data = data.reshape(shape[:3] + (volumes,), order="F")[..., 0]
    finite = data[np.isfinite(data)]
    lo, hi = corner_bounds(img.affine, shape)
    return {
        "dims": list(shape[:3]), "volumeCount": volumes,
        "orientation": "".join(nib.aff2axcodes(img.affine)),
        "spacing": np.linalg.norm(img.affine[:3, :3], axis=0),
        "boundsMin": lo, "boundsMax": hi,
        "intensityMin": finite.min() if finite.size else None,
        "intensityMax": finite.max() if finite.size else None,
    }


def compare(name, got, want, problems):
    for key in ("dims", "volumeCount", "orientation"):
        if got[key] != want[key]:
            problems.append(f"{name}: {key} {got[key]} != nibabel {want[key]}")
    for key in ("spacing", "boundsMin", "boundsMax"):
        if not np.allclose(got[key], want[key], atol=TOL_MM):
            problems.append(f"{name}: {key} {got[key]} != nibabel {np.round(want[key], 4).tolist()}")
    for key in ("intensityMin", "intensityMax"):
        a, b = got.get(key), want[key]
        if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-4 * max(1, abs(b))):
            problems.append(f"{name}: {key} {a} != nibabel {b}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("root")
    parser.add_argument("--reference", action="append", default=[], help="DICOM_DIR=NIFTI")
    args = parser.parse_args()
    report = json.load(open(args.report))
    problems = []

    # A multi-frame file may feed several volumes; a file must not be both in a volume and skipped.
    in_volumes = {f for v in report["volumes"] for f in v["files"]}
    listed = list(in_volumes) + [u["path"] for u in report["skipped"]]
    on_disk = [os.path.join(d, f) for d, _, fs in os.walk(os.path.abspath(args.root)) for f in fs if not f.startswith(".")]
    missing = sorted(set(on_disk) - set(listed))
    twice = sorted(f for f in set(listed) if listed.count(f) > 1)
    problems += [f"{f}: not in the report" for f in missing] + [f"{f}: listed more than once" for f in twice]

    checked = 0
    for volume in report["volumes"]:
        if volume["format"] == "NIfTI":
            compare(volume["files"][0], volume, expected_nifti(volume["files"][0]), problems)
            checked += 1
    for pair in args.reference:
        folder, nifti = pair.split("=")
        folder = os.path.abspath(folder)
        matches = [v for v in report["volumes"] if v["format"] == "DICOM"
                   and all(os.path.abspath(f).startswith(folder + os.sep) for f in v["files"])]
        if len(matches) != 1:
            problems.append(f"{folder}: {len(matches)} DICOM volumes, expected 1")
            continue
        want = expected_nifti(nifti)
        got = matches[0]
        for key in ("boundsMin", "boundsMax"):
            if not np.allclose(got[key], want[key], atol=TOL_MM):
                problems.append(f"{folder}: {key} {got[key]} != {nifti} {np.round(want[key], 4).tolist()}")
        print(f"{folder}: DICOM box {got['boundsMin']}..{got['boundsMax']} vs nibabel "
              f"{np.round(want['boundsMin'], 4).tolist()}..{np.round(want['boundsMax'], 4).tolist()}")
        checked += 1

    for p in problems:
        print(p)
    print(f"{len(on_disk)} files on disk, {len(report['volumes'])} volumes, {len(report['skipped'])} skipped; "
          f"{checked} volumes compared with nibabel, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
