"""StyleGAN v1 losses: non-saturating logistic G/D losses and the R1 penalty against hand values."""

import math

import pytest
import torch

from gan_zoo.losses.logistic import logistic_discriminator_loss, logistic_generator_loss
from gan_zoo.losses.r1 import r1_of, r1_penalty


def test_logistic_losses_by_hand() -> None:
    real, fake = torch.tensor([0.0, 2.0]), torch.tensor([0.0, -1.0])
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
    assert torch.allclose(logistic_generator_loss(fake), torch.tensor([softplus(0.0), softplus(1.0)]))
    expected = torch.tensor([softplus(0.0) + softplus(0.0), softplus(-1.0) + softplus(-2.0)])
    assert torch.allclose(logistic_discriminator_loss(real, fake), expected)


def test_r1_penalty_of_a_quadratic_critic_by_hand() -> None:
    # D(x) = sum(a * x²) per sample: grad = 2 a x, so ||grad||² = sum(4 a² x²).
    a = torch.tensor([[[[1.0, -2.0]]]])
    x = torch.tensor([[[[1.0, 3.0]]], [[[0.5, 0.0]]]])
    scores, penalty = r1_of(lambda v: (a * v.square()).flatten(1).sum(dim=1), x)
    assert torch.allclose(scores, torch.tensor([1.0 - 18.0, 0.25]))
    assert torch.allclose(penalty, torch.tensor([4 * 1 * 1 + 4 * 4 * 9, 4 * 1 * 0.25]))


def test_r1_penalty_reaches_the_critic_parameters() -> None:
    w = torch.tensor(3.0, requires_grad=True)
    x = torch.tensor([[1.0, 2.0]])
    _, penalty = r1_of(lambda v: (w * v.square()).sum(dim=1), x)  # ||grad||² = 4 w² (1 + 4) = 20 w²
    penalty.sum().backward()
    assert penalty.item() == pytest.approx(180.0) and w.grad.item() == pytest.approx(40 * 3.0)
    assert not x.requires_grad  # r1_of works on a detached copy of the reals


def test_r1_penalty_needs_reals_that_require_grad() -> None:
    with pytest.raises(ValueError, match="requires_grad"):
        r1_penalty(torch.zeros(2), torch.zeros(2, 3))
