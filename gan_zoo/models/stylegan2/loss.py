"""StyleGAN2 loss terms (StyleGAN2 §B, ADA `StyleGAN2Loss`), one value per sample.

* non-saturating logistic: G softplus(-D(G(z))); D softplus(D(fake)) + softplus(-D(real));
* R1: ‖∇_x D(x)‖² on reals (weighted γ/2 by the caller);
* path length: J_wᵀy for y ~ N(0, 1/(H·W)) per pixel, ‖·‖ averaged over the ws, and its squared
  deviation from a running mean `pl_mean` that already includes this batch. The gradient also
  flows through the batch's mean length in that running mean, as in the official code (TF
  `training/loss.py` G_logistic_ns_pathreg, ADA `StyleGAN2Loss`: `pl_mean.lerp(pl_lengths.mean(),
  pl_decay)`, not detached): the gradient gains -decay·mean(2(l - new_mean))·∇mean(l).
"""

import torch
import torch.nn.functional as F


def generator_logistic_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """softplus(-D(G(z))) = -log sigmoid(D(G(z))): the non-saturating generator loss."""
    return F.softplus(-fake_logits)


def discriminator_logistic_loss(real_logits: torch.Tensor | None, fake_logits: torch.Tensor | None) -> torch.Tensor:
    """softplus(D(fake)) + softplus(-D(real)) per sample; either side may be left out (None)."""
    if real_logits is None and fake_logits is None:
        raise ValueError("discriminator_logistic_loss needs real or fake logits")
    loss = 0
    if fake_logits is not None:
        loss = loss + F.softplus(fake_logits)
    if real_logits is not None:
        loss = loss + F.softplus(-real_logits)
    return loss  # type: ignore[return-value]


def r1_penalty(real_logits: torch.Tensor, reals: torch.Tensor) -> torch.Tensor:
    """‖∂ΣD(reals)/∂reals_i‖² per sample; `reals` must require grad and have produced `real_logits`.

    The graph is kept (create_graph) so the penalty can be backpropagated into D.
    """
    if not reals.requires_grad:
        raise ValueError("r1_penalty needs reals with requires_grad=True (set before running D)")
    (grads,) = torch.autograd.grad(real_logits.sum(), reals, create_graph=True)
    return grads.square().flatten(1).sum(dim=1)


def path_lengths(images: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """√(mean over ws of ‖∂Σ(images·noise)/∂w‖²) per sample; `noise` ~ N(0, 1)/√(H·W), shaped like images."""
    if noise.shape != images.shape:
        raise ValueError(f"path-length noise {list(noise.shape)} must be shaped like the images {list(images.shape)}")
    (grads,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    return grads.square().sum(dim=2).mean(dim=1).sqrt()


def path_length_penalty(
    lengths: torch.Tensor,  # [N] path lengths of this batch
    pl_mean: torch.Tensor,  # running mean before this batch
    decay: float,  # weight of this batch in the running mean
    batch_mean: torch.Tensor | None = None,  # mean length (over all processes), with or without grad; None: lengths.mean()
) -> tuple[torch.Tensor, torch.Tensor]:
    """((lengths - new_mean)² per sample, new_mean) with new_mean = lerp(pl_mean, mean length, decay).

    new_mean carries the batch mean's gradient (detach it before storing it as the running mean).
    """
    batch_mean = lengths.mean() if batch_mean is None else batch_mean
    new_mean = pl_mean.lerp(batch_mean, decay)
    return (lengths - new_mean).square(), new_mean
