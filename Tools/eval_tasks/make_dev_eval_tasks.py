"""Builds `universeg evaluate` task folders from ../shared/data/dev-eval (development evaluation only; never train on them).

Task folder layout: support/ and query/ hold NAME_image.nii.gz + NAME_label.nii.gz; task.yaml names the
foreground label values, the voxel axis to slice along, and the normalisation.

    python Tools/eval_tasks/make_dev_eval_tasks.py [--data ../shared/data] [--out out/eval-tasks]

Tasks:
  brain-lesion   pyradiomics brain1 (support) -> brain2 (query), label 1
  lung-lesion    pyradiomics lung1 split along z at the middle of the lesion: lower part supports the upper part
  kmeans-class-{4,5,6}  ITK k-means T1 with the skull-stripped 3-class map, split along z at the middle of the brain
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import nibabel as nib
import numpy as np


def save(img: np.ndarray, affine: np.ndarray, like: nib.Nifti1Image, path: Path, dtype) -> None:
    out = nib.Nifti1Image(img.astype(dtype), affine)
    out.set_qform(affine, code=int(like.header["qform_code"]) or 1)
    out.set_sform(affine, code=int(like.header["sform_code"]) or 1)
    out.header.set_xyzt_units("mm")
    nib.save(out, str(path))


def write_pair(folder: Path, name: str, image, label, affine, like_img, like_lab) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save(image, affine, like_img, folder / f"{name}_image.nii.gz", np.int16)
    save(label, affine, like_lab, folder / f"{name}_label.nii.gz", np.uint8)


def split_z(image_path: Path, label_path: Path, at: int):
    """Splits a volume along voxel axis 2 at index `at`; each part keeps its exact world position."""
    img, lab = nib.load(str(image_path)), nib.load(str(label_path))
    a = img.get_fdata(dtype=np.float32)
    b = np.asarray(lab.dataobj)
    lower_affine = img.affine.copy()
    upper_affine = img.affine.copy()
    upper_affine[:3, 3] = img.affine[:3, :3] @ np.array([0, 0, at]) + img.affine[:3, 3]
    return (a[..., :at], b[..., :at], lower_affine), (a[..., at:], b[..., at:], upper_affine), img, lab


def task_yaml(folder: Path, labels, axis: int, normalize: str) -> None:
    (folder / "task.yaml").write_text(f"labels: [{', '.join(map(str, labels))}]\naxis: {axis}\nnormalize: {normalize}\n")


def main() -> None:
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("UNIVERSEG_DATA", repo.parent / "shared" / "data")))
    parser.add_argument("--out", type=Path, default=repo / "out" / "eval-tasks")
    args = parser.parse_args()
    build(args.data, args.out)


def build(data: Path, out: Path) -> None:
    """Writes the five tasks under `out` (also used by make_volume_tasks.py)."""
    pyr = data / "dev-eval" / "pyradiomics"
    itk = data / "dev-eval" / "itk_kmeans_t1"

    brain = out / "brain-lesion"
    for sub, case in (("support", "brain1"), ("query", "brain2")):
        (brain / sub).mkdir(parents=True, exist_ok=True)
        for kind in ("image", "label"):
            src = pyr / f"{case}_{kind}.nii.gz"
            dst = brain / sub / src.name
            if not dst.exists():
                dst.write_bytes(src.read_bytes())
    task_yaml(brain, [1], 2, "percentile")

    lung_label = np.asarray(nib.load(str(pyr / "lung1_label.nii.gz")).dataobj)
    zs = np.nonzero(lung_label.any(axis=(0, 1)))[0]
    at = int((zs.min() + zs.max() + 1) // 2)
    lower, upper, img, lab = split_z(pyr / "lung1_image.nii.gz", pyr / "lung1_label.nii.gz", at)
    lung = out / "lung-lesion"
    write_pair(lung / "support", "lung1_lower", *lower, img, lab)
    write_pair(lung / "query", "lung1_upper", *upper, img, lab)
    task_yaml(lung, [1], 2, "percentile")

    classes = np.asarray(nib.load(str(itk / "KmeansTest_T1RawSkullStrip.nii.gz")).dataobj)
    zs = np.nonzero(classes.any(axis=(0, 1)))[0]
    at = int((zs.min() + zs.max() + 1) // 2)
    lower, upper, img, lab = split_z(itk / "KmeansTest_T1UCharRaw.nii.gz", itk / "KmeansTest_T1RawSkullStrip.nii.gz", at)
    for value in (4, 5, 6):
        task = out / f"kmeans-class-{value}"
        write_pair(task / "support", "t1_lower", *lower, img, lab)
        write_pair(task / "query", "t1_upper", *upper, img, lab)
        task_yaml(task, [value], 2, "percentile")
    print(f"tasks written to {out}")


if __name__ == "__main__":
    main()
