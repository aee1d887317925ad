"""Segmentation tasks from the atlas bundle (see make_bundle.py): anatomical shapes, real or synthesised looks.

A task = one target (a label, an anatomical group, or a few labels that meet in one slice) of one parcellation,
n slices along one axis where the target is present, cut to one square field of view (the whole brain, or a
zoom on the target) and resampled to size x size. The images are the real template where the grid has one,
or SynthSeg-style paintings of the whole label map (a random intensity per label for the task), so the model
learns shapes that are anatomical while the appearance varies.

Discrete choices (which map, label, axis, slices) are made on the CPU with a numpy Generator from small count
tables; the voxel work (slicing, painting, resampling) runs on the bank's device.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from synthetic import corrupt, paint


@dataclass
class AtlasMap:
    name: str
    labels: torch.Tensor        # (X, Y, Z) int16 on the device, 0..n
    image: torch.Tensor | None  # (X, Y, Z) uint8 on the device, or None
    n: int
    weight: float
    groups: np.ndarray          # (G, n + 1) bool lookup tables
    eligible: np.ndarray        # (n + 1,) labels that may be a training target alone
    heldout: np.ndarray         # (n + 1,) labels kept for validation
    counts: list                # per axis (n + 1, D_axis) int32 voxels of each label in each slice
    bbox: np.ndarray            # (n + 1, 3, 2) first and last index of each label along each axis


class AtlasBank:
    def __init__(self, path: str, device):
        self.device = torch.device(device)
        z = np.load(path)
        meta = json.loads(str(z["meta_json"]))
        self.content_sha256 = meta["content_sha256"]
        images = {g: torch.from_numpy(z[f"image_{g}"]).to(self.device)
                  for g, grid in enumerate(meta["grids"]) if grid["has_image"]}
        self.maps: list[AtlasMap] = []
        for m, info in enumerate(meta["maps"]):
            labels = z[f"labels_{m}"]
            n = info["n_labels"]
            sizes = np.bincount(labels.ravel().astype(np.int64), minlength=n + 1)
            heldout = z[f"heldout_{m}"]
            eligible = (sizes >= info["min_voxels"]) & ~heldout
            eligible[0] = False
            counts, bbox = [], np.zeros((n + 1, 3, 2), np.int64)
            for axis in range(3):
                moved = np.moveaxis(labels, axis, 0).astype(np.int64)
                depth = moved.shape[0]
                flat = moved.reshape(depth, -1)
                c = np.stack([np.bincount(flat[d], minlength=n + 1) for d in range(depth)], axis=1)
                counts.append(c.astype(np.int32))
                present = c > 0
                bbox[:, axis, 0] = np.where(present.any(1), present.argmax(1), 0)
                bbox[:, axis, 1] = np.where(present.any(1), depth - 1 - present[:, ::-1].argmax(1), 0)
            self.maps.append(AtlasMap(info["name"], torch.from_numpy(labels).to(self.device),
                                      images.get(info["grid"]), n, info["weight"], z[f"groups_{m}"],
                                      eligible, heldout, counts, bbox))
        w = np.array([mp.weight for mp in self.maps])
        self.map_p = w / w.sum()

    # ---- discrete choices (CPU) ----

    def _choose_target(self, mp: AtlasMap, rng: np.random.Generator, heldout: bool) -> np.ndarray | None:
        lut = np.zeros(mp.n + 1, bool)
        if heldout:
            pool = np.nonzero(mp.heldout)[0]
            if pool.size == 0:
                return None
            lut[rng.choice(pool)] = True
            return lut
        r = rng.random()
        pool = np.nonzero(mp.eligible)[0]
        if r < 0.2 or pool.size == 0:
            return mp.groups[rng.integers(len(mp.groups))].copy()
        first = rng.choice(pool)
        lut[first] = True
        if r > 0.8:  # a few labels that meet in one slice through the first
            axis = rng.integers(3)
            where = np.nonzero(mp.counts[axis][first])[0]
            here = np.nonzero(mp.counts[axis][:, rng.choice(where)] * mp.eligible)[0]
            if here.size:
                lut[rng.choice(here, size=min(len(here), rng.integers(1, 4)), replace=False)] = True
        return lut

    def _plan(self, n: int, rng: np.random.Generator, heldout: bool, zoom_p: float):
        for _ in range(100):
            mp = self.maps[rng.choice(len(self.maps), p=self.map_p)]
            lut = self._choose_target(mp, rng, heldout)
            if lut is None:
                continue
            axis = int(rng.integers(3))
            per_slice = mp.counts[axis][lut].sum(axis=0)
            if per_slice.max() == 0:
                continue
            candidates = np.nonzero(per_slice >= max(0.15 * per_slice.max(), min(4, per_slice.max())))[0]
            slices = rng.choice(candidates, size=n, replace=len(candidates) < n)
            return mp, lut, axis, slices
        raise RuntimeError("atlas bundle: no task with a present target found in 100 tries")

    def _window(self, mp: AtlasMap, lut: np.ndarray, axis: int, rng, zoom_p: float):
        """Square field of view (centre a, centre b, side) in the slice's pixel coordinates."""
        dims = [d for d in range(3) if d != axis]
        shape = [mp.labels.shape[d] for d in dims]
        if rng.random() < zoom_p:
            box = mp.bbox[lut][:, dims]                     # (k, 2, 2)
            lo, hi = box[:, :, 0].min(0), box[:, :, 1].max(0)
            extent = max(hi - lo + 1)
            side = max(extent * rng.uniform(1.3, 2.5), 40)
            side = min(side, max(shape) * 1.1)
            centre = (lo + hi) / 2 + rng.uniform(-0.15, 0.15, 2) * side
        else:
            side = max(shape) * rng.uniform(1.0, 1.15)
            centre = (np.array(shape) - 1) / 2 + rng.uniform(-0.05, 0.05, 2) * side
        return centre, side

    # ---- voxel work (device) ----

    def _grid(self, shape, centre, side, size):
        t = ((torch.arange(size, device=self.device, dtype=torch.float32) + 0.5) / size - 0.5) * float(side)
        pa = float(centre[0]) + t
        pb = float(centre[1]) + t
        ya = (2 * pa + 1) / shape[0] - 1
        xb = (2 * pb + 1) / shape[1] - 1
        gy, gx = torch.meshgrid(ya, xb, indexing="ij")
        return torch.stack([gx, gy], dim=-1)[None]

    def tasks(self, b: int, n: int, size: int, rng: np.random.Generator, gen: torch.Generator,
              heldout: bool = False, zoom_p: float = 0.5, real_p: float = 0.6):
        """b tasks of n images: images (b, n, size, size) in [0, 1], binary labels (b, n, size, size)."""
        images = torch.zeros(b, n, size, size, device=self.device)
        targets = torch.zeros(b, n, size, size, device=self.device)
        for i in range(b):
            mp, lut, axis, slices = self._plan(n, rng, heldout, zoom_p)
            centre, side = self._window(mp, lut, axis, rng, zoom_p)
            index = torch.from_numpy(slices).to(self.device)
            lab = mp.labels.index_select(axis, index).movedim(axis, 0).long()   # (n, A, B)
            grid = self._grid(lab.shape[1:], centre, side, size).expand(n, size, size, 2)
            # resampled as a soft mask and cut at 0.5: smooth outlines, no staircase when zoomed in
            mask = torch.from_numpy(lut).to(self.device)[lab].float()
            targets[i] = (_sample(mask, grid) > 0.5).float()
            if mp.image is not None and rng.random() < real_p:
                images[i] = _sample(mp.image.index_select(axis, index).movedim(axis, 0).float() / 255, grid)
            else:
                painted = paint(lab[None], mp.n + 1, gen)[0]
                if rng.random() < 0.7:  # background stays dark in most paintings, as in skull-stripped scans
                    painted = painted.masked_fill(lab == 0, 0.0)
                images[i] = _sample(painted, grid)
        return corrupt(images, gen), targets


def _sample(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    return F.grid_sample(x[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]
