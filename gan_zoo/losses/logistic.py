"""The logistic GAN losses of StyleGAN v1 and v2 (TF `training/loss.py` G_logistic_ns / D_logistic,
ADA `StyleGAN2Loss`), one value per sample.

G, non-saturating: softplus(-D(G(z))) = -log sigmoid(D(G(z))). D: softplus(D(fake)) + softplus(-D(real)).
"""

import torch
import torch.nn.functional as F


def logistic_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """softplus(-D(G(z))) = -log sigmoid(D(G(z))): the non-saturating generator loss."""
    return F.softplus(-fake_logits)


def logistic_discriminator_loss(real_logits: torch.Tensor | None, fake_logits: torch.Tensor | None) -> torch.Tensor:
    """softplus(D(fake)) + softplus(-D(real)) per sample; either side may be left out (None)."""
    if real_logits is None and fake_logits is None:
        raise ValueError("logistic_discriminator_loss needs real or fake logits")
    loss = 0
    if fake_logits is not None:
        loss = loss + F.softplus(fake_logits)
    if real_logits is not None:
        loss = loss + F.softplus(-real_logits)
    return loss  # type: ignore[return-value]
