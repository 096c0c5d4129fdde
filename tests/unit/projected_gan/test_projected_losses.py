"""Hinge losses over the projected discriminator's per-backbone logits: hand values, StyleGAN-XL's
list-of-rows scaling (re-enacted literally) against the average, and classifier guidance."""

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.losses.projected_hinge import classifier_guidance_loss, projected_hinge_d_loss, projected_hinge_g_loss


def official_list_of_rows(per_backbone: list[torch.Tensor]) -> list[torch.Tensor]:
    """What StyleGAN-XL's D returns: `logits += tensor` extends a list with the tensor's rows."""
    rows: list[torch.Tensor] = []
    for logits in per_backbone:
        rows += logits
    return rows


def test_hand_values_one_backbone() -> None:
    real = [torch.tensor([[2.0, 0.0], [0.5, -1.0]])]
    fake = [torch.tensor([[-2.0, 0.0], [1.0, 0.5]])]
    # relu(1 - real) = [[0, 1], [.5, 2]] -> mean .875; relu(1 + fake) = [[0, 1], [2, 1.5]] -> mean 1.125
    assert projected_hinge_d_loss(real, fake, official_loss_scaling=False).item() == pytest.approx(0.875 + 1.125)
    # per-sample means summed over the 2 samples: real (.5 + 1.25), fake (.5 + 1.75)
    assert projected_hinge_d_loss(real, fake, official_loss_scaling=True).item() == pytest.approx(1.75 + 2.25)
    assert projected_hinge_g_loss(fake, official_loss_scaling=False).item() == pytest.approx(-(-2 + 0 + 1 + 0.5) / 4)
    assert projected_hinge_g_loss(fake, official_loss_scaling=True).item() == pytest.approx(-(-2 + 0 + 1 + 0.5) / 2)


def test_official_scaling_reenacts_stylegan_xl_and_is_batch_times_the_average() -> None:
    torch.manual_seed(0)
    batch = 3
    real = [torch.randn(batch, 64), torch.randn(batch, 64)]
    fake = [torch.randn(batch, 64), torch.randn(batch, 64)]
    rows_real, rows_fake = official_list_of_rows(real), official_list_of_rows(fake)
    assert len(rows_fake) == 2 * batch and rows_fake[0].shape == (64,)
    official_d = sum(F.relu(1 - r).mean() for r in rows_real) + sum(F.relu(1 + r).mean() for r in rows_fake)
    official_g = sum((-r).mean() for r in rows_fake)
    torch.testing.assert_close(projected_hinge_d_loss(real, fake, official_loss_scaling=True), official_d)
    torch.testing.assert_close(projected_hinge_g_loss(fake, official_loss_scaling=True), official_g)
    torch.testing.assert_close(projected_hinge_d_loss(real, fake, official_loss_scaling=False) * batch, official_d)
    torch.testing.assert_close(projected_hinge_g_loss(fake, official_loss_scaling=False) * batch, official_g)


def test_average_mode_is_projected_gans_tensor_mean_and_sums_backbones() -> None:
    torch.manual_seed(1)
    a, b = torch.randn(4, 100), torch.randn(4, 64)
    torch.testing.assert_close(projected_hinge_g_loss([a], official_loss_scaling=False), (-a).mean())
    torch.testing.assert_close(projected_hinge_g_loss([a, b], official_loss_scaling=False), (-a).mean() + (-b).mean())
    with pytest.raises(ValueError, match="one logits tensor per backbone"):
        projected_hinge_g_loss([], official_loss_scaling=False)


def test_losses_are_differentiable() -> None:
    logits = [torch.randn(2, 8, requires_grad=True)]
    projected_hinge_d_loss(logits, logits, official_loss_scaling=True).backward()
    assert logits[0].grad is not None


def test_classifier_guidance_is_cross_entropy_on_the_label_index() -> None:
    logits = torch.randn(3, 1000)
    c = F.one_hot(torch.tensor([5, 999, 0]), 1000).float()
    torch.testing.assert_close(classifier_guidance_loss(logits, c), F.cross_entropy(logits, torch.tensor([5, 999, 0])))
