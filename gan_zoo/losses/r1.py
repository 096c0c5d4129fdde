"""The R1 penalty (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?"):
‖∇_x D(x)‖² on real images, per sample; the families weight it (γ/2, or StarGAN v2's 0.5 · mean).
"""

from collections.abc import Callable

import torch


def r1_penalty(real_logits: torch.Tensor, reals: torch.Tensor) -> torch.Tensor:
    """‖∂ΣD(reals)/∂reals_i‖² per sample; `reals` must require grad and have produced `real_logits`.

    The gradient of the summed logits is taken (as the official code does) with create_graph=True,
    so that backpropagating the penalty reaches D's parameters.
    """
    if not reals.requires_grad:
        raise ValueError("r1_penalty needs reals with requires_grad=True (set before running D)")
    (grads,) = torch.autograd.grad(real_logits.sum(), reals, create_graph=True)
    return grads.square().flatten(1).sum(dim=1)


def r1_of(discriminator_fn: Callable[[torch.Tensor], torch.Tensor], reals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, R1 penalty) per sample for detached reals: D is run once for both."""
    reals = reals.detach().requires_grad_(True)
    logits = discriminator_fn(reals)
    return logits, r1_penalty(logits, reals)
