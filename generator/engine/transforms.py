"""Transformation robustness: a random jitter, scale and rotation for every target at every step.

All three are folded into one affine warp per image and applied with a single ``grid_sample`` call
for the whole batch. Each target draws its parameters from its own generator, so what it sees does
not depend on which other targets share its batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def draw_affine(gen: torch.Generator, jitter_frac: float, scale: tuple[float, float], rotate_deg: float,
                flip: bool = False) -> torch.Tensor:
    """One random 2x3 affine matrix (in grid_sample's normalized coordinates), mirrored left-right half the time
    when ``flip``."""
    u = torch.rand(4, generator=gen, dtype=torch.float64)
    s = scale[0] + (scale[1] - scale[0]) * float(u[0])
    a = math.radians(rotate_deg * (2 * float(u[1]) - 1))
    # shift by up to jitter_frac of the side; normalized coordinates span 2 per side
    tx, ty = (2 * float(u[2]) - 1) * 2 * jitter_frac, (2 * float(u[3]) - 1) * 2 * jitter_frac
    cos, sin = math.cos(a) / s, math.sin(a) / s  # output pixel -> input pixel: inverse scale
    # drawn after the others and only when asked, so recipes without flip keep their random stream (and pixels)
    m = -1.0 if flip and float(torch.rand(1, generator=gen, dtype=torch.float64)) < 0.5 else 1.0
    return torch.tensor([[m * cos, -sin, tx], [m * sin, cos, ty]], dtype=torch.float32)


def random_views(images: torch.Tensor, gens: list[torch.Generator], *, jitter: int, scale, rotate: float,
                 view: int, reference: int, flip: bool = False) -> torch.Tensor:
    """Warp every image by its own random affine and resample to ``view`` px (0: keep the size).

    ``jitter`` is in pixels of a ``reference``-px image, so the same recipe means the same relative
    shift at any image size.
    """
    n, _, h, w = images.shape
    out = view or h
    identity = jitter == 0 and scale == (1.0, 1.0) and rotate == 0 and not flip
    if identity:
        return images if out == h else F.interpolate(images, size=(out, out), mode="bilinear", antialias=True, align_corners=False)
    theta = torch.stack([draw_affine(g, jitter / reference, tuple(scale), rotate, flip) for g in gens]).to(images.device)
    grid = F.affine_grid(theta, [n, 3, out, out], align_corners=False)
    if out < h:  # sampling a smaller view: pre-filter so it does not alias
        images = F.interpolate(images, size=(out, out), mode="bilinear", antialias=True, align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
