"""Image-space filtering (ADA transforms 13-16): random gains on four frequency bands.

Each band's gain is drawn log-normally with the pipe's probability; the gains are then normalised
so that the expected power of a natural image is unchanged (bands assumed to carry 10:1:1:1 of it,
low to high). The per-sample 1-D filter is the gain-weighted sum of the band filters and is applied
separably in x and y with kornia's filter2d_separable (per-sample kernels) on reflect-padded images.
"""

import torch
from kornia.filters import filter2d_separable
from torch import Tensor

from gan_zoo.augment.blit import reflect_pad

BAND_POWER = (10 / 13, 1 / 13, 1 / 13, 1 / 13)  # expected share of image power per band, low to high


def normalise_gains(gains: Tensor) -> Tensor:
    """gains [N, 4] -> gains / sqrt(sum_i power_i * gain_i^2); all-ones stays all-ones."""
    power = torch.tensor(BAND_POWER, dtype=gains.dtype, device=gains.device)
    return gains / (gains.square() * power).sum(dim=1, keepdim=True).sqrt()


def filter_bands(images: Tensor, gains: Tensor, bands: Tensor) -> Tensor:
    """images [N, C, H, W]; gains [N, 4] (normalised); bands [4, K] -> filtered images."""
    kernels = (gains.to(bands.dtype) @ bands).to(images.dtype)  # [N, K]
    half = bands.shape[1] // 2
    padded = reflect_pad(images, half, half, half, half)  # reflects further than torch's pad can
    return filter2d_separable(padded, kernels, kernels, padding="valid")
