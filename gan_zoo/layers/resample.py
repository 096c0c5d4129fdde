"""Parameter-free resampling of PGGAN: nearest-neighbour up-scaling and box (average-pool) down-scaling;
`resolution_log2`, the check every progressive network makes of its image side.

PGGAN uses no blur: `upscale2d` repeats pixels and `downscale2d` averages factor×factor boxes, so
box-down after nearest-up by the same factor is the identity.
"""

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def resolution_log2(resolution: int) -> int:
    """log2 of an image side that is a power of two >= 4; anything else is refused."""
    log2 = int(round(math.log2(resolution))) if resolution > 0 else 0
    if resolution < 4 or 2**log2 != resolution:
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
    return log2


def upscale_nearest(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Repeat every pixel of [N, C, H, W] factor×factor times; factor 1 returns x itself."""
    if factor == 1:
        return x
    return x.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)


class _NearestUp2x(torch.autograd.Function):
    """`F.interpolate(x, scale_factor=2, mode="nearest")`, the same values and gradients bit for bit: the
    forward as one broadcast copy (torch's CPU nearest kernel is ~10x slower at StarGAN v2's decoder sizes),
    the backward torch's own (faster than the sum an expand would give, and the same summation order)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        ctx.input_size = [n, c, h, w]
        return x[:, :, :, None, :, None].expand(n, c, h, 2, w, 2).reshape(n, c, 2 * h, 2 * w)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        n, c, h, w = ctx.input_size
        return torch.ops.aten.upsample_nearest2d_backward(grad, [2 * h, 2 * w], ctx.input_size, 2.0, 2.0)


def interpolate_nearest2x(x: torch.Tensor) -> torch.Tensor:
    """Nearest x2 up-sampling of [N, C, H, W] as `F.interpolate(x, scale_factor=2, mode="nearest")` computes it."""
    return _NearestUp2x.apply(x)


class NearestUpsample2x(nn.Module):
    """`nn.Upsample(scale_factor=2, mode="nearest")` through `interpolate_nearest2x`: the same values and
    gradients, faster on CPU; no parameters, so swapping one for the other keeps a state dict's keys."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return interpolate_nearest2x(x)


def downscale_box(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Average non-overlapping factor×factor boxes of [N, C, H, W]; factor 1 returns x itself."""
    if factor == 1:
        return x
    return F.avg_pool2d(x, kernel_size=factor)


def upsample_nearest2x(x: torch.Tensor) -> torch.Tensor:
    return upscale_nearest(x, 2)


def downsample_box2x(x: torch.Tensor) -> torch.Tensor:
    return downscale_box(x, 2)
