"""Discriminator feature matching (pix2pixHD, SPADE): L1 between D's intermediate features of fakes
and of (detached) reals, every layer but the last, summed, divided by the number of discriminator
scales (NVlabs/SPADE `models/pix2pix_model.py`, `compute_generator_loss`)."""

import torch
import torch.nn.functional as F
from torch import Tensor


def feature_matching_loss(fake_features: list[list[Tensor]], real_features: list[list[Tensor]]) -> Tensor:
    """Per scale, per intermediate layer: mean |fake - real.detach()|; the sum over layers / number of scales."""
    total = torch.zeros((), device=fake_features[0][0].device)
    for fake_layers, real_layers in zip(fake_features, real_features, strict=True):
        for fake, real in zip(fake_layers[:-1], real_layers[:-1], strict=True):
            total = total + F.l1_loss(fake, real.detach())
    return total / len(fake_features)
