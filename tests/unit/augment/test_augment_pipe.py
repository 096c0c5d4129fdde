"""AugmentPipe: identity at p=0, exact blits, gradients, determinism, presets and errors."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gan_zoo.augment import PRESETS, AugmentPipe
from gan_zoo.augment.filters import band_filters, symlet_lowpass
from gan_zoo.augment.geometric import WaveletResampler, rotate2d, translate2d
from gan_zoo.augment.pipe import _MULTIPLIERS


@pytest.fixture(autouse=True)
def one_thread():
    # These tensors are tiny: with two threads on a busy machine, thread hand-offs cost 20x the work.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def images(n=4, c=3, size=16, seed=0):
    # smooth content (upsampled noise) in [-1, 1], like a real image
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(n, c, size // 4, size // 4, generator=g) * 2 - 1, size=size, mode="bilinear", align_corners=False)
    return x.contiguous()


def run(pipe, x, seed=0, **kwargs):
    return pipe(x, generator=torch.Generator().manual_seed(seed), **kwargs)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_p_zero_is_exact_identity(preset):
    x = images()
    assert torch.equal(run(AugmentPipe.from_preset(preset, p=0.0), x), x)


@pytest.mark.parametrize("name", _MULTIPLIERS)
def test_every_augmentation_keeps_gradients(name):
    pipe = AugmentPipe(**{name: 1.0}, p=1.0)
    x = images().requires_grad_(True)
    y = run(pipe, x)
    assert y.shape == x.shape and y.dtype == x.dtype and torch.isfinite(y).all()
    weights = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
    (y * weights).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_full_pipeline_gradients_and_second_derivatives_match_finite_differences():
    # R1 differentiates D(augment(x)) w.r.t. x and then backpropagates that: both orders must be right.
    pipe = AugmentPipe.from_preset("bgcfnc", p=0.8)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    f = lambda t: run(pipe, t, seed=3)  # noqa: E731
    assert torch.autograd.gradcheck(f, (x,), fast_mode=True)
    assert torch.autograd.gradgradcheck(f, (x,), fast_mode=True)


def test_xflip_with_p1_is_an_exact_mirror_per_sample():
    x = images(n=16)
    y = run(AugmentPipe(xflip=1.0, p=1.0), x)
    flips = [torch.equal(y[i], x[i].flip(-1)) for i in range(16)]
    assert all(flips[i] or torch.equal(y[i], x[i]) for i in range(16))
    assert 0 < sum(flips) < 16  # the mirror itself is a coin flip


def test_rotate90_with_p1_is_an_exact_quarter_turn_per_sample():
    x = images(n=16)
    y = run(AugmentPipe(rotate90=1.0, p=1.0), x)
    turns = [next(k for k in range(4) if torch.equal(y[i], torch.rot90(x[i], k, (1, 2)))) for i in range(16)]
    assert len(set(turns)) > 1


def test_integer_translation_with_p1_copies_pixels_exactly_as_a_reflect_padded_shift():
    size, x = 16, images(n=8)
    y = run(AugmentPipe(xint=1.0, p=1.0), x)
    limit = round(0.125 * size)
    padded = F.pad(x, (limit,) * 4, mode="reflect")
    for i in range(8):
        matches = [
            (dx, dy)
            for dx in range(-limit, limit + 1)
            for dy in range(-limit, limit + 1)
            if torch.equal(y[i], padded[i, :, limit - dy : limit - dy + size, limit - dx : limit - dx + size])
        ]
        assert matches, f"sample {i} is not an exact shift"


def test_blit_rotate90_refuses_non_square_images():
    with pytest.raises(ValueError, match="square"):
        run(AugmentPipe(rotate90=1.0, p=1.0), torch.zeros(8, 3, 8, 16))


@pytest.mark.parametrize("name", ["brightness", "contrast", "hue", "saturation"])
def test_colour_transforms_with_zero_strength_are_identity(name):
    zero = {"brightness": "brightness_std", "contrast": "contrast_std", "hue": "hue_max", "saturation": "saturation_std"}[name]
    x = images()
    torch.testing.assert_close(run(AugmentPipe(**{name: 1.0, zero: 0.0}, p=1.0), x), x, rtol=0, atol=1e-6)


def test_luma_flip_keeps_chroma_and_negates_luma():
    x = images(n=32)
    y = run(AugmentPipe(lumaflip=1.0, p=1.0), x)
    flipped = [i for i in range(32) if not torch.equal(y[i], x[i])]
    assert flipped
    for i in flipped:
        torch.testing.assert_close(y[i].mean(0), -x[i].mean(0), atol=1e-5, rtol=0)
        torch.testing.assert_close(y[i] - y[i].mean(0), x[i] - x[i].mean(0), atol=1e-5, rtol=0)


def test_geometric_and_filter_with_zero_strength_are_identity():
    x = images()
    pipe = AugmentPipe(scale=1, rotate=1, aniso=1, xfrac=1, scale_std=0, rotate_max=0, aniso_std=0, xfrac_std=0, p=1.0)
    torch.testing.assert_close(run(pipe, x), x, atol=1e-4, rtol=0)  # up/down-sampling pair is an identity
    pipe = AugmentPipe(imgfilter=1.0, imgfilter_std=0.0, p=1.0)
    torch.testing.assert_close(run(pipe, x), x, atol=1e-5, rtol=0)  # the bands sum to an impulse


def test_wavelet_resampler_matches_exact_shifts_and_turns_on_smooth_images():
    x = images(n=2, size=32)
    resample = WaveletResampler()
    n = torch.zeros(2, dtype=torch.float64)
    shifted = resample(x, translate2d(n + 3, n))  # output reads the source 3 px to the right
    torch.testing.assert_close(shifted[..., 4:-8], x[..., 7:-5], atol=1e-4, rtol=0)
    turned = resample(x, rotate2d(n + math.pi / 2))
    error = min((turned - torch.rot90(x, k, (2, 3))).abs().max().item() for k in (1, 3))
    assert error < 0.05  # the symlet is nearly, not exactly, linear-phase


def test_same_seed_same_output_and_global_rng_is_used_without_a_generator():
    pipe, x = AugmentPipe.from_preset("bgcfnc", p=0.7), images()
    assert torch.equal(run(pipe, x, seed=5), run(pipe, x, seed=5))
    assert not torch.equal(run(pipe, x, seed=5), run(pipe, x, seed=6))
    torch.manual_seed(11)
    a = pipe(x)
    torch.manual_seed(11)
    assert torch.equal(pipe(x), a)


def test_output_shape_dtype_range_are_sane_for_every_preset_and_grey_images():
    for preset in PRESETS:
        for channels in (1, 3):
            x = images(n=8, c=channels)
            y = run(AugmentPipe.from_preset(preset, p=0.5), x)
            assert y.shape == x.shape and y.dtype == x.dtype and torch.isfinite(y).all()
            assert y.abs().max() < 8  # colour gains can exceed [-1, 1] a little, never explode


def test_half_precision_images_come_back_in_their_dtype():
    x = images().to(torch.bfloat16)
    y = run(AugmentPipe.from_preset("bgc", p=0.5), x)
    assert y.dtype == torch.bfloat16 and y.shape == x.shape


def test_ranks_draw_their_slice_of_the_global_batch():
    pipe, x = AugmentPipe.from_preset("bgcfnc", p=0.6), images(n=8)
    whole = run(pipe, x, seed=2)
    for rank in range(2):
        part = run(pipe, x[rank::2], seed=2, rank=rank, world_size=2)
        # the same transforms; resampling canvases differ per call, so equal up to float rounding
        torch.testing.assert_close(part, whole[rank::2], atol=1e-4, rtol=0)


def test_p_is_a_buffer_in_the_state_dict():
    pipe = AugmentPipe.from_preset("bgc", p=0.25)
    state = pipe.state_dict()
    assert set(state) == {"p"} and float(state["p"]) == 0.25
    other = AugmentPipe.from_preset("bgc")
    other.load_state_dict(state)
    assert float(other.p) == 0.25


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="bgcfnc"):
        AugmentPipe.from_preset("bgcx")
    with pytest.raises(ValueError, match="xflip"):
        AugmentPipe(xflip=-1)
    with pytest.raises(ValueError, match=r"\[N, C, H, W\]"):
        AugmentPipe(xflip=1, p=1)(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        run(AugmentPipe(brightness=1, p=1), torch.zeros(2, 4, 8, 8))


def test_fixed_filters_are_what_they_claim():
    h = np.array(symlet_lowpass(6))
    assert len(h) == 12 and math.isclose(h.sum(), math.sqrt(2))
    for shift in range(6):  # orthonormal to its even shifts
        assert math.isclose(np.dot(h[: len(h) - 2 * shift], h[2 * shift :]), float(shift == 0), abs_tol=1e-12)
    bands = np.array(band_filters())
    impulse = np.zeros(bands.shape[1])
    impulse[bands.shape[1] // 2] = 1
    np.testing.assert_allclose(bands.sum(0), impulse, atol=1e-12)
    response = np.abs(np.fft.rfft(bands, 256, axis=1))  # bin 128 = pi
    assert response[0, 0] > 0.99 and response[3, 128] > 0.99 and response[3, 0] < 1e-9
    assert response[1, 24] > 0.8 and response[2, 48] > 0.9  # 3pi/16, 3pi/8: band centres (33 taps: soft edges)


def test_the_geometric_warp_samples_where_kornias_warp_affine_does():
    # The sampling grid is built here (see gan_zoo.augment.grid_sample); kornia's warp of the same
    # affine map is the reference for where each output pixel reads.
    from kornia.geometry.transform import warp_affine

    from gan_zoo.augment.geometric import _sampling_grid
    from gan_zoo.augment.grid_sample import grid_sample_bilinear

    g = torch.Generator().manual_seed(0)
    source = torch.rand(3, 2, 20, 24, generator=g, dtype=torch.float64)
    reads = torch.eye(3, dtype=torch.float64).repeat(3, 1, 1)
    reads[:, :2, :2] += 0.2 * torch.randn(3, 2, 2, generator=g, dtype=torch.float64)
    reads[:, :2, 2] = 3 * torch.randn(3, 2, generator=g, dtype=torch.float64)
    ours = grid_sample_bilinear(source, _sampling_grid(reads, (20, 24), (18, 26), torch.float64))
    kornias = warp_affine(source, torch.linalg.inv(reads)[:, :2], dsize=(18, 26), mode="bilinear", padding_mode="zeros", align_corners=True)
    torch.testing.assert_close(ours, kornias, rtol=0, atol=1e-10)


def test_grid_sample_written_out_for_older_torch_is_torchs_and_twice_differentiable():
    from gan_zoo.augment.grid_sample import grid_sample_bilinear

    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 2, 6, 7, generator=g, dtype=torch.float64, requires_grad=True)
    grid = torch.rand(2, 5, 4, 2, generator=g, dtype=torch.float64) * 2.2 - 1.1  # some samples outside: zeros
    weights = torch.rand(2, 2, 5, 4, generator=g, dtype=torch.float64)
    written, native = grid_sample_bilinear(x, grid, native=False), grid_sample_bilinear(x, grid, native=True)
    assert written.grad_fn is not None and torch.equal(written, native)
    grads = [torch.autograd.grad((y * weights).sum(), x, create_graph=True)[0] for y in (written, native)]
    assert torch.equal(grads[0], grads[1])
    assert torch.autograd.gradgradcheck(lambda images: grid_sample_bilinear(images, grid, native=False), (x,))
