"""Builds development WHOLE-VOLUME evaluation tasks for `universeg evaluate`.

Why: the 2D protocol scores only the query slices that show the target, so it never sees the shapes a model
draws on the many slices of a real volume where the target is absent. Here every query is a whole volume in which
the target spans a minority of the slices along the slicing axis (axis 2), so a 3D score (and a count of
false-positive slices) measures whole-volume quality: false shapes drawn on label-free slices.

Development data only: ../shared/data/dev-eval, the held-out labels of ../shared/data/train (labels that the
training code, Tools/training/make_bundle.py, keeps for validation and never uses as a target), and synthetic
volumes. The blind evaluation set is never read.

    Tools/.venv/bin/python Tools/eval_tasks/make_volume_tasks.py [--data ../shared/data] [--out out/volume-tasks]
                                                                 [--preview]

(--data defaults to $UNIVERSEG_DATA or <repo>/../shared/data; --preview also writes out/.../previews/TASK.png,
the middle label slice of every support and query volume with the label outlined.) About 30 s on 2 cores. Every
random choice is seeded in the code: a rerun writes byte-identical files. Each task folder is rewritten whole.

Task families (task.yaml of every task: the foreground label values, `axis: 2`, `normalize: percentile`):

1. dev-eval: the five tasks of make_dev_eval_tasks.py (brain-lesion, lung-lesion, kmeans-class-{4,5,6}), unchanged.

2. atlas-<map>-<label>: one held-out parcellation label, support = one MNI template's T1 with the label, query =
   the OTHER template's T1 with the same parcellation carried over by affine (nearest neighbour). Maps native to
   the FSL MNI152 1 mm grid (HarvardOxford, JHU, Avgwmparc; Desikan and Destrieux resampled onto it exactly as
   make_bundle does) support on FSL MNI152 and query on ICBM 2009c asym; HCPEx (native to ICBM 2009c) the other
   way round. Both templates are in MNI space but were built by different nonlinear registrations, so the
   transferred label is only APPROXIMATELY right on the query template (misplaced by a few mm at boundaries): use
   these tasks to compare models and to count false shapes, not as exact anatomical truth. Both volumes are
   resampled to 2 mm isotropic RAS grids covering each template's brain box plus 4 mm (image trilinear by world
   position, label nearest; the 2 mm centres fall on 1 mm voxel centres, so nearest is an exact subsample), and
   label voxels outside the template's brain (T1 == 0) are dropped. The query keeps the whole brain. Images are
   float32 (the ICBM template's values are 0..98, too coarse for int16 after interpolation).
   Held-out labels are computed here exactly as make_bundle computes them, with its own loaders and constants
   (imported from Tools/training; the run stops if a chosen label is not held out); the candidates are printed with the best Dice any TRAINED label of any map reaches on
   them ("leak"), since the same structure can be held out in one map and trained in another (Desikan and
   Avgwmparc share FreeSurfer codes with different remapped ids).

3. synthetic-<k>: 96x96x64 volumes at 2 mm: a textured ellipsoid "body" with a bias field and noise (zero
   outside), distractor blobs with their own intensities and textures, and one target class whose intensity,
   texture, size range and approximate place are shared by the task's volumes. The target spans 15-50 % of the
   body's slices along axis 2. support/: 2 volumes with the target; query/: 1 with the target and 1 WITHOUT it
   (label all zero, distractors still there). Tasks vary target size, contrast and number of distractors.

Summary columns: slices = along the task's axis; non-blank = slices whose image is not one value throughout (universeg leaves
blank slices unsegmented; for zero-background volumes these are the slices inside the non-zero extent).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "Tools" / "training"))

import make_dev_eval_tasks as dev  # noqa: E402  (five dev-eval tasks)
from make_bundle import HELDOUT_MODULUS, MIN_VOXELS, load, read_names, resample_nearest  # noqa: E402
from pngplot import write_png  # noqa: E402

STEP_MM = 2.0       # atlas and synthetic voxel size
MARGIN_MM = 4.0     # added around each template's brain box
DEV_TASKS = ["brain-lesion", "lung-lesion", "kmeans-class-4", "kmeans-class-5", "kmeans-class-6"]

FSL_T1 = "fsl_mni152_1mm/MNI152_T1_1mm_brain.nii.gz"
ICBM_T1 = "icbm2009c_asym/mni_icbm152_t1_tal_nlin_asym_09c_brain.nii.gz"
FSL_MAPS = [  # (name, file) in make_bundle's order; all are resampled onto the FSL MNI152 1 mm grid
    ("HarvardOxford", "fsl_mni152_1mm/HarvardOxford-cort-maxprob-thr0-1mm.nii.gz"),
    ("JHU", "fsl_mni152_1mm/JHU-WhiteMatter-labels-1mm.nii.gz"),
    ("Avgwmparc", "fsl_mni152_1mm/Avgwmparc.nii.gz"),
    ("Desikan", "freesurfer_cvs_avg35/atlas_desikan_killiany.nii.gz"),
    ("Destrieux", "freesurfer_cvs_avg35/atlas_destrieux.nii.gz"),
]

# The chosen held-out labels (map, code). All are held out by make_bundle (checked at run time); the numbers in the
# comments are from this script's candidate listing (1 mm voxels; leak = best Dice of a trained label of any map).
# Every FreeSurfer deep-grey label that is held out (Left-Caudate, Putamen, VentralDC, Hippocampus, ...) is the same
# structure as a trained label of another map (leak 0.83-0.87), as is HCPEx Amygdala_L (0.81), so none is used.
ATLAS_LABELS = [
    # deep grey nucleus: medial pulvinar, 1870 vx, leak 0.30 (only as part of the whole FreeSurfer thalamus)
    ("HCPEx", 377),
    # small compact deep grey: right nucleus accumbens, 599 vx, leak 0.54 (FreeSurfer Right-Accumbens-area)
    ("HCPEx", 417),
    # white-matter tract: JHU 17, anterior limb of the internal capsule, 3138 vx, leak 0.11. FSL's JHU-labels.xml
    # calls 17 "... R", but in this copy (mricron-data, x-flipped affine) it lies at world x = -19 mm, the LEFT
    # hemisphere, so the task is named by the code only
    ("JHU", 17),
    # cortical region: ctx_lh_S_front_sup (superior frontal sulcus), 4192 vx, leak 0.25, high in the brain
    ("Destrieux", 11155),
    # large: HarvardOxford 7 = Precentral Gyrus (both hemispheres; thr0 maxprob, so it takes in white matter too),
    # 108067 vx, the largest held-out label, leak 0.28; spans about half of the axial slices
    ("HarvardOxford", 7),
    # gyral white matter low in the brain: wm-lh-inferiortemporal, 5740 vx, leak 0.11
    ("Avgwmparc", 3009),
]

# synthetic tasks: (k, target size, contrast (fraction of tissue intensity), sign of the contrast, distractors)
SYNTH_SEED = 20240917
SYNTH_SHAPE = (96, 96, 64)
SYNTH_TASKS = [
    (1, "small", 0.60, +1, 3),
    (2, "small", 0.20, +1, 8),
    (3, "large", 0.50, -1, 8),
    (4, "large", 0.15, -1, 3),
    (5, "medium", 0.45, +1, 12),
    (6, "medium", 0.18, -1, 5),
]
TARGET_RADII = {  # in-plane radii and z semi-axis ranges, voxels
    "small": ((3.5, 5.5), (4.5, 6.0)),
    "medium": ((6.0, 9.0), (6.5, 8.5)),
    "large": ((10.0, 14.0), (10.0, 12.5)),
}


# ---------------------------------------------------------------- writing

def save(array: np.ndarray, affine: np.ndarray, path: Path, dtype) -> None:
    """NIfTI-1 with sform = qform = affine, both code 1 (as make_dev_eval_tasks.save), units mm."""
    img = nib.Nifti1Image(np.asarray(array).astype(dtype), affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))


def write_volume(folder: Path, name: str, image: np.ndarray, label: np.ndarray, affine: np.ndarray, dtype) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save(image, affine, folder / f"{name}_image.nii.gz", dtype)
    save(label, affine, folder / f"{name}_label.nii.gz", np.uint8)


def fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


# ---------------------------------------------------------------- atlas tasks

def heldout(labels: np.ndarray) -> dict[int, tuple[int, int]]:
    """{code: (remapped id, voxels)} of the labels make_bundle._add_map holds out on this (training) grid."""
    codes = np.unique(labels)
    codes = codes if codes[0] == 0 else np.concatenate([[0], codes])
    remap = np.zeros(int(codes.max()) + 1, np.int64)
    remap[codes.astype(np.int64)] = np.arange(len(codes))
    n = len(codes) - 1
    sizes = np.bincount(remap[labels.astype(np.int64)].ravel(), minlength=n + 1)
    if n < 40:
        return {}
    # make_bundle counts sizes inside a box that contains every labelled voxel, so full-grid sizes are the same
    return {int(codes[i]): (i, int(sizes[i])) for i in range(n + 1)
            if i % HELDOUT_MODULUS == 7 and sizes[i] >= MIN_VOXELS}


def trained(labels: np.ndarray) -> list[int]:
    """Codes make_bundle lets training pick as a target alone (>= MIN_VOXELS, not held out)."""
    held = heldout(labels)
    codes, sizes = np.unique(labels, return_counts=True)
    return [int(c) for c, s in zip(codes, sizes) if c != 0 and s >= MIN_VOXELS and int(c) not in held]


def load_atlases(train: Path):
    """Templates and label maps on their training grids, as make_bundle.build loads them."""
    fsl, fsl_aff = load(train / FSL_T1)
    icbm, icbm_aff = load(train / ICBM_T1)
    dk = read_names(train / "freesurfer_cvs_avg35/labels_desikan_killiany.csv")
    dx = read_names(train / "freesurfer_cvs_avg35/labels_destrieux.csv")
    wm = {c: "wm-" + dk[c - 2000][4:] for c in range(3000, 5000) if c - 2000 in dk}
    wm.update({5001: "Left-UnsegmentedWhiteMatter", 5002: "Right-UnsegmentedWhiteMatter"})
    names = {"HarvardOxford": {}, "JHU": {}, "Avgwmparc": {**dk, **wm}, "Desikan": dk, "Destrieux": dx,
             "HCPEx": read_names(train / "icbm2009c_asym/HCPEx.txt")}
    templates = {"mni152fsl": (fsl, fsl_aff), "icbm2009c": (icbm, icbm_aff)}
    hcp, _ = load(train / "icbm2009c_asym/HCPEx.nii.gz")
    maps = {"HCPEx": (np.rint(hcp).astype(np.int32), icbm_aff, "icbm2009c")}
    for name, rel in FSL_MAPS:
        lab, laff = load(train / rel)
        maps[name] = (resample_nearest(np.rint(lab).astype(np.int32), laff, fsl.shape, fsl_aff), fsl_aff, "mni152fsl")
    return templates, maps, names


def list_candidates(maps, names, templates) -> dict[tuple[str, int], dict]:
    """Prints every held-out label of the maps with >= 40 labels; returns {(map, code): info}."""
    fsl, fsl_aff = templates["mni152fsl"]
    on_fsl = {m: lab if grid == "mni152fsl" else resample_nearest(lab, aff, fsl.shape, fsl_aff)
              for m, (lab, aff, grid) in maps.items()}
    sizes_fsl = {m: np.bincount(lab.ravel()) for m, lab in on_fsl.items()}
    allowed = {m: np.array(trained(maps[m][0]), np.int64) for m in maps}
    out = {}
    print("held-out labels (make_bundle: maps with >= 40 labels, remapped id % 10 == 7, >= 60 voxels):")
    print(f"  {'map':13s} {'id':>4s} {'code':>6s} {'voxels':>7s} {'z 1mm':>8s} {'leak':>5s}  name  (best trained label)")
    for m, (lab, aff, grid) in maps.items():
        for code, (i, size) in heldout(lab).items():
            mask = on_fsl[m] == code
            best, where = 0.0, ""
            for o, olab in on_fsl.items():
                ov = np.bincount(olab[mask], minlength=len(sizes_fsl[o]))
                ok = allowed[o]
                dice = 2 * ov[ok] / (mask.sum() + sizes_fsl[o][ok])
                if dice.size and dice.max() > best:
                    best, where = float(dice.max()), f"{o}:{int(ok[dice.argmax()])}"
            zs = np.nonzero((lab == code).any(axis=(0, 1)))[0]
            name = names[m].get(code, "")
            out[(m, code)] = {"id": i, "voxels": size, "name": name, "leak": best}
            print(f"  {m:13s} {i:4d} {code:6d} {size:7d} {f'{zs[0]}-{zs[-1]}':>8s} {best:5.2f}  {name or '-'}  ({where})")
    return out


def brain_grid(image: np.ndarray, affine: np.ndarray):
    """2 mm RAS grid over the world box of image > 0 plus MARGIN_MM, on even millimetres."""
    idx = np.argwhere(image > 0)
    corners = np.array([[a, b, c, 1.0] for a in (idx[:, 0].min(), idx[:, 0].max())
                        for b in (idx[:, 1].min(), idx[:, 1].max()) for c in (idx[:, 2].min(), idx[:, 2].max())])
    world = (affine @ corners.T)[:3]
    lo = np.floor((world.min(axis=1) - MARGIN_MM) / STEP_MM) * STEP_MM
    hi = np.ceil((world.max(axis=1) + MARGIN_MM) / STEP_MM) * STEP_MM
    shape = tuple(int(round(v)) + 1 for v in (hi - lo) / STEP_MM)
    grid = np.diag([STEP_MM, STEP_MM, STEP_MM, 1.0])
    grid[:3, 3] = lo
    assert nib.aff2axcodes(grid) == ("R", "A", "S")
    return shape, grid


def resample_linear(src: np.ndarray, src_affine: np.ndarray, shape, affine: np.ndarray) -> np.ndarray:
    """Trilinear by world position, 0 outside the source."""
    m = np.linalg.inv(src_affine) @ affine
    ijk = np.indices(shape, dtype=np.float64).reshape(3, -1)
    coords = m[:3, :3] @ ijk + m[:3, 3:]
    out = ndimage.map_coordinates(src.astype(np.float32), coords, order=1, mode="constant", cval=0.0)
    return out.reshape(shape).astype(np.float32)


def task_name(m: str, code: int, name: str) -> str:
    return f"atlas-{m}-{name or code}"


def build_atlas_tasks(train: Path, out: Path) -> list[str]:
    templates, maps, names = load_atlases(train)
    candidates = list_candidates(maps, names, templates)
    grids = {}
    for t, (img, aff) in templates.items():
        shape, grid = brain_grid(img, aff)
        grids[t] = (shape, grid, resample_linear(img, aff, shape, grid),
                    resample_nearest((img > 0).astype(np.uint8), aff, shape, grid) > 0)
    written = []
    print("atlas tasks (2 mm voxels):")
    for m, code in ATLAS_LABELS:
        assert (m, code) in candidates, f"{m} {code} is not a held-out label"
        lab, aff, home = maps[m]
        other = "icbm2009c" if home == "mni152fsl" else "mni152fsl"
        name = task_name(m, code, candidates[(m, code)]["name"])
        task = fresh(out / name)
        report = []
        for sub, t in (("support", home), ("query", other)):
            shape, grid, image, brain = grids[t]
            target = resample_nearest((lab == code).astype(np.uint8), aff, shape, grid) > 0
            inside = (target & brain).sum() / max(target.sum(), 1)
            target &= brain
            assert target.any(), f"{name}: empty {sub} label"
            write_volume(task / sub, t, image, target, grid, np.float32)
            report.append(f"{sub} {t} {target.sum()} vx ({100 * inside:.0f}% inside its brain)")
        dev.task_yaml(task, [1], 2, "percentile")
        print(f"  {name}: " + ", ".join(report))
        written.append(name)
    return written


# ---------------------------------------------------------------- synthetic tasks

def smooth_noise(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    """Gaussian-filtered white noise, zero mean, unit standard deviation."""
    g = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="reflect")
    return (g - g.mean()) / max(g.std(), 1e-12)


def rotation(rng: np.random.Generator, in_plane_only: bool) -> np.ndarray:
    if in_plane_only:
        a = rng.uniform(0, np.pi)
        return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    return q * np.sign(np.diag(r))


def blob(rng, shape, centre, radii, rot, deform: float) -> np.ndarray:
    """Ellipsoid (centre, semi-axes radii along the columns of rot) whose surface is pushed by smooth noise."""
    reach = max(radii) * (1 + deform) + 2
    lo = np.maximum(np.floor(np.asarray(centre) - reach).astype(int), 0)
    hi = np.minimum(np.ceil(np.asarray(centre) + reach).astype(int) + 1, shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    d = np.indices(hi - lo, dtype=np.float64).reshape(3, -1) + lo[:, None] - np.asarray(centre)[:, None]
    f = (((rot.T @ d) / np.asarray(radii)[:, None]) ** 2).sum(axis=0).reshape(hi - lo)
    f = f + deform * smooth_noise(rng, f.shape, max(1.5, min(radii) / 2))
    mask = np.zeros(shape, bool)
    mask[box] = f < 1
    return mask


def synthetic_volume(rng, spec: dict, with_target: bool):
    """One volume: (int16 image, uint8 label)."""
    shape = SYNTH_SHAPE
    c = (np.array(shape) - 1) / 2 + rng.uniform(-2, 2, 3)
    body_r = np.array([rng.uniform(40, 44), rng.uniform(36, 42), rng.uniform(26, 29)])
    body = blob(rng, shape, c, body_r, np.eye(3), 0.12)
    tissue = 1.0 + 0.04 * smooth_noise(rng, shape, 2.0) + 0.03 * smooth_noise(rng, shape, 6.0)
    ideal = np.where(body, tissue, 0.0)
    zs = np.nonzero(body.any(axis=(0, 1)))[0]
    n_body = zs[-1] - zs[0] + 1
    for _ in range(spec["distractors"]):
        r = rng.uniform(3, 11, 3)
        centre = c + rng.uniform(-0.65, 0.65, 3) * body_r
        while True:
            value = rng.uniform(0.35, 1.8)
            if abs(value - spec["value"]) >= max(0.08, spec["contrast"] / 2) and abs(value - 1) >= 0.1:
                break
        mask = blob(rng, shape, centre, r, rotation(rng, False), 0.25) & body
        ideal[mask] = value * (1 + rng.uniform(0.02, 0.12) * smooth_noise(rng, shape, rng.uniform(1, 3)))[mask]
    label = np.zeros(shape, np.uint8)
    if with_target:
        for _ in range(100):  # redraw until the target spans 15-50 % of the body's slices
            (rxy_lo, rxy_hi), (rz_lo, rz_hi) = TARGET_RADII[spec["size"]]
            r = np.array([rng.uniform(rxy_lo, rxy_hi), rng.uniform(rxy_lo, rxy_hi), rng.uniform(rz_lo, rz_hi)])
            room = np.maximum(body_r - r - 3, 0)
            centre = c + spec["place"] * room + rng.uniform(-3, 3, 3)
            mask = blob(rng, shape, centre, r, rotation(rng, True), 0.2) & body
            tz = np.nonzero(mask.any(axis=(0, 1)))[0]
            if tz.size and 0.15 <= tz.size / n_body <= 0.5 and np.all(np.diff(tz) == 1):
                break
        else:
            raise RuntimeError("synthetic target: no draw spans 15-50 % of the slices")
        tex = 1 + spec["texture"] * smooth_noise(rng, shape, spec["texture_sigma"])
        ideal[mask] = (spec["value"] * tex)[mask]
        label[mask] = 1
    bias = 1 + 0.08 * smooth_noise(rng, shape, 16.0)
    image = ndimage.gaussian_filter(ideal, 0.7) * bias + rng.normal(0, 0.03, shape)
    image = np.where(body, np.clip(image, 0.02, None), 0.0)
    return np.rint(image * 1000).astype(np.int16), label


def build_synthetic_tasks(out: Path) -> list[str]:
    affine = np.diag([STEP_MM, STEP_MM, STEP_MM, 1.0])
    affine[:3, 3] = -(np.array(SYNTH_SHAPE) - 1) / 2 * STEP_MM
    written = []
    for k, size, contrast, sign, distractors in SYNTH_TASKS:
        trng = np.random.default_rng([SYNTH_SEED, k])
        spec = {"size": size, "contrast": contrast, "value": 1 + sign * contrast, "distractors": distractors,
                "place": trng.uniform(-0.6, 0.6, 3), "texture": trng.uniform(0.03, 0.15),
                "texture_sigma": trng.uniform(0.8, 2.5)}
        name = f"synthetic-{k}"
        task = fresh(out / name)
        for v, (sub, vol, with_target) in enumerate([("support", "s1", True), ("support", "s2", True),
                                                     ("query", "q1", True), ("query", "q2_absent", False)]):
            image, label = synthetic_volume(np.random.default_rng([SYNTH_SEED, k, v]), spec, with_target)
            write_volume(task / sub, vol, image, label, affine, np.int16)
        dev.task_yaml(task, [1], 2, "percentile")
        print(f"  {name}: target {size}, contrast {sign * contrast:+.2f}, {distractors} distractors")
        written.append(name)
    return written


# ---------------------------------------------------------------- summary and previews

def task_labels(task: Path) -> list[int]:
    for line in (task / "task.yaml").read_text().splitlines():
        if line.startswith("labels:"):
            return [int(v) for v in line.split("[", 1)[1].split("]", 1)[0].split(",")]
    raise ValueError(f"{task}/task.yaml: no labels")


def task_axis(task: Path) -> int:
    for line in (task / "task.yaml").read_text().splitlines():
        if line.startswith("axis:"):
            return int(line.split(":", 1)[1])
    raise ValueError(f"{task}/task.yaml: no axis")


def pairs(folder: Path):
    for image in sorted(folder.glob("*_image.nii.gz")):
        yield image.name[: -len("_image.nii.gz")], image, image.with_name(image.name.replace("_image.", "_label."))


def summary(out: Path, tasks: list[str]) -> None:
    """Per query volume, slices along the task's axis: all, with label, label-free, non-blank, label-free non-blank."""
    head = f"{'task':40s} {'query volume':14s} {'shape':>13s} {'slices':>6s} {'label':>5s} {'free':>5s} " \
           f"{'non-blank':>9s} {'free non-blank':>14s}"
    print(head)
    for name in tasks:
        labels, axis = task_labels(out / name), task_axis(out / name)
        for vol, image_path, label_path in pairs(out / name / "query"):
            raw = np.asanyarray(nib.load(str(image_path)).dataobj)
            shape = "x".join(map(str, raw.shape))
            img = np.moveaxis(raw, axis, -1)
            fg = np.isin(np.moveaxis(np.asanyarray(nib.load(str(label_path)).dataobj), axis, -1), labels)
            with_label = fg.any(axis=(0, 1))
            flat = img.reshape(-1, img.shape[2])
            non_blank = flat.min(axis=0) != flat.max(axis=0)
            print(f"{name:40s} {vol:14s} {shape:>13s} {img.shape[2]:6d} {int(with_label.sum()):5d} "
                  f"{int((~with_label).sum()):5d} {int(non_blank.sum()):9d} {int((non_blank & ~with_label).sum()):14d}"
                  f"  ({100 * (non_blank & ~with_label).sum() / max(non_blank.sum(), 1):.0f}%)")


def preview(out: Path, name: str) -> None:
    """Middle label slice (along axis 2) of every support and query volume, label outlined in red."""
    labels = task_labels(out / name)
    panels = []
    for sub in ("support", "query"):
        for _, image_path, label_path in pairs(out / name / sub):
            img = np.asanyarray(nib.load(str(image_path)).dataobj).astype(np.float32)
            fg = np.isin(np.asanyarray(nib.load(str(label_path)).dataobj), labels)
            zs = np.nonzero(fg.any(axis=(0, 1)))[0]
            if zs.size == 0:
                zs = np.nonzero(img.reshape(-1, img.shape[2]).max(axis=0) > 0)[0]
            k = int(zs[len(zs) // 2]) if zs.size else img.shape[2] // 2
            sl, m = img[:, :, k].T[::-1], fg[:, :, k].T[::-1]   # rows: axis 1 reversed (anterior up), cols: axis 0
            nz = sl[sl != 0]
            lo, hi = np.percentile(nz, [0.5, 99.5]) if nz.size else (0, 1)
            grey = np.clip((sl - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
            rgb = np.repeat(grey[..., None], 3, axis=2)
            edge = m & ~ndimage.binary_erosion(m)
            rgb[edge] = (255, 0, 0)
            scale = max(1, 384 // max(rgb.shape[:2]))
            panels.append(np.kron(rgb, np.ones((scale, scale, 1), np.uint8)))
    h = max(p.shape[0] for p in panels)
    row = [np.pad(p, ((0, h - p.shape[0]), (0, 6), (0, 0)), constant_values=255) for p in panels]
    (out / "previews").mkdir(exist_ok=True)
    write_png(str(out / "previews" / f"{name}.png"), np.concatenate(row, axis=1))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path(os.environ.get("UNIVERSEG_DATA", REPO.parent / "shared" / "data")))
    p.add_argument("--out", type=Path, default=REPO / "out" / "volume-tasks")
    p.add_argument("--preview", action="store_true", help="also write previews/TASK.png")
    args = p.parse_args(argv)
    start = time.time()
    for name in DEV_TASKS:
        fresh(args.out / name)
    dev.build(args.data, args.out)
    tasks = list(DEV_TASKS)
    tasks += build_atlas_tasks(args.data / "train", args.out)
    print("synthetic tasks:")
    tasks += build_synthetic_tasks(args.out)
    print()
    summary(args.out, tasks)
    if args.preview:
        for name in tasks:
            preview(args.out, name)
        print(f"previews in {args.out / 'previews'}")
    print(f"{len(tasks)} tasks in {args.out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
