"""Parameter-free resampling of PGGAN: nearest-neighbour up-scaling and box (average-pool) down-scaling;
`resolution_log2`, the check every progressive network makes of its image side.

PGGAN uses no blur: `upscale2d` repeats pixels and `downscale2d` averages factor×factor boxes, so
box-down after nearest-up by the same factor is the identity.
"""

import math

import torch
import torch.nn.functional as F


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


def downscale_box(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Average non-overlapping factor×factor boxes of [N, C, H, W]; factor 1 returns x itself."""
    if factor == 1:
        return x
    return F.avg_pool2d(x, kernel_size=factor)


def upsample_nearest2x(x: torch.Tensor) -> torch.Tensor:
    return upscale_nearest(x, 2)


def downsample_box2x(x: torch.Tensor) -> torch.Tensor:
    return downscale_box(x, 2)
