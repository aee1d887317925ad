"""Scores the tissue sample runs against the held-back tissue map, with nibabel only (not the tool's code).

    python Tools/sample_data/score_tissue_run.py [--data ../shared/data] [--out out]

The study is the anterior part (k >= the split) of the ITK k-means T1; its 3-class map (KmeansTest_T1RawSkullStrip,
values 4, 5, 6) was never given to the tool. Output label 1 = class 6, label 2 = class 5 (Pipelines/tissue-*.yaml).
Prints the 3D Dice of each class for out/tissue-nifti and out/tissue-dicom (whichever exist), after checking that
each label map lies on the study's grid (same shape and affine).
"""
import argparse
import os
from pathlib import Path

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path(os.environ.get("UNIVERSEG_DATA", REPO.parent / "shared" / "data")))
    p.add_argument("--out", type=Path, default=REPO / "out")
    a = p.parse_args()
    itk = a.data / "dev-eval" / "itk_kmeans_t1"
    classes = np.asarray(nib.load(str(itk / "KmeansTest_T1RawSkullStrip.nii.gz")).dataobj)
    zs = np.nonzero(classes.any(axis=(0, 1)))[0]
    at = int((zs.min() + zs.max() + 1) // 2)   # the split make_tissue_sample.py made
    truth = classes[..., at:]
    study = nib.load(str(REPO / "SampleData/tissue-study/t1part2/t1part2_image.nii.gz"))
    for run, path in [("tissue-nifti", "t1part2/t1part2_seg.nii.gz"), ("tissue-dicom", "t1part2-mr/S1_seg.nii.gz")]:
        seg_file = a.out / run / path
        if not seg_file.exists():
            continue
        seg = nib.load(str(seg_file))
        if seg.shape != study.shape or not np.allclose(seg.affine, study.affine, atol=1e-4):
            print(f"{run}: not on the study's grid: {seg.shape} {seg.affine.tolist()}")
            continue
        labels = np.asarray(seg.dataobj)
        scores = []
        for value, tissue in [(1, 6), (2, 5)]:
            pred, true = labels == value, truth == tissue
            scores.append(f"class {tissue} Dice {2 * np.sum(pred & true) / max(pred.sum() + true.sum(), 1):.3f}")
        print(f"{run}: " + ", ".join(scores))


if __name__ == "__main__":
    main()
