"""Hinge losses over the projected discriminator's per-backbone logits (official `ProjectedGANLoss`).

D: relu(1 - D(real)) + relu(1 + D(fake)); G: -D(fake). Each argument is the discriminator's output,
a list with one [B, L] logits tensor per backbone. How the terms are reduced (`official_loss_scaling`):

* False: per backbone the mean over samples and logits, summed over backbones. With one backbone
  this is exactly Projected GAN's `tensor.mean()`; StyleGAN-XL's official code also sums its two
  backbones, so the two settings differ by exactly a factor of the batch size.
* True: StyleGAN-XL's quirk. Its discriminator appends the *rows* of each [B, L] tensor to a Python
  list, and the loss sums `row.mean()` over that list: the mean over logits, summed over samples
  and backbones. The loss (and so the gradient before Adam's normalisation) grows with the per-GPU
  batch; reproduce it to match the official runs, e.g. Adam's epsilon relative to the gradients.

Official code: `ProjectedGANLoss` in autonomousvision/projected-gan `training/loss.py` and in
autonomousvision/stylegan-xl `training/loss.py`; the list of rows is built by stylegan-xl's
`pg_modules/discriminator.py` (`ProjectedDiscriminator.forward`, `logits += ...`).
"""

import torch
import torch.nn.functional as F
from torch import Tensor


def _reduce(per_backbone: list[Tensor], official_loss_scaling: bool) -> Tensor:
    if not per_backbone:
        raise ValueError("expected one logits tensor per backbone, got none")
    if official_loss_scaling:
        return torch.stack([t.flatten(1).mean(dim=1).sum() for t in per_backbone]).sum()
    return torch.stack([t.mean() for t in per_backbone]).sum()


def projected_hinge_d_loss(real_logits: list[Tensor], fake_logits: list[Tensor], official_loss_scaling: bool) -> Tensor:
    """Hinge D loss: reduce(relu(1 - real)) + reduce(relu(1 + fake)) (see the module docstring)."""
    real = _reduce([F.relu(1 - t) for t in real_logits], official_loss_scaling)
    fake = _reduce([F.relu(1 + t) for t in fake_logits], official_loss_scaling)
    return real + fake


def projected_hinge_g_loss(fake_logits: list[Tensor], official_loss_scaling: bool) -> Tensor:
    """Generator loss: reduce(-fake)."""
    return _reduce([-t for t in fake_logits], official_loss_scaling)


def classifier_guidance_loss(class_logits: Tensor, c: Tensor) -> Tensor:
    """Cross-entropy of the guidance classifier's logits [B, 1000] against the one-hot labels' classes."""
    return F.cross_entropy(class_logits, c.argmax(dim=1))
