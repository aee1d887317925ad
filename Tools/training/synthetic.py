"""Synthetic segmentation tasks generated on the training device.

A task is (images, labels) of shape (n, H, W): n images drawn from ONE set of generator settings (one base label
map, one intensity table, one corruption style), each image a different random deformation of the base map, and
the label is one region (or a union of two) of that map, the same region in every image. The model must learn to
find "the region marked in the support set", whatever it looks like, which is what UniverSeg does at test time.

With empty_p > 0, that share of tasks also has label-free images (empty_layout: in the support set and/or as the
query): the same base map with the target region taken over by its neighbours, painted with the same intensity
table, so the model sees the task's appearance without the target and learns to draw nothing there.
"""
from __future__ import annotations

import math

import torch

from ops import (chance, fill_from_neighbours, gaussian_blur, normalise01, random_warp_grid, smooth_noise, standardise,
                 uniform, warp)

MAX_LABELS = 10   # regions per base map, background included
MAX_SHAPES = 7    # shapes drawn onto a shape-type base map


def _coords(h: int, w: int, device):
    ys = (torch.arange(h, device=device) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=device) + 0.5) / w * 2 - 1
    return torch.meshgrid(ys, xs, indexing="ij")


def _blob_maps(b, h, w, k, gen, device):
    """Voronoi-like regions: argmax of k smooth fields at one per-task scale."""
    scale = uniform((b,), 1.0, 4.5, gen, device).repeat_interleave(MAX_LABELS)
    fields = smooth_noise(b * MAX_LABELS, h, w, gen, device, log2_cells=scale).view(b, MAX_LABELS, h, w)
    inactive = torch.arange(MAX_LABELS, device=device)[None] >= k[:, None]
    fields = fields.masked_fill(inactive[:, :, None, None], float("-inf"))
    return fields.argmax(dim=1)


def _level_maps(b, h, w, k, gen, device):
    """Nested regions: level sets of one smooth field plus a radial bowl, cut at random quantiles."""
    yy, xx = _coords(h, w, device)
    field = smooth_noise(b, h, w, gen, device, lo=1.0, hi=4.0)
    cy, cx = uniform((2, b), -0.5, 0.5, gen, device)
    bowl = (yy[None] - cy[:, None, None]) ** 2 + (xx[None] - cx[:, None, None]) ** 2
    field = field + uniform((b,), 0.0, 6.0, gen, device)[:, None, None] * standardise(bowl)
    flat = field.flatten(1).sort(dim=1).values
    q = uniform((b, MAX_LABELS - 1), 0.05, 0.95, gen, device).sort(dim=1).values
    thresholds = flat.gather(1, (q * (h * w - 1)).long())
    inactive = torch.arange(MAX_LABELS - 1, device=device)[None] >= (k - 1)[:, None]
    thresholds = thresholds.masked_fill(inactive, float("inf"))
    return (field[:, None] > thresholds[:, :, None, None]).sum(dim=1)


def _shape_masks(b, h, w, gen, device, cy, cx, r):
    """One random shape per task: ellipse, convex polygon, star-shaped blob or thin curve (b, h, w) bool."""
    yy, xx = _coords(h, w, device)
    angle = uniform((b,), 0, math.pi, gen, device)[:, None, None]
    aspect = uniform((b,), 0.3, 1.0, gen, device)[:, None, None]
    dy, dx = yy[None] - cy[:, None, None], xx[None] - cx[:, None, None]
    u = torch.cos(angle) * dx + torch.sin(angle) * dy
    v = -torch.sin(angle) * dx + torch.cos(angle) * dy
    rr = r[:, None, None]
    ellipse = (u / rr) ** 2 + (v / (rr * aspect)) ** 2 < 1
    # convex polygon: intersection of 3..8 half-planes around the centre
    sides = torch.randint(3, 9, (b,), generator=gen, device=device)
    slot = torch.arange(8, device=device)[None]
    phi = 2 * math.pi * slot / sides[:, None] + uniform((b, 8), -0.3, 0.3, gen, device)
    reach = rr[:, :, 0] * uniform((b, 8), 0.7, 1.0, gen, device)
    proj = u[:, None] * torch.cos(phi)[:, :, None, None] + (v / aspect)[:, None] * torch.sin(phi)[:, :, None, None]
    polygon = ((proj < reach[:, :, None, None]) | (slot >= sides[:, None])[:, :, None, None]).all(dim=1)
    # star-shaped blob: radius modulated by a few angular harmonics
    rho = torch.sqrt(u ** 2 + (v / aspect) ** 2)
    theta = torch.atan2(v, u)
    radius = torch.ones_like(rho)
    for j in range(1, 5):
        amp = uniform((b,), 0.0, 0.3 / j, gen, device)[:, None, None]
        ph = uniform((b,), 0, 2 * math.pi, gen, device)[:, None, None]
        radius = radius + amp * torch.cos(j * theta + ph)
    star = rho < rr * radius
    # thin curve: a band of 1-3 px around a sine arc
    half_width = uniform((b,), 0.6, 1.6, gen, device)[:, None, None] * 2.0 / h
    wave = uniform((b,), 0.0, 0.3, gen, device)[:, None, None] * torch.sin(
        uniform((b,), 1.0, 8.0, gen, device)[:, None, None] * u + uniform((b,), 0, 6.3, gen, device)[:, None, None])
    curve = ((v - wave).abs() < half_width) & (u.abs() < 2 * rr)
    kind = torch.randint(0, 8, (b,), generator=gen, device=device)[:, None, None]  # curves are rarer
    return torch.where(kind < 2, ellipse, torch.where(kind < 4, polygon, torch.where(kind < 7, star, curve)))


def _shape_maps(b, h, w, k, gen, device):
    """Background 0 with up to MAX_SHAPES overlapping, nested or touching shapes of labels 1..k-1.

    All b * MAX_SHAPES shapes are drawn in one batch (a loop over shapes would launch hundreds of small GPU
    kernels per step); later shapes cover earlier ones.
    """
    count = torch.randint(1, MAX_SHAPES + 1, (b,), generator=gen, device=device)
    cy, cx = uniform((2, b), -0.6, 0.6, gen, device)
    r = uniform((b,), 0.1, 0.5, gen, device)
    centres_y, centres_x, radii = [], [], []
    for m in range(MAX_SHAPES):
        nested = chance((b,), 0.3, gen, device) & (m > 0)
        ncy, ncx = uniform((2, b), -0.6, 0.6, gen, device)
        cy, cx = torch.where(nested, cy, ncy), torch.where(nested, cx, ncx)
        r = torch.where(nested, r * uniform((b,), 0.3, 0.7, gen, device), uniform((b,), 0.08, 0.5, gen, device))
        centres_y.append(cy)
        centres_x.append(cx)
        radii.append(r)
    flat = lambda xs: torch.stack(xs, dim=1).reshape(-1)  # noqa: E731
    slots = torch.arange(MAX_SHAPES, device=device)[None]
    masks = _shape_masks(b * MAX_SHAPES, h, w, gen, device, flat(centres_y), flat(centres_x), flat(radii))
    masks = masks.view(b, MAX_SHAPES, h, w) & (slots < count[:, None])[:, :, None, None]
    values = 1 + (slots + torch.randint(0, MAX_LABELS, (b, 1), generator=gen, device=device)) % (k - 1).clamp_min(1)[:, None]
    top = torch.where(masks, slots[:, :, None, None].expand(b, MAX_SHAPES, h, w), -1).amax(dim=1)
    return torch.where(top >= 0, values.gather(1, top.clamp_min(0).flatten(1)).view(b, h, w), 0)


def base_label_maps(b: int, h: int, w: int, gen, device) -> torch.Tensor:
    """(b, h, w) long label maps, each task one of three families, 2..MAX_LABELS regions."""
    k = torch.randint(2, MAX_LABELS + 1, (b,), generator=gen, device=device)
    family = torch.randint(0, 3, (b,), generator=gen, device=device)[:, None, None]
    return torch.where(family == 0, _blob_maps(b, h, w, k, gen, device),
                       torch.where(family == 1, _level_maps(b, h, w, k, gen, device),
                                   _shape_maps(b, h, w, k, gen, device)))


def pick_targets(base: torch.Tensor, gen) -> torch.Tensor:
    """Chooses per task a region present in its base map (sometimes a union of two): (b, MAX_LABELS) bool LUT."""
    b = base.shape[0]
    device = base.device
    present = torch.zeros(b, MAX_LABELS, device=device).scatter_(1, base.flatten(1), 1.0) > 0
    weights = present.float() + 1e-6
    first = torch.multinomial(weights, 1, generator=gen)[:, 0]
    second = torch.multinomial(weights, 1, generator=gen)[:, 0]
    union = chance((b, 1), 0.15, gen, device)
    # one-hot arithmetic, not masked indexing: that would sync the GPU every step
    slots = torch.arange(MAX_LABELS, device=device)[None]
    return (slots == first[:, None]) | ((slots == second[:, None]) & union)


def paint(labels: torch.Tensor, n_labels: int, gen, jitter: torch.Tensor | None = None) -> torch.Tensor:
    """Images from label maps (b, n, h, w): one random intensity per label and task, jittered per image,
    plus a per-label texture of smooth noise."""
    b, n, h, w = labels.shape
    device = labels.device
    mean = uniform((b, 1, n_labels), 0, 1, gen, device)
    if jitter is None:
        jitter = uniform((b, 1, 1), 0.0, 0.08, gen, device)
    mean = mean + jitter * torch.randn(b, n, n_labels, generator=gen, device=device)
    texture_amp = uniform((b, 1, n_labels), 0, 1, gen, device) ** 2 * 0.25
    texture = smooth_noise(b * n, h, w, gen, device, lo=2.5, hi=6.0).view(b, n, h * w)
    flat = labels.flatten(2)
    img = mean.expand(b, n, n_labels).gather(2, flat) + texture_amp.expand(b, n, n_labels).gather(2, flat) * texture
    return img.view(b, n, h, w)


def corrupt(img: torch.Tensor, gen) -> torch.Tensor:
    """Scanner-like corruption with one style per task (b, n, h, w): bias field, blur, gamma, noise -> [0, 1]."""
    b, n, h, w = img.shape
    device = img.device
    flat = normalise01(img.reshape(b * n, h, w))
    bias_strength = (uniform((b,), 0, 0.6, gen, device) * chance((b,), 0.7, gen, device)).repeat_interleave(n)
    bias = smooth_noise(b * n, h, w, gen, device, lo=0.5, hi=2.0)
    flat = flat * torch.exp(bias_strength[:, None, None] * bias)
    sigma = (uniform((b,), 0, 1.5, gen, device) * chance((b,), 0.5, gen, device)).repeat_interleave(n)
    flat = gaussian_blur(flat, sigma)
    flat = normalise01(flat)
    gamma = torch.exp(0.35 * torch.randn(b, generator=gen, device=device)).repeat_interleave(n)
    flat = flat.clamp_min(0) ** gamma[:, None, None]
    noise = (uniform((b,), 0, 0.08, gen, device) * chance((b,), 0.7, gen, device)).repeat_interleave(n)
    flat = flat + noise[:, None, None] * torch.randn(flat.shape, generator=gen, device=device)
    return normalise01(flat).view(b, n, h, w)


def empty_layout(b: int, n: int, p: float, gen, device) -> torch.Tensor:
    """Which images of b tasks of n images (n - 1 supports, then the query) are label-free: (b, n) bool.

    A task has label-free images with probability p. Then the query is label-free in half of them, and the support
    set holds k label-free images: for a label-free query k = 0 in a third of the tasks (a support that all shows
    the target, as for a slice of a volume past the structure's end), else k uniform in 1..cap, cap = the largest
    number that keeps at most half of the task's n images label-free and at least one support with the target.
    Support 0 always keeps the target, so every prefix of the support set has one (validation uses prefixes).
    With one support the only label-free image can be the query; with two, a task has one label-free image.
    atlas_tasks.AtlasBank._empty_layout draws the same rule with numpy for one task.
    """
    s = n - 1
    half = n // 2
    task = chance((b,), p, gen, device)
    if min(half, s - 1) < 1:          # S = 1: no support may go
        query = task
    else:
        query = task & chance((b,), 0.5, gen, device)
    cap = torch.clamp(torch.minimum(half - query.long(), torch.full_like(query.long(), s - 1)), min=0)
    k = torch.where(cap >= 1, 1 + (torch.rand(b, generator=gen, device=device) * cap).long().clamp_max(cap - 1), 0)
    k = torch.where(query & chance((b,), 1 / 3, gen, device), 0, k)
    k = torch.where(task, k, 0)
    ranks = torch.rand(b, max(s - 1, 0), generator=gen, device=device).argsort(dim=1).argsort(dim=1)
    support = ranks < k[:, None]
    never = torch.zeros(b, 1, dtype=torch.bool, device=device)
    return torch.cat([never, support, query[:, None]], dim=1)


def synthetic_tasks(b: int, n: int, size: int, gen, device, empty_p: float = 0.0, return_layout: bool = False):
    """b tasks of n images each: images (b, n, size, size) in [0, 1] and binary labels (b, n, size, size).

    empty_p: share of tasks with label-free images (empty_layout); 0 draws exactly the tasks it drew before this
    option existed (no extra random numbers). return_layout adds the (b, n) bool layout as a third result.
    """
    base = base_label_maps(b, size, size, gen, device)
    lut = pick_targets(base, gen)
    # each image: the base map under its own smooth deformation (task-level magnitudes)
    bn = b * n
    rep = lambda x: x.repeat_interleave(n)  # noqa: E731
    grid = random_warp_grid(bn, size, size, gen, device,
                            rotate=rep(uniform((b,), 0, 0.35, gen, device)),
                            scale=rep(uniform((b,), 0, 0.15, gen, device)),
                            shift=rep(uniform((b,), 0, 0.15, gen, device)),
                            shear=rep(uniform((b,), 0, 0.1, gen, device)),
                            elastic=rep(uniform((b,), 0, 0.06, gen, device)))
    layout = torch.zeros(b, n, dtype=torch.bool, device=device)
    if empty_p > 0:
        layout = empty_layout(b, n, empty_p, gen, device)
        # the target removed from the base map before the deformation: its neighbours take its place, and the
        # rest of the map (and so the painting) is the task's own
        hole = lut.gather(1, base.flatten(1)).view(b, size, size)
        without = fill_from_neighbours(base, hole, MAX_LABELS)
        source = torch.where(layout[:, :, None, None], without[:, None], base[:, None]).reshape(bn, size, size)
    else:
        source = base.repeat_interleave(n, dim=0)
    labels = warp(source.float(), grid, "nearest").long().view(b, n, size, size)
    images = corrupt(paint(labels, MAX_LABELS, gen), gen)
    target = lut.float()[:, None].expand(b, n, MAX_LABELS).gather(2, labels.flatten(2)).view(b, n, size, size)
    return (images, target, layout) if return_layout else (images, target)
