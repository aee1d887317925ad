"""Segmentation tasks from the atlas bundle (see make_bundle.py): anatomical shapes, real or synthesised looks.

A task = one target (a label, an anatomical group, or a few labels that meet in one slice) of one parcellation,
n slices along one axis where the target is present, cut to one square field of view (the whole brain, or a
zoom on the target) and resampled to size x size. The images are the real template where the grid has one,
or SynthSeg-style paintings of the whole label map (a random intensity per label for the task), so the model
learns shapes that are anatomical while the appearance varies.

With empty_p > 0, that share of tasks also has label-free slices (support and/or query, synthetic.empty_layout's
rule): slices along the task's axis where the target is absent but the label map shows anatomy inside the task's
window, cut with the same window and painted with the same table, favouring slices just past the target's ends
(where a whole-volume run meets them), so the model learns to draw nothing there.

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
    shape: tuple                # (X, Y, Z) of its grid
    grid: int                   # index of its grid (image) in the bank
    has_image: bool
    n: int
    weight: float
    groups: np.ndarray          # (G, n + 1) bool lookup tables
    eligible: np.ndarray        # (n + 1,) labels that may be a training target alone
    heldout: np.ndarray         # (n + 1,) labels kept for validation
    counts: list                # per axis (n + 1, D_axis) int32 voxels of each label in each slice
    bbox: np.ndarray            # (n + 1, 3, 2) first and last index of each label along each axis
    fg_count: list              # per axis (D_axis,) labelled voxels (any label > 0) in each slice
    fg_box: list                # per axis (D_axis, 2, 2) in-plane first/last index of labelled voxels per slice


class AtlasBank:
    def __init__(self, path: str, device):
        self.device = torch.device(device)
        z = np.load(path)
        meta = json.loads(str(z["meta_json"]))
        self.content_sha256 = meta["content_sha256"]
        grids = meta["grids"]
        # every volume padded into one common box, as float32: grid_sample then cuts all slices of all tasks of
        # one map in one call (a call per task would launch hundreds of small GPU kernels per step)
        self.box = tuple(max(g["shape"][d] for g in grids) for d in range(3))
        self.labels = torch.zeros(len(meta["maps"]), 1, *self.box)
        self.images = torch.zeros(len(grids), 1, *self.box)
        for g, grid in enumerate(grids):
            if grid["has_image"]:
                img = z[f"image_{g}"]
                self.images[g, 0, :img.shape[0], :img.shape[1], :img.shape[2]] = torch.from_numpy(img).float() / 255
        self.maps: list[AtlasMap] = []
        self.max_labels = 0
        for m, info in enumerate(meta["maps"]):
            labels = z[f"labels_{m}"]
            self.labels[m, 0, :labels.shape[0], :labels.shape[1], :labels.shape[2]] = torch.from_numpy(labels).float()
            n = info["n_labels"]
            self.max_labels = max(self.max_labels, n)
            sizes = np.bincount(labels.ravel().astype(np.int64), minlength=n + 1)
            heldout = z[f"heldout_{m}"]
            eligible = (sizes >= info["min_voxels"]) & ~heldout
            eligible[0] = False
            counts, bbox, fg_count, fg_box = [], np.zeros((n + 1, 3, 2), np.int64), [], []
            for axis in range(3):
                moved = np.moveaxis(labels, axis, 0).astype(np.int64)
                depth = moved.shape[0]
                flat = moved.reshape(depth, -1)
                c = np.stack([np.bincount(flat[d], minlength=n + 1) for d in range(depth)], axis=1)
                counts.append(c.astype(np.int32))
                present = c > 0
                bbox[:, axis, 0] = np.where(present.any(1), present.argmax(1), 0)
                bbox[:, axis, 1] = np.where(present.any(1), depth - 1 - present[:, ::-1].argmax(1), 0)
                fg_count.append(c[1:].sum(axis=0))
                fg = np.moveaxis(labels, axis, 0) > 0
                box = np.zeros((depth, 2, 2), np.int64)
                for k, along in enumerate((fg.any(axis=2), fg.any(axis=1))):   # (D, first), (D, second) in-plane
                    size = along.shape[1]
                    box[:, k, 0] = np.where(along.any(1), along.argmax(1), 0)
                    box[:, k, 1] = np.where(along.any(1), size - 1 - along[:, ::-1].argmax(1), -1)
                fg_box.append(box)
            self.maps.append(AtlasMap(info["name"], tuple(labels.shape), info["grid"],
                                      grids[info["grid"]]["has_image"], n, info["weight"], z[f"groups_{m}"],
                                      eligible, heldout, counts, bbox, fg_count, fg_box))
        self.labels = self.labels.to(self.device)
        self.images = self.images.to(self.device)
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
            index = int(rng.choice(len(self.maps), p=self.map_p))
            mp = self.maps[index]
            lut = self._choose_target(mp, rng, heldout)
            if lut is None:
                continue
            axis = int(rng.integers(3))
            per_slice = mp.counts[axis][lut].sum(axis=0)
            if per_slice.max() == 0:
                continue
            candidates = np.nonzero(per_slice >= max(0.15 * per_slice.max(), min(4, per_slice.max())))[0]
            slices = rng.choice(candidates, size=n, replace=len(candidates) < n)
            return index, lut, axis, slices
        raise RuntimeError("atlas bundle: no task with a present target found in 100 tries")

    def _window(self, mp: AtlasMap, lut: np.ndarray, axis: int, rng, zoom_p: float):
        """Square field of view (centre a, centre b, side) in the slice's pixel coordinates."""
        dims = [d for d in range(3) if d != axis]
        shape = [mp.shape[d] for d in dims]
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

    @staticmethod
    def _empty_layout(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
        """Label-free positions of one task of n images (n - 1 supports, then the query): (n,) bool.

        The rule of synthetic.empty_layout (see there), drawn with numpy for one task.
        """
        s, half = n - 1, n // 2
        layout = np.zeros(n, bool)
        if rng.random() >= p:
            return layout
        query = True if min(half, s - 1) < 1 else bool(rng.random() < 0.5)
        cap = max(min(half - int(query), s - 1), 0)
        k = int(rng.integers(1, cap + 1)) if cap >= 1 else 0
        if query and rng.random() < 1 / 3:
            k = 0
        layout[-1] = query
        if k:
            layout[1 + rng.choice(s - 1, size=k, replace=False)] = True   # support 0 keeps the target
        return layout

    def _empty_slices(self, mp: AtlasMap, lut: np.ndarray, axis: int, centre, side: float):
        """Slices along axis without the target that show anatomy in the window: (candidates, probabilities).

        A candidate has no voxel of the target, at least 10 % of the labelled voxels of the axis's fullest slice
        (not a sliver at the brain's edge), and its labelled box covers at least 20 % of the square window (a
        zoomed window still shows tissue). Slices within about 5 % of the depth of the target's ends weigh up to
        5 times more: a whole-volume run meets those right after the structure ends.
        """
        per_slice = mp.counts[axis][lut].sum(axis=0)
        fg = mp.fg_count[axis]
        box = mp.fg_box[axis]
        lo = np.asarray(centre) - side / 2
        hi = np.asarray(centre) + side / 2
        overlap = np.clip(np.minimum(hi[None], box[:, :, 1] + 1) - np.maximum(lo[None], box[:, :, 0]), 0, None)
        ok = (per_slice == 0) & (fg > 0) & (fg >= 0.1 * fg.max()) & (overlap.prod(axis=1) >= 0.2 * side * side)
        candidates = np.nonzero(ok)[0]
        if candidates.size == 0:
            return candidates, None
        depth = per_slice.shape[0]
        present = np.nonzero(per_slice)[0]
        dist = np.minimum(np.abs(candidates - present.min()), np.abs(candidates - present.max()))
        w = 1 + 4 * np.exp(-dist / max(3.0, 0.05 * depth))
        return candidates, w / w.sum()

    # ---- voxel work (device) ----

    def tasks(self, b: int, n: int, size: int, rng: np.random.Generator, gen: torch.Generator,
              heldout: bool = False, zoom_p: float = 0.5, real_p: float = 0.6, empty_p: float = 0.0,
              return_layout: bool = False):
        """b tasks of n images: images (b, n, size, size) in [0, 1], binary labels (b, n, size, size).

        empty_p: share of tasks with label-free slices (_empty_layout, _empty_slices); 0 draws exactly the tasks it
        drew before this option existed. A task whose target leaves no label-free slice with anatomy in its window
        (e.g. the whole-brain mask) stays all positive. return_layout adds the (b, n) bool layout (on the CPU).
        """
        plans = []
        for _ in range(b):
            index, lut, axis, slices = self._plan(n, rng, heldout, zoom_p)
            centre, side = self._window(self.maps[index], lut, axis, rng, zoom_p)
            layout = np.zeros(n, bool)
            if empty_p > 0:
                layout = self._empty_layout(n, empty_p, rng)
                if layout.any():
                    candidates, prob = self._empty_slices(self.maps[index], lut, axis, centre, side)
                    if candidates.size:
                        slices = slices.copy()
                        slices[layout] = rng.choice(candidates, size=int(layout.sum()), p=prob,
                                                    replace=candidates.size < layout.sum())
                    else:
                        layout[:] = False
            plans.append((index, lut, axis, slices, centre, side, layout))
        plans.sort(key=lambda p: p[0])  # tasks of one map are contiguous: one grid_sample per map
        # all per-task numbers in one host-to-device copy: a copy per task would wait for all queued GPU work
        numbers = np.zeros((b, 4 + n + self.max_labels + 1), np.float32)
        for i, (index, lut, axis, slices, centre, side, _) in enumerate(plans):
            numbers[i, :4] = [axis, centre[0], centre[1], side]
            numbers[i, 4:4 + n] = slices
            numbers[i, 4 + n:4 + n + len(lut)] = lut
        numbers = torch.from_numpy(numbers)
        if self.device.type == "cuda":
            numbers = numbers.pin_memory()
        numbers = numbers.to(self.device, non_blocking=True)
        grid = self._grids(numbers[:, :4], numbers[:, 4:4 + n], size)            # (b, n, size, size, 3)
        labels, real = [], []
        for index in sorted(set(p[0] for p in plans)):
            rows = [i for i, p in enumerate(plans) if p[0] == index]
            g = grid[rows[0]:rows[-1] + 1].reshape(1, len(rows) * n, size, size, 3)
            lab = F.grid_sample(self.labels[index:index + 1], g, mode="nearest", align_corners=True)
            labels.append(lab.view(len(rows), n, size, size))
            mp = self.maps[index]
            if mp.has_image:
                img = F.grid_sample(self.images[mp.grid:mp.grid + 1], g, mode="bilinear", align_corners=True)
                real.append(img.view(len(rows), n, size, size))
            else:
                real.append(torch.zeros(len(rows), n, size, size, device=self.device))
        labels = torch.cat(labels).long()
        luts = numbers[:, 4 + n:]
        targets = luts.gather(1, labels.flatten(1)).view(b, n, size, size)
        painted = paint(labels, self.max_labels + 1, gen)
        dark = torch.rand(b, 1, 1, 1, generator=gen, device=self.device) < 0.7   # skull-stripped look
        painted = torch.where(dark & (labels == 0), torch.zeros_like(painted), painted)
        use_real = torch.tensor([self.maps[p[0]].has_image and rng.random() < real_p for p in plans],
                                device="cpu").view(b, 1, 1, 1)
        if self.device.type == "cuda":
            use_real = use_real.pin_memory()
        use_real = use_real.to(self.device, non_blocking=True)
        images = torch.where(use_real, torch.cat(real), painted)
        if return_layout:
            return corrupt(images, gen), targets, torch.from_numpy(np.stack([p[6] for p in plans]))
        return corrupt(images, gen), targets

    def _grids(self, params: torch.Tensor, slices: torch.Tensor, size: int) -> torch.Tensor:
        """Sampling points (b, n, size, size, 3) in the padded box, normalised for align_corners=True.

        params (b, 4): axis, window centre along the first and second in-plane axes, window side (voxels);
        slices (b, n): slice index along the axis.
        """
        b, n = slices.shape
        t = ((torch.arange(size, device=self.device, dtype=torch.float32) + 0.5) / size - 0.5)
        axis = params[:, 0].view(b, 1, 1, 1)
        first = (params[:, 1:2] + t[None] * params[:, 3:4]).view(b, 1, size, 1).expand(b, n, size, size)
        second = (params[:, 2:3] + t[None] * params[:, 3:4]).view(b, 1, 1, size).expand(b, n, size, size)
        s = slices.view(b, n, 1, 1).expand(b, n, size, size)
        x = torch.where(axis == 0, s, first)
        y = torch.where(axis == 0, first, torch.where(axis == 1, s, second))
        z = torch.where(axis == 2, s, second)
        norm = lambda v, d: v * (2.0 / (self.box[d] - 1)) - 1  # noqa: E731
        # grid_sample's last grid dim is (W, H, D) = (z, y, x) of an (X, Y, Z) volume
        return torch.stack([norm(z, 2), norm(y, 1), norm(x, 0)], dim=-1)
