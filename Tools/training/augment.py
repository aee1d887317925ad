"""Augmentations of whole task batches (b, n, H, W) on the device.

in_task: independent per image (affine + elastic warp, gamma, contrast, noise, blur): the support set stops being
  n copies of one picture, as real support sets are different subjects.
task: one draw per task, applied to every image and label of it (flips, 90-degree turns, the label turned into
  its boundary, dilated or eroded, inverted intensities, one shared filter): new tasks out of old ones.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ops import chance, dilate, erode, gaussian_blur, normalise01, random_warp_grid, uniform, warp


def in_task(images: torch.Tensor, labels: torch.Tensor, gen, p: float = 0.7):
    b, n, h, w = images.shape
    bn = b * n
    device = images.device
    on = chance((bn,), p, gen, device).float()
    grid = random_warp_grid(bn, h, w, gen, device, rotate=0.3 * on, scale=0.12 * on, shift=0.08 * on,
                            shear=0.08 * on, elastic=0.03 * on)
    img = warp(images.reshape(bn, h, w), grid, "bilinear")
    lab = (warp(labels.reshape(bn, h, w), grid, "bilinear") > 0.5).float()
    gamma = torch.exp(0.25 * torch.randn(bn, generator=gen, device=device) * chance((bn,), p, gen, device))
    img = img.clamp(0, 1) ** gamma[:, None, None]
    contrast = 1 + 0.2 * torch.randn(bn, generator=gen, device=device)[:, None, None]
    img = (img - 0.5) * contrast + 0.5 + 0.1 * torch.randn(bn, generator=gen, device=device)[:, None, None]
    sigma = uniform((bn,), 0, 1.0, gen, device) * chance((bn,), 0.25, gen, device)
    img = gaussian_blur(img, sigma, max_sigma=1.0)
    noise = uniform((bn,), 0, 0.05, gen, device) * chance((bn,), 0.3, gen, device)
    img = img + noise[:, None, None] * torch.randn(img.shape, generator=gen, device=device)
    return normalise01(img).view(b, n, h, w), lab.view(b, n, h, w)


def _per_task(mask: torch.Tensor, new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, *([1] * (old.dim() - 1))), new, old)


def task(images: torch.Tensor, labels: torch.Tensor, gen):
    b, n, h, w = images.shape
    device = images.device
    img, lab = images, labels
    for dim in (-1, -2):
        flip = chance((b,), 0.5, gen, device)
        img, lab = _per_task(flip, img.flip(dim), img), _per_task(flip, lab.flip(dim), lab)
    if h == w:
        turn = chance((b,), 0.5, gen, device)
        img = _per_task(turn, img.transpose(-1, -2), img)
        lab = _per_task(turn, lab.transpose(-1, -2), lab)
    # label morphology: boundary (1-2 px), dilation or erosion
    flat = lab.reshape(b * n, h, w)
    op = torch.randint(0, 20, (b,), generator=gen, device=device)
    boundary = flat - erode(flat, 1)
    boundary2 = flat - erode(flat, 2)
    morphs = [(op == 0, boundary), (op == 1, boundary2), (op == 2, dilate(flat, 1)), (op == 3, erode(flat, 1))]
    for mask, new in morphs:
        lab = _per_task(mask, new.view(b, n, h, w), lab)
    # intensity inversion and one shared filter (sharpen, edge magnitude, or a random 3x3 kernel)
    img = _per_task(chance((b,), 0.2, gen, device), 1 - img, img)
    kind = torch.randint(0, 10, (b,), generator=gen, device=device)
    filtered = _shared_filter(img, kind, gen)
    img = _per_task(kind < 3, filtered, img)
    return img, lab


def _shared_filter(img: torch.Tensor, kind: torch.Tensor, gen) -> torch.Tensor:
    b, n, h, w = img.shape
    device = img.device
    sobel = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], device=device)
    x = F.pad(img.reshape(b * n, 1, h, w), (1, 1, 1, 1), mode="replicate")
    gx = F.conv2d(x, sobel.view(1, 1, 3, 3))
    gy = F.conv2d(x, sobel.t().reshape(1, 1, 3, 3))
    edges = torch.sqrt(gx ** 2 + gy ** 2 + 1e-8).view(b, n, h, w)
    sharp_k = -torch.ones(3, 3, device=device) / 8
    sharp_k[1, 1] = 2.0
    sharp = F.conv2d(x, sharp_k.view(1, 1, 3, 3)).view(b, n, h, w)
    kernels = torch.randn(b, 3, 3, generator=gen, device=device).repeat_interleave(n, dim=0)
    rand = F.conv2d(x.view(1, b * n, h + 2, w + 2), kernels.view(b * n, 1, 3, 3), groups=b * n).view(b, n, h, w)
    out = _per_task(kind == 0, edges, _per_task(kind == 1, sharp, rand))
    return normalise01(out)
