"""StyleGAN v1's losses (`G_logistic_nonsaturating`, `D_logistic_simplegp`), one value per sample.

D: softplus(D(fake)) + softplus(-D(real)) + gamma/2 · ||∇_x D(real)||², the R1 penalty on reals
(Mescheder et al. 2018) applied at every step (v1 has no lazy regularisation). G: softplus(-D(G(z))).
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F


def logistic_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Non-saturating: -log sigmoid(D(G(z))) = softplus(-D(G(z))) per sample."""
    return F.softplus(-fake_scores)


def logistic_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """softplus(D(fake)) + softplus(-D(real)) per sample."""
    return F.softplus(fake_scores) + F.softplus(-real_scores)


def r1_penalty(real_scores: torch.Tensor, reals: torch.Tensor) -> torch.Tensor:
    """||∇_x D(x)||² per sample at the reals; `reals` must require grad and have produced `real_scores`.

    The gradient of the summed scores is taken (as the official code does) with create_graph=True,
    so that backpropagating the penalty reaches D's parameters. Multiply by gamma/2 to weight it.
    """
    if not reals.requires_grad:
        raise ValueError("r1_penalty needs reals with requires_grad=True, set before D is run on them")
    (grads,) = torch.autograd.grad(real_scores.sum(), reals, create_graph=True)
    return grads.square().flatten(1).sum(dim=1)


def r1_of(discriminator_fn: Callable[[torch.Tensor], torch.Tensor], reals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, R1 penalty) per sample for detached reals: D is run once for both."""
    reals = reals.detach().requires_grad_(True)
    scores = discriminator_fn(reals)
    return scores, r1_penalty(scores, reals)
