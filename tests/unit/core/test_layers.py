"""Shared layers against hand-computed values: equalized LR, pixel norm, minibatch stddev, resampling."""

import math

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.layers import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    downsample_box2x,
    downscale_box,
    pixel_norm,
    upsample_nearest2x,
    upscale_nearest,
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# ---- equalized learning rate -------------------------------------------------------------------


def test_equalized_linear_equals_explicitly_scaled_linear() -> None:
    layer = EqualizedLinear(6, 3, gain=math.sqrt(2), lr_mul=0.5, bias_init=0.3)
    x = torch.randn(5, 6)
    scale = math.sqrt(2) * 0.5 / math.sqrt(6)
    expected = F.linear(x, layer.weight * scale, layer.bias * 0.5)
    torch.testing.assert_close(layer(x), expected)
    torch.testing.assert_close(layer.bias.detach(), torch.full((3,), 0.3))  # stored as bias_init


def test_equalized_conv_equals_explicitly_scaled_conv() -> None:
    layer = EqualizedConv2d(4, 2, 3, gain=2.0, lr_mul=0.1)
    with torch.no_grad():
        layer.bias.copy_(torch.tensor([1.0, -2.0]))
    x = torch.randn(2, 4, 5, 5)
    expected = F.conv2d(x, layer.weight * 2.0 * 0.1 / math.sqrt(4 * 9), torch.tensor([0.1, -0.2]), padding=1)
    out = layer(x)
    assert out.shape == (2, 2, 5, 5)  # default padding keeps the size
    torch.testing.assert_close(out, expected)


def test_equalized_conv_explicit_padding_and_no_bias() -> None:
    layer = EqualizedConv2d(3, 2, 3, bias=False, padding=0)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x = torch.randn(1, 3, 6, 6)
    torch.testing.assert_close(layer(x), F.conv2d(x, layer.weight / math.sqrt(27)))


def test_equalized_parameter_names_and_init() -> None:
    layer = EqualizedLinear(4096, 64)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert abs(layer.weight.std().item() - 1.0) < 0.01  # stored N(0, 1)
    assert torch.count_nonzero(layer.bias) == 0


def test_lr_mul_keeps_runtime_weight_but_scales_its_gradient() -> None:
    slow = EqualizedLinear(4096, 64, lr_mul=0.01)
    # Stored weights are N(0, 1/lr_mul²), so the runtime weight still has std gain/sqrt(fan_in).
    assert abs(slow.weight.std().item() - 100.0) < 1.0
    runtime_std = (slow.weight * slow.weight_gain).std().item()
    assert abs(runtime_std * math.sqrt(4096) - 1.0) < 0.01

    fast = EqualizedLinear(4096, 64)
    with torch.no_grad():
        fast.weight.copy_(slow.weight * 0.01)  # same runtime weight
    x = torch.randn(3, 4096)
    torch.testing.assert_close(slow(x), fast(x))
    slow(x).sum().backward()
    fast(x).sum().backward()
    # d out / d stored weight = x * gain * lr_mul / sqrt(fan_in): the step is lr_mul times smaller.
    torch.testing.assert_close(slow.weight.grad, fast.weight.grad * 0.01)
    torch.testing.assert_close(slow.bias.grad, fast.bias.grad * 0.01)


# ---- pixel norm --------------------------------------------------------------------------------


def test_pixel_norm_hand_value_and_unit_mean_square() -> None:
    x = torch.tensor([[3.0, 4.0]])
    torch.testing.assert_close(pixel_norm(x), x / math.sqrt(12.5))
    y = PixelNorm()(torch.randn(2, 8, 3, 3) * 7.0)
    torch.testing.assert_close(y.square().mean(dim=1), torch.ones(2, 3, 3))


# ---- minibatch standard deviation --------------------------------------------------------------


def test_minibatch_std_hand_made_strided_groups() -> None:
    x = torch.tensor([0.0, 1.0, 10.0, 13.0]).reshape(4, 1, 1, 1)
    out = MinibatchStdDev(group_size=2)(x)
    assert out.shape == (4, 2, 1, 1)
    torch.testing.assert_close(out[:, :1], x)
    # Strided groups {0, 2} and {1, 3}: population stds 5 and 6. Contiguous groups {0, 1} and
    # {2, 3} would give 0.5 and 1.5.
    torch.testing.assert_close(out[:, 1].flatten(), torch.tensor([5.0, 6.0, 5.0, 6.0]))


def _reference_mbstd(x: torch.Tensor, group_size: int, num_features: int) -> torch.Tensor:
    n, c, h, w = x.shape
    groups = n // group_size
    extra = torch.empty(n, num_features, h, w)
    for g in range(groups):
        members = x[g::groups]  # sample i is in group i % groups
        for f in range(num_features):
            part = members[:, f * c // num_features : (f + 1) * c // num_features]
            std = (part.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
            extra[g::groups, f] = std
    return torch.cat([x, extra], dim=1)


@pytest.mark.parametrize(("n", "group_size", "num_features"), [(8, 4, 1), (6, 2, 1), (8, 4, 2), (3, 4, 1)])
def test_minibatch_std_matches_loop_reference(n: int, group_size: int, num_features: int) -> None:
    x = torch.randn(n, 4, 3, 3)
    expected = _reference_mbstd(x, min(group_size, n), num_features)
    torch.testing.assert_close(MinibatchStdDev(group_size, num_features)(x), expected)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_minibatch_std_of_16_bit_features_is_computed_in_fp32(dtype: torch.dtype) -> None:
    # As the official layer (TF "Cast to FP32"; ADA's fp32 epilogue): features of mean 40 and spread
    # 0.5 lose the spread to a 16-bit group mean (40 +- 0.125 in bf16) otherwise.
    g = torch.Generator().manual_seed(0)
    x = (40 + 0.5 * torch.randn(8, 4, 4, 4, generator=g)).to(dtype)
    out = MinibatchStdDev(group_size=4)(x)
    assert out.dtype == dtype and torch.equal(out[:, :4], x)
    expected = MinibatchStdDev(group_size=4)(x.float())[:, 4:]
    torch.testing.assert_close(out[:, 4:].float(), expected, rtol=1e-2, atol=0)


def test_minibatch_std_group_size_must_divide_batch() -> None:
    with pytest.raises(ValueError, match=r"group size 4 .* batch size 6"):
        MinibatchStdDev(group_size=4)(torch.randn(6, 2, 4, 4))


# ---- resampling --------------------------------------------------------------------------------


def test_upscale_nearest_and_downscale_box_hand_values() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    up = torch.tensor([[1.0, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]).reshape(1, 1, 4, 4)
    torch.testing.assert_close(upsample_nearest2x(x), up)
    torch.testing.assert_close(downsample_box2x(x), torch.tensor([2.5]).reshape(1, 1, 1, 1))
    torch.testing.assert_close(downscale_box(torch.arange(16.0).reshape(1, 1, 4, 4), 4), torch.tensor([7.5]).reshape(1, 1, 1, 1))


def test_box_down_inverts_nearest_up() -> None:
    x = torch.randn(2, 3, 4, 4)
    for factor in (1, 2, 4):
        assert upscale_nearest(x, factor).shape == (2, 3, 4 * factor, 4 * factor)
        torch.testing.assert_close(downscale_box(upscale_nearest(x, factor), factor), x)
    assert upscale_nearest(x, 1) is x and downscale_box(x, 1) is x


def test_nearest_2x_equals_torch_interpolate_in_values_and_gradients_bit_for_bit() -> None:
    from gan_zoo.layers.resample import interpolate_nearest2x

    g = torch.Generator().manual_seed(0)
    for shape in ((2, 3, 5, 7), (1, 4, 8, 8)):
        x = torch.randn(shape, generator=g, requires_grad=True)
        weights = torch.randn(shape[0], shape[1], 2 * shape[2], 2 * shape[3], generator=g)
        ours = interpolate_nearest2x(x)
        theirs = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        assert torch.equal(ours, theirs)
        (grad_ours,) = torch.autograd.grad((ours * weights).sum(), x)
        (grad_theirs,) = torch.autograd.grad((theirs * weights).sum(), x)
        assert torch.equal(grad_ours, grad_theirs)
    channels_last = torch.randn(2, 3, 4, 4, generator=g).to(memory_format=torch.channels_last)
    assert torch.equal(interpolate_nearest2x(channels_last), torch.nn.functional.interpolate(channels_last, scale_factor=2, mode="nearest"))


def test_nearest_upsample_module_replaces_nn_upsample_with_the_same_outputs_and_no_state() -> None:
    # Projected GAN's FastGAN blocks swap nn.Upsample for it: their state-dict keys must not move.
    from gan_zoo.layers.resample import NearestUpsample2x

    x = torch.randn(2, 4, 6, 6, generator=torch.Generator().manual_seed(1))
    assert torch.equal(NearestUpsample2x()(x), torch.nn.Upsample(scale_factor=2, mode="nearest")(x))
    assert NearestUpsample2x().state_dict() == {} and not list(NearestUpsample2x().parameters())
