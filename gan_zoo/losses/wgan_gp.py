"""WGAN-GP losses as used by PGGAN (Gulrajani et al. 2017; PGGAN loss.py `G_wgan`, `D_wgangp_acgan`).

All functions return one value per sample; the caller takes the mean over the batch. The PGGAN
discriminator loss is

    wgan_discriminator_loss(real, fake) + wgan_lambda * gradient_penalty(...) + drift_penalty(real)

with wgan_lambda = 10, target = 1 and epsilon = 0.001.
"""

from collections.abc import Callable

import torch


def wgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """-D(G(z)) per sample."""
    return -fake_scores


def wgan_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """D(fake) - D(real) per sample: the negated Wasserstein estimate."""
    return fake_scores - real_scores


def gradient_penalty(
    discriminator_fn: Callable[[torch.Tensor], torch.Tensor],  # images [N, ...] -> scores [N]
    reals: torch.Tensor,  # [N, ...]
    fakes: torch.Tensor,  # [N, ...], same shape as reals
    mix: torch.Tensor,  # [N] interpolation factors in [0, 1], drawn by the caller so it owns the RNG
    target: float = 1.0,  # gradient norm the penalty pulls towards (PGGAN's wgan_target)
) -> torch.Tensor:
    """(||grad D(x_hat)||_2 - target)² / target² per sample, x_hat = lerp(reals, fakes, mix).

    The inputs are detached (the penalty trains D only) and the gradient is taken with
    create_graph=True so that backpropagating the penalty reaches D's parameters.
    """
    if fakes.shape != reals.shape or mix.shape != reals.shape[:1]:
        raise ValueError(f"reals {tuple(reals.shape)}, fakes {tuple(fakes.shape)} and mix {tuple(mix.shape)} disagree")
    mix = mix.reshape(-1, *([1] * (reals.ndim - 1))).to(reals.dtype)
    # fakes may come in reduced precision (G under autocast); the mix is taken in the reals' dtype.
    mixed = torch.lerp(reals.detach(), fakes.detach().to(reals.dtype), mix).requires_grad_(True)
    scores = discriminator_fn(mixed)
    # Gradient of the summed scores, as the official code takes it: row i is sample i's gradient,
    # plus (through minibatch-stddev) what sample i contributes to its group members' scores.
    (grads,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grads.flatten(1).square().sum(dim=1).sqrt()
    return (norms - target).square() / target**2


def drift_penalty(real_scores: torch.Tensor, epsilon: float = 0.001) -> torch.Tensor:
    """epsilon * D(real)² per sample: keeps the critic's output from drifting far from zero."""
    return epsilon * real_scores.square()
