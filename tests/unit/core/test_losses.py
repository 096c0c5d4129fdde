"""WGAN-GP and AC-GAN loss terms against analytic values."""

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.losses import (
    auxiliary_classifier_loss,
    drift_penalty,
    gradient_penalty,
    wgan_discriminator_loss,
    wgan_generator_loss,
)


def test_wgan_scores_terms() -> None:
    real, fake = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 3.0])
    torch.testing.assert_close(wgan_generator_loss(fake), torch.tensor([-0.5, -3.0]))
    torch.testing.assert_close(wgan_discriminator_loss(real, fake), torch.tensor([-0.5, 5.0]))
    torch.testing.assert_close(drift_penalty(real), torch.tensor([0.001, 0.004]))
    torch.testing.assert_close(drift_penalty(real, epsilon=0.5), torch.tensor([0.5, 2.0]))


@pytest.mark.parametrize("target", [1.0, 2.0])
def test_gradient_penalty_linear_critic_is_analytic_and_trains_it(target: float) -> None:
    w = torch.tensor([[[[3.0, 0.0], [0.0, 4.0]]]], requires_grad=True)  # ||w|| = 5 for every sample

    def critic(x: torch.Tensor) -> torch.Tensor:
        return (x * w).sum(dim=(1, 2, 3))

    reals, fakes = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    penalty = gradient_penalty(critic, reals, fakes, torch.rand(3), target=target)
    expected = (5.0 - target) ** 2 / target**2
    torch.testing.assert_close(penalty, torch.full((3,), expected))
    # create_graph=True: the penalty is differentiable w.r.t. D's parameters,
    # d/dw (||w|| - t)² / t² = 2 (||w|| - t) / t² * w / ||w||.
    penalty.sum().backward()
    torch.testing.assert_close(w.grad, 3 * 2 * (5.0 - target) / target**2 * w.detach() / 5.0)


def test_gradient_penalty_evaluates_at_per_sample_interpolates() -> None:
    def critic(x: torch.Tensor) -> torch.Tensor:  # its gradient is x itself
        return 0.5 * x.square().sum(dim=(1, 2, 3))

    reals = torch.tensor([1.0, 0.0]).reshape(2, 1, 1, 1)
    fakes = torch.tensor([3.0, 4.0]).reshape(2, 1, 1, 1)
    mix = torch.tensor([0.5, 0.25])
    # x_hat = reals + mix * (fakes - reals) = [2, 1] -> norms 2 and 1 -> penalties 1 and 0.
    torch.testing.assert_close(gradient_penalty(critic, reals, fakes, mix), torch.tensor([1.0, 0.0]))


def _sum_of_squares(x: torch.Tensor) -> torch.Tensor:
    return x.square().sum(dim=(1, 2, 3))


def test_gradient_penalty_does_not_backprop_into_the_images() -> None:
    fakes = torch.randn(2, 1, 2, 2, requires_grad=True)  # as if straight out of G
    gradient_penalty(_sum_of_squares, torch.randn(2, 1, 2, 2), fakes, torch.rand(2)).sum().backward()
    assert fakes.grad is None


def test_gradient_penalty_rejects_mismatched_mix() -> None:
    with pytest.raises(ValueError, match="mix"):
        gradient_penalty(_sum_of_squares, torch.zeros(2, 1, 2, 2), torch.zeros(2, 1, 2, 2), torch.rand(2, 1))


def test_auxiliary_classifier_loss_equals_cross_entropy() -> None:
    logits = torch.randn(5, 4)
    classes = torch.tensor([0, 3, 1, 1, 2])
    loss = auxiliary_classifier_loss(logits, F.one_hot(classes, 4).float())
    torch.testing.assert_close(loss, F.cross_entropy(logits, classes, reduction="none"))
    soft = torch.softmax(torch.randn(5, 4), dim=1)  # soft labels, as softmax_cross_entropy accepts
    torch.testing.assert_close(auxiliary_classifier_loss(logits, soft), F.cross_entropy(logits, soft, reduction="none"))
