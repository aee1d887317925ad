#!/usr/bin/env python3
"""Builds the tissue sample: the ITK k-means T1 (Apache-2.0; 128x128x62, 2x2x3 mm, LSA) split along voxel axis 2
at the middle of the brain. The posterior part's image and 3-class tissue map become a support library; the anterior
part's image (no label) becomes the study. Each part keeps its exact world position.

    python Tools/sample_data/make_tissue_sample.py [--data ../shared/data]
"""
import argparse
import os
from pathlib import Path

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[2]


def save(data, affine, path, dtype):
    image = nib.Nifti1Image(data.astype(dtype), affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units("mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(image, str(path))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("UNIVERSEG_DATA", REPO.parent / "shared" / "data")))
    args = parser.parse_args()
    itk = args.data / "dev-eval" / "itk_kmeans_t1"
    t1 = nib.load(str(itk / "KmeansTest_T1UCharRaw.nii.gz"))
    classes = np.asarray(nib.load(str(itk / "KmeansTest_T1RawSkullStrip.nii.gz")).dataobj)
    image = np.asarray(t1.dataobj)
    zs = np.nonzero(classes.any(axis=(0, 1)))[0]
    at = int((zs.min() + zs.max() + 1) // 2)
    upper = t1.affine.copy()
    upper[:3, 3] = t1.affine[:3, :3] @ np.array([0, 0, at]) + t1.affine[:3, 3]
    save(image[..., :at], t1.affine, REPO / "SampleData/support/t1-tissue/t1part1_image.nii.gz", np.int16)
    save(classes[..., :at], t1.affine, REPO / "SampleData/support/t1-tissue/t1part1_label.nii.gz", np.uint8)
    save(image[..., at:], upper, REPO / "SampleData/tissue-study/t1part2/t1part2_image.nii.gz", np.int16)
    print(f"split at k={at}: support k<{at}, study k>={at}")


if __name__ == "__main__":
    main()
