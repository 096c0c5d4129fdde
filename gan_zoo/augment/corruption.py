"""Image-space corruptions (ADA transforms 17-18): additive Gaussian noise and cutout."""

import torch
from torch import Tensor


def add_noise(images: Tensor, sigma: Tensor, noise: Tensor) -> Tensor:
    """images + sigma * noise; sigma [N] (0 leaves a sample exactly as it is), noise like images."""
    return images + noise * sigma.to(images.dtype)[:, None, None, None]


def cutout(images: Tensor, centre_xy: Tensor, size: float, active: Tensor) -> Tensor:
    """Zero (mid-grey) a size x size square (fraction of the image) at centre_xy [N, 2] in [0, 1]."""
    n, c, h, w = images.shape
    xs = (torch.arange(w, device=images.device, dtype=centre_xy.dtype) + 0.5) / w
    ys = (torch.arange(h, device=images.device, dtype=centre_xy.dtype) + 0.5) / h
    outside_x = (xs[None, :] - centre_xy[:, 0:1]).abs() >= size / 2  # [N, W]
    outside_y = (ys[None, :] - centre_xy[:, 1:2]).abs() >= size / 2  # [N, H]
    keep = outside_x[:, None, :] | outside_y[:, :, None] | ~active[:, None, None]
    return images * keep[:, None].to(images.dtype)
