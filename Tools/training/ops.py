"""Batched image operations shared by the task generators and the augmentations.

Every function works on a whole batch on the tensors' device and draws its randomness from an explicit
torch.Generator, so training never waits on the CPU and validation sets are reproducible.
Coordinates are normalised to [-1, 1] with align_corners=False, as grid_sample expects.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def uniform(shape, lo, hi, gen, device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(shape, generator=gen, device=device)


def chance(shape, p, gen, device) -> torch.Tensor:
    """Boolean tensor, True with probability p (p may be a float or a broadcastable tensor)."""
    return torch.rand(shape, generator=gen, device=device) < p


def smooth_noise(n: int, h: int, w: int, gen, device, log2_cells: torch.Tensor | None = None,
                 lo: float = 1.0, hi: float = 5.0) -> torch.Tensor:
    """n standardised smooth random fields (n, h, w).

    log2_cells (n,) picks each field's spatial scale: about 2**log2_cells noise cells across the image
    (drawn from U(lo, hi) when not given). Octaves 2..64 cells are blended with weights peaked at that scale,
    so one batch mixes scales without per-scale loops over items.
    """
    if log2_cells is None:
        log2_cells = uniform((n,), lo, hi, gen, device)
    total = torch.zeros(n, 1, h, w, device=device)
    for octave in range(1, 7):
        cells = 2 ** octave
        weight = torch.exp(-0.5 * ((log2_cells - octave) / 0.6) ** 2)
        if float(cells) > max(h, w):
            break
        noise = torch.randn(n, 1, cells + 3, cells + 3, generator=gen, device=device)
        # cells + 3 samples, cropped after upsampling: bicubic edges are less smooth than the interior.
        up = F.interpolate(noise, size=(h * (cells + 3) // cells, w * (cells + 3) // cells), mode="bicubic",
                           align_corners=False)
        oy, ox = (up.shape[2] - h) // 2, (up.shape[3] - w) // 2
        total = total + weight.view(n, 1, 1, 1) * up[:, :, oy:oy + h, ox:ox + w]
    return standardise(total[:, 0])


def standardise(x: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit standard deviation per item over the last two dims."""
    mean = x.mean(dim=(-2, -1), keepdim=True)
    std = x.std(dim=(-2, -1), keepdim=True).clamp_min(1e-6)
    return (x - mean) / std


def normalise01(x: torch.Tensor) -> torch.Tensor:
    """Min-max to [0, 1] per item over the last two dims (a constant image becomes 0)."""
    lo = x.amin(dim=(-2, -1), keepdim=True)
    hi = x.amax(dim=(-2, -1), keepdim=True)
    return (x - lo) / (hi - lo).clamp_min(1e-6)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, max_sigma: float = 3.0) -> torch.Tensor:
    """Blurs each image of x (N, H, W) with its own sigma (N,) in pixels (0 leaves it unchanged)."""
    n, h, w = x.shape
    sigma = sigma.clamp(1e-3, max_sigma)
    radius = int(math.ceil(3 * float(max_sigma)))
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (t[None] / sigma[:, None].to(x.dtype)) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    y = F.pad(x[None], (radius, radius, radius, radius), mode="replicate")
    y = F.conv2d(y, kernel.view(n, 1, -1, 1), groups=n)
    y = F.conv2d(y, kernel.view(n, 1, 1, -1), groups=n)
    return y[0]


def identity_grid(n: int, h: int, w: int, device) -> torch.Tensor:
    theta = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], device=device).expand(n, 2, 3)
    return F.affine_grid(theta, (n, 1, h, w), align_corners=False)


def random_warp_grid(n: int, h: int, w: int, gen, device, rotate: torch.Tensor, scale: torch.Tensor,
                     shift: torch.Tensor, shear: torch.Tensor, elastic: torch.Tensor,
                     elastic_cells: int = 5) -> torch.Tensor:
    """Sampling grid (n, h, w, 2) of a random affine plus smooth elastic warp.

    Per-item magnitudes (n,): rotate (max radians), scale (max log-scale), shift and shear (max, normalised units),
    elastic (max displacement, normalised units; a bicubic-upsampled random field of elastic_cells cells).
    """
    angle = uniform((n,), -1, 1, gen, device) * rotate
    log_s = uniform((n, 2), -1, 1, gen, device) * scale[:, None]
    log_s = log_s * 0.3 + log_s[:, :1] * 0.7  # mostly isotropic
    sx, sy = torch.exp(log_s[:, 0]), torch.exp(log_s[:, 1])
    sh = uniform((n,), -1, 1, gen, device) * shear
    tx, ty = (uniform((n, 2), -1, 1, gen, device) * shift[:, None]).unbind(1)
    c, s = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([
        torch.stack([c * sx, -s * sy + sh, tx], dim=1),
        torch.stack([s * sx, c * sy, ty], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta, (n, 1, h, w), align_corners=False)
    field = torch.randn(n, 2, elastic_cells, elastic_cells, generator=gen, device=device)
    field = F.interpolate(field, size=(h, w), mode="bicubic", align_corners=False)
    return grid + field.permute(0, 2, 3, 1) * elastic.view(n, 1, 1, 1)


def warp(x: torch.Tensor, grid: torch.Tensor, mode: str) -> torch.Tensor:
    """Resamples x (N, H, W) on grid (N, H, W, 2); reflection padding avoids the streaks border padding draws."""
    return F.grid_sample(x[:, None], grid, mode=mode, padding_mode="reflection", align_corners=False)[:, 0]


def dilate(mask: torch.Tensor, radius: int = 1) -> torch.Tensor:
    """Binary/soft dilation of (N, H, W) with a (2r+1)^2 square."""
    return F.max_pool2d(mask[:, None], 2 * radius + 1, stride=1, padding=radius)[:, 0]


def erode(mask: torch.Tensor, radius: int = 1) -> torch.Tensor:
    return -dilate(-mask, radius)


def fill_from_neighbours(labels: torch.Tensor, hole: torch.Tensor, n_labels: int) -> torch.Tensor:
    """Label maps (N, H, W) long with the `hole` pixels (N, H, W) bool taken over by the labels around them.

    Push-pull: the known labels' one-hot fractions are averaged down a 2x pyramid, then pulled back up with
    bilinear upsampling into the hole, and each hole pixel takes the label with the largest fraction. The regions
    around a removed structure grow into its place with smooth borders (about 40 small kernels, no per-pixel
    loop). A map that is all hole comes back as label 0.
    """
    known = (~hole).float()[:, None]
    v = F.one_hot(labels, n_labels).permute(0, 3, 1, 2).float() * known
    levels = [(v, known)]
    w = known
    while min(v.shape[-2:]) > 1:
        v, w = F.avg_pool2d(v, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)
        levels.append((v, w))
    fill = levels[-1][0] / levels[-1][1].clamp_min(1e-12)
    for v, w in reversed(levels[:-1]):
        up = F.interpolate(fill, size=v.shape[-2:], mode="bilinear", align_corners=False)
        fill = torch.where(w > 0, v / w.clamp_min(1e-12), up)
    return torch.where(hole, fill.argmax(dim=1), labels)
