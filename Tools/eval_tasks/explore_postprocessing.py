"""Explores post-processing of saved whole-volume probability maps, to choose what to measure with the tool.

    python Tools/eval_tasks/explore_postprocessing.py TASKS_DIR PROBS_DIR

PROBS_DIR holds one folder per task (TASK/) with the `NAME_prob.nii.gz` maps `universeg evaluate --probabilities`
wrote (measure_whole_volume.py --probabilities keeps them as OUT/SETTING/TASK/). Each variant (threshold, keep the
largest component, drop components under a volume, fill holes, smoothing across slices along axis 2) is applied
here with scipy.ndimage, an independent implementation, and scored against the query labels: mean 3D Dice over
volumes, false-shape slices (label-free slices along axis 2 given foreground) over label-free slices, target-free
volumes left without any foreground, and volumes whose found structure (predicted voxels on the label) the variant
erased whole. A variant
worth offering is then measured with `universeg evaluate` itself, whose numbers are the ones published.
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage


def labels_of(task: Path) -> list[int] | None:
    text = (task / "task.yaml").read_text() if (task / "task.yaml").exists() else ""
    m = re.search(r"^labels:\s*\[([^\]]*)\]", text, re.M)
    return [int(v) for v in m.group(1).split(",")] if m else None


def cleanup(mask: np.ndarray, voxel_ml: float, largest: bool, min_ml: float, fill: bool) -> np.ndarray:
    if largest or min_ml > 0:
        comp, n = ndimage.label(mask, structure=np.ones((3, 3, 3)))
        if n:
            sizes = ndimage.sum(mask, comp, index=np.arange(1, n + 1))
            keep = sizes * voxel_ml >= min_ml
            if largest:
                keep &= np.arange(n) == int(np.argmax(sizes))
            mask = np.isin(comp, np.nonzero(keep)[0] + 1)
    if fill:
        mask = ndimage.binary_fill_holes(mask)
    return mask


def score(pred: np.ndarray, truth: np.ndarray) -> tuple[float, int, int]:
    both, total = np.logical_and(pred, truth).sum(), pred.sum() + truth.sum()
    dice = 1.0 if total == 0 else 2 * both / total
    p_slices, t_slices = pred.any(axis=(0, 1)), truth.any(axis=(0, 1))
    return dice, int(np.sum(p_slices & ~t_slices)), int(np.sum(~t_slices))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tasks", type=Path)
    ap.add_argument("probs", type=Path)
    a = ap.parse_args()
    volumes = []
    for folder in sorted(p for p in a.probs.iterdir() if p.is_dir()):
        task = a.tasks / folder.name
        values = labels_of(task)
        for prob_file in sorted(folder.glob("*_prob.nii.gz")):
            name = prob_file.name[: -len("_prob.nii.gz")]
            lab = np.asanyarray(nib.load(str(task / "query" / f"{name}_label.nii.gz")).dataobj)
            truth = np.isin(lab, values) if values else lab > 0
            img = nib.load(str(prob_file))
            volumes.append((folder.name, name, np.asanyarray(img.dataobj).astype(np.float32), truth,
                            abs(np.linalg.det(img.affine[:3, :3])) / 1000))
    variants = [("as is", 0.5, False, 0, False, False)]
    variants += [(f"threshold {t}", t, False, 0, False, False) for t in (0.6, 0.7)]
    variants += [("largest component", 0.5, True, 0, False, False), ("fill holes", 0.5, False, 0, True, False)]
    variants += [(f"components >= {m} mL", 0.5, False, m, False, False) for m in (0.05, 0.2, 0.5, 1.0)]
    variants += [("smoothed across slices", 0.5, False, 0, False, True),
                 ("smoothed + components >= 0.2 mL", 0.5, False, 0.2, False, True)]
    print(f"{len(volumes)} query volumes\n")
    print("| variant | mean 3D Dice | false-shape slices | target-free volumes left empty | structures erased |")
    print("|---|---|---|---|---|")
    for label, threshold, largest, min_ml, fill, smooth in variants:
        dices, fp, empty, cleared, erased = [], 0, 0, 0, 0
        for _, _, prob, truth, voxel_ml in volumes:
            p = ndimage.correlate1d(prob, [0.25, 0.5, 0.25], axis=2, mode="nearest") if smooth else prob
            mask = cleanup(p >= threshold, voxel_ml, largest, min_ml, fill)
            d, f, e = score(mask, truth)
            dices.append(d)
            fp += f
            empty += e
            cleared += int(not truth.any() and not mask.any())
            erased += int(((p >= threshold) & truth).any() and not (mask & truth).any())
        absent = sum(not v[3].any() for v in volumes)
        print(f"| {label} | {np.mean(dices):.3f} | {fp}/{empty} ({100 * fp / max(empty, 1):.1f} %) | "
              f"{cleared} of {absent} | {erased} |")


if __name__ == "__main__":
    main()
