"""DiffAugment 'color,translation,cutout' (autonomousvision/projected-gan `pg_modules/diffaug.py`) and the fading blur
of D inputs (autonomousvision/stylegan-xl `training/loss.py` run_D, blur_init_sigma 2 / blur_fade_kimg 300 in `train.py`):
exact semantics of each op, per-sample draws from a generator, differentiability, and the schedule."""

import math

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.augment.blur import blur_images, blur_sigma
from gan_zoo.augment.diffaugment import color, cutout, diff_augment, random_cutout, random_translation, translate


def test_color_is_brightness_then_saturation_then_contrast_with_per_sample_draws() -> None:
    x = torch.randn(4, 3, 5, 5)
    out = color(x, torch.Generator().manual_seed(3))
    u = torch.rand(3, 4, 1, 1, 1, generator=torch.Generator().manual_seed(3))  # the same draws, in order
    expected = x + (u[0] - 0.5)
    mean = expected.mean(dim=1, keepdim=True)
    expected = (expected - mean) * (2 * u[1]) + mean
    mean = expected.mean(dim=(1, 2, 3), keepdim=True)
    expected = (expected - mean) * (u[2] + 0.5) + mean
    torch.testing.assert_close(out, expected)


def test_color_statistics_on_gray_images() -> None:
    # A uniform gray image has no saturation or contrast to scale: only brightness U(-0.5, 0.5) shows.
    x = torch.full((4000, 3, 2, 2), 0.25)
    shift = (color(x, torch.Generator().manual_seed(0)) - 0.25)[:, 0, 0, 0]
    assert shift.min() >= -0.5 and shift.max() <= 0.5
    assert shift.mean().abs() < 0.02 and abs(shift.std().item() - 1 / math.sqrt(12)) < 0.01


def test_translate_moves_content_by_whole_pixels_and_fills_zeros() -> None:
    x = torch.arange(1, 17, dtype=torch.float32).view(1, 1, 4, 4).repeat(2, 2, 1, 1)
    out = translate(x, torch.tensor([1, -2]), torch.tensor([0, 1]))
    # sample 0: out[i, j] = x[i + 1, j]; the last row comes from outside -> 0
    torch.testing.assert_close(out[0, 0, :3], x[0, 0, 1:])
    assert (out[0, :, 3] == 0).all()
    # sample 1: out[i, j] = x[i - 2, j + 1]
    torch.testing.assert_close(out[1, 1, 2:, :3], x[1, 1, :2, 1:])
    assert (out[1, :, :2] == 0).all() and (out[1, :, :, 3] == 0).all()


def test_random_translation_is_a_bounded_integer_shift() -> None:
    x = torch.rand(16, 3, 16, 16) + 1  # strictly positive: zeros come only from the fill
    out = random_translation(x, 0.125, torch.Generator().manual_seed(0))
    shifts = range(-2, 3)  # round(0.125 * 16) = 2
    for b in range(16):
        assert any(torch.equal(out[b : b + 1], translate(x[b : b + 1], torch.tensor([r]), torch.tensor([c]))) for r in shifts for c in shifts)


def test_cutout_zeroes_a_square_of_the_ratio_clipped_at_the_edges() -> None:
    x = torch.ones(3, 2, 20, 20)
    out = cutout(x, torch.tensor([10, 0, 19]), torch.tensor([10, 0, 2]), (4, 4))
    zero = out[:, 0] == 0
    assert zero[0, 8:12, 8:12].all() and zero[0].sum() == 16  # rows/cols [centre - 2, centre + 2)
    assert zero[1, :2, :2].all() and zero[1].sum() == 4  # clipped at the top-left corner
    assert zero[2, 17:, 0:4].all() and zero[2].sum() == 12
    assert torch.equal(out[:, 0], out[:, 1])  # every channel

    rand = random_cutout(torch.rand(64, 3, 30, 30) + 1, 0.2, torch.Generator().manual_seed(0))
    counts = (rand[:, 0] == 0).flatten(1).sum(1)
    assert counts.max() == 36 and counts.min() >= 9  # a 6x6 square (round(0.2 * 30)), partly outside at most 3/4


def test_diff_augment_is_differentiable_reproducible_and_checks_the_policy() -> None:
    x = torch.randn(4, 3, 16, 16, requires_grad=True)
    out = diff_augment(x, generator=torch.Generator().manual_seed(5))
    assert out.shape == x.shape
    (out * torch.randn_like(out)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    again = diff_augment(x.detach(), generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(out.detach(), again)
    assert not torch.equal(again, diff_augment(x.detach(), generator=torch.Generator().manual_seed(6)))
    torch.testing.assert_close(diff_augment(x.detach(), policy=""), x.detach())
    with pytest.raises(ValueError, match="unknown DiffAugment policy"):
        diff_augment(x, policy="color,flip")


def test_blur_schedule_fades_linearly_over_300_kimg() -> None:
    assert blur_sigma(0) == 2.0
    assert blur_sigma(150_000) == pytest.approx(1.0)
    assert blur_sigma(225_000) == pytest.approx(0.5)
    assert blur_sigma(300_000) == 0.0 and blur_sigma(10_000_000) == 0.0
    assert blur_sigma(0, init_sigma=2, fade_kimg=0) == 0.0


@pytest.mark.parametrize("sigma", [2.0, 1.0, 0.5])
def test_blur_matches_the_official_kernel(sigma) -> None:
    x = torch.randn(2, 3, 16, 16)
    radius = math.floor(3 * sigma)
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    f = (2.0 ** -((t / sigma) ** 2)).float()  # the official 2^-(t/σ)², normalised, zero padding
    f = f / f.sum()
    expected = F.conv2d(F.pad(x, [radius] * 4), torch.outer(f, f).expand(3, 1, -1, -1), groups=3)
    torch.testing.assert_close(blur_images(x, sigma), expected, atol=1e-5, rtol=1e-5)


def test_blur_below_a_third_of_a_pixel_is_the_identity() -> None:
    x = torch.randn(1, 3, 8, 8)
    assert blur_images(x, 0.3) is x
