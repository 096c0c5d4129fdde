"""Hinge GAN losses (Lim & Ye 2017) as SPADE uses them on multiscale patch discriminators
(NVlabs/SPADE `models/networks/loss.py` GANLoss, gan_mode 'hinge'): each scale's patch map is
averaged, then the scales are averaged."""

import torch
import torch.nn.functional as F
from torch import Tensor


def _mean_over_scales(per_scale: list[Tensor]) -> Tensor:
    return torch.stack([value.mean() for value in per_scale]).mean()


def hinge_discriminator_loss(real_scores: list[Tensor], fake_scores: list[Tensor]) -> Tensor:
    """mean relu(1 - D(real)) + mean relu(1 + D(fake)), each averaged over the scales."""
    real = _mean_over_scales([F.relu(1 - s) for s in real_scores])
    fake = _mean_over_scales([F.relu(1 + s) for s in fake_scores])
    return real + fake


def hinge_generator_loss(fake_scores: list[Tensor]) -> Tensor:
    """-mean D(fake), averaged over the scales."""
    return _mean_over_scales([-s for s in fake_scores])
