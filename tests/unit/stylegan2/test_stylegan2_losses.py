"""StyleGAN2 losses and regularisers against hand computations; the ADA auto formula."""

import math

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.losses.logistic import logistic_discriminator_loss, logistic_generator_loss
from gan_zoo.losses.path_length import path_length_penalty, path_lengths
from gan_zoo.losses.r1 import r1_penalty
from gan_zoo.models.stylegan2.plan import auto_hyperparameters


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_logistic_losses() -> None:
    real, fake = torch.tensor([0.5, -1.0]), torch.tensor([2.0, -0.3])
    torch.testing.assert_close(logistic_generator_loss(fake), -torch.log(torch.sigmoid(fake)))
    expected = -torch.log(1 - torch.sigmoid(fake)) - torch.log(torch.sigmoid(real))
    torch.testing.assert_close(logistic_discriminator_loss(real, fake), expected)
    torch.testing.assert_close(logistic_discriminator_loss(None, fake), F.softplus(fake))
    with pytest.raises(ValueError):
        logistic_discriminator_loss(None, None)


def test_r1_penalty_equals_the_hand_computed_gradient_norm() -> None:
    # D(x) = a·x + (b·x)² / 2  =>  ∇D = a + (b·x) b, per sample
    a, b = torch.randn(3, 4, 4, dtype=torch.float64), torch.randn(3, 4, 4, dtype=torch.float64)
    x = torch.randn(5, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    logits = (x * a).sum(dim=(1, 2, 3)) + (x * b).sum(dim=(1, 2, 3)).square() / 2
    penalty = r1_penalty(logits, x)
    bx = (x.detach() * b).sum(dim=(1, 2, 3))
    expected = (a + bx[:, None, None, None] * b).square().sum(dim=(1, 2, 3))
    torch.testing.assert_close(penalty, expected)
    penalty.sum().backward()  # differentiable (create_graph), as the D reg phase needs
    with pytest.raises(ValueError, match="requires_grad"):
        r1_penalty(logits, x.detach())


def test_path_lengths_equal_the_hand_computed_jacobian_products() -> None:
    # images_n = Σ_l M_l ws[n, l]  =>  ∂Σ(images·y)/∂ws[n, l] = M_lᵀ y_n
    n, num_ws, w_dim, pixels = 3, 4, 5, 2 * 3 * 3
    M = torch.randn(num_ws, pixels, w_dim, dtype=torch.float64)
    ws = torch.randn(n, num_ws, w_dim, dtype=torch.float64, requires_grad=True)
    images = torch.einsum("lpw,nlw->np", M, ws).reshape(n, 2, 3, 3)
    noise = torch.randn(n, 2, 3, 3, dtype=torch.float64) / math.sqrt(9)
    lengths = path_lengths(images, ws, noise)
    grads = torch.einsum("lpw,np->nlw", M, noise.reshape(n, pixels))
    torch.testing.assert_close(lengths, grads.square().sum(dim=2).mean(dim=1).sqrt())
    with pytest.raises(ValueError, match="shaped like"):
        path_lengths(images, ws, noise[:, :1])


def test_path_length_penalty_and_running_mean() -> None:
    lengths = torch.tensor([1.0, 2.0, 4.0])
    penalty, mean = path_length_penalty(lengths, torch.tensor(0.5), decay=0.01)
    expected_mean = 0.5 + 0.01 * (7 / 3 - 0.5)
    torch.testing.assert_close(mean, torch.tensor(expected_mean))
    torch.testing.assert_close(penalty, (lengths - expected_mean).square())


def test_path_length_gradient_also_flows_through_the_batch_mean() -> None:
    # The official new mean, pl_mean.lerp(pl_lengths.mean(), decay), is not detached, so
    # ∂mean_i (l_i - m)²/∂l_k = r_k - decay·mean(r) with r_k = 2(l_k - m)/N.
    lengths = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64, requires_grad=True)
    penalty, mean = path_length_penalty(lengths, torch.tensor(0.5, dtype=torch.float64), decay=0.01)
    penalty.mean().backward()
    r = 2 * (lengths.detach() - mean.detach()) / 3
    torch.testing.assert_close(lengths.grad, r - 0.01 * r.mean())


@pytest.mark.parametrize(
    ("res", "gpus", "batch", "mbstd", "cbase", "lr", "gamma", "ema"),
    [
        (1024, 8, 32, 4, 32768, 0.002, 0.0002 * 1024**2 / 32, 10.0),
        (256, 8, 64, 4, 16384, 0.0025, 0.0002 * 256**2 / 64, 20.0),
        (256, 1, 16, 4, 16384, 0.0025, 0.0002 * 256**2 / 16, 5.0),
        (512, 2, 16, 4, 32768, 0.0025, 0.0002 * 512**2 / 16, 5.0),
        (32, 2, 64, 4, 16384, 0.0025, 0.0002 * 32**2 / 64, 20.0),
        (1024, 1, 4, 4, 32768, 0.002, 0.0002 * 1024**2 / 4, 1.25),
    ],
)
def test_auto_formula(res, gpus, batch, mbstd, cbase, lr, gamma, ema) -> None:
    auto = auto_hyperparameters(res, gpus)
    assert (auto.batch_size, auto.mbstd_group_size, auto.channel_base, auto.lr) == (batch, mbstd, cbase, lr)
    assert auto.r1_gamma == pytest.approx(gamma) and auto.ema_kimg == pytest.approx(ema)
    assert (auto.ema_rampup, auto.mapping_layers) == (0.05, 2)
