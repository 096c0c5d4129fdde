"""StyleGAN2 layers against explicit computations: FIR resampling, resampling convs, modulated conv."""

import math

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.layers import (
    Conv2dLayer,
    bias_act,
    conv2d_resample,
    downsample2d,
    filter2d,
    fir_filter,
    modulated_conv2d,
    upfirdn2d,
    upsample2d,
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _explicit_upfirdn_1d(x: list[float], f: list[float], up: int, down: int, pad: tuple[int, int], gain: float) -> list[float]:
    """The textbook definition on a python list: zero-insert, pad, full convolution, keep every down-th."""
    u = []
    for value in x:
        u += [value] + [0.0] * (up - 1)
    u = [0.0] * pad[0] + u + [0.0] * pad[1]
    taps = len(f)
    out = [sum(u[o + t] * f[taps - 1 - t] for t in range(taps)) * gain for o in range(len(u) - taps + 1)]
    return out[::down]


@pytest.mark.parametrize(("up", "down", "pad"), [(1, 1, (1, 2)), (2, 1, (2, 1)), (1, 2, (1, 1)), (3, 1, (0, 0))])
def test_upfirdn2d_matches_the_textbook_definition(up: int, down: int, pad: tuple[int, int]) -> None:
    f = [1.0, 2.0, 5.0]  # asymmetric: catches a missing flip
    row = torch.randn(7, dtype=torch.float64)
    x = row.reshape(1, 1, 1, 7)
    f2 = torch.tensor([f], dtype=torch.float64)  # a 1×3 2-D filter acts along x only
    out = upfirdn2d(x, f2, up=up, down=down, padding=(pad[0], pad[1], 0, 0), gain=2.0)
    expected = _explicit_upfirdn_1d(row.tolist(), f, up, down, pad, 2.0)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor(expected, dtype=torch.float64))


def test_separable_and_2d_filters_agree_and_keep_dc() -> None:
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    f1, f2 = fir_filter().double(), fir_filter(separable=False).double()
    torch.testing.assert_close(upsample2d(x, f1), upsample2d(x, f2))
    torch.testing.assert_close(downsample2d(x, f1), downsample2d(x, f2))
    ones = torch.ones(1, 1, 8, 8)
    interior = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    torch.testing.assert_close(upsample2d(ones, fir_filter())[interior], torch.ones(1, 1, 12, 12))
    torch.testing.assert_close(downsample2d(ones, fir_filter())[..., 1:-1, 1:-1], torch.ones(1, 1, 2, 2))
    torch.testing.assert_close(filter2d(ones, fir_filter())[..., 2:-2, 2:-2], torch.ones(1, 1, 4, 4))


def test_resampling_is_centred() -> None:
    # A linear ramp stays a ramp: upsampled pixel centres sit at (o + 0.5) / 2 - 0.5 input pixels.
    ramp = torch.arange(8, dtype=torch.float64).reshape(1, 1, 1, 8).repeat(1, 1, 8, 1)
    up = upsample2d(ramp, fir_filter().double())[0, 0, 6, 3:13]
    torch.testing.assert_close(up, (torch.arange(3, 13, dtype=torch.float64) + 0.5) / 2 - 0.5)
    down = downsample2d(ramp, fir_filter().double())[0, 0, 2, 1:3]
    torch.testing.assert_close(down, torch.tensor([2.5, 4.5], dtype=torch.float64))


def _reference_upsampling_conv(x: torch.Tensor, w: torch.Tensor, taps: tuple[float, ...] = (1, 3, 3, 1)) -> torch.Tensor:
    """The official up=2 layer written out with plain F.conv2d: zero insertion, padding, the 2-D FIR
    filter (×4 to keep the DC level), then a "valid" true convolution with the kernel (F.conv2d
    correlates, so the kernel is rotated by 180°)."""
    n, c, h, wd = x.shape
    k = w.shape[-1]
    up = torch.zeros(n, c, 2 * h, 2 * wd, dtype=x.dtype)
    up[:, :, ::2, ::2] = x
    t = torch.tensor(taps, dtype=x.dtype)
    f = torch.outer(t, t) / torch.outer(t, t).sum()
    p0, p1 = 2 + k // 2, 1 + k // 2
    up = F.conv2d(F.pad(up, [p0, p1, p0, p1]).reshape(n * c, 1, 2 * h + p0 + p1, -1), f.flip([0, 1])[None, None] * 4)
    return F.conv2d(up.reshape(n, c, *up.shape[-2:]), w.flip([2, 3]))


@pytest.mark.parametrize("k", [1, 3])
def test_upsampling_conv_equals_the_official_computation_written_out(k: int) -> None:
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64)
    w = torch.randn(5, 4, k, k, dtype=torch.float64)
    for f in (fir_filter().double(), fir_filter(separable=False).double()):
        torch.testing.assert_close(conv2d_resample(x, w, f, up=2), _reference_upsampling_conv(x, w))
    # away from the border it is plain "upsample, then same (true) conv"
    same = F.conv2d(upsample2d(x, fir_filter().double()), w.flip([2, 3]), padding=k // 2)
    torch.testing.assert_close(conv2d_resample(x, w, fir_filter().double(), up=2)[..., 2:-2, 2:-2], same[..., 2:-2, 2:-2])


def test_upsampling_conv_is_a_true_convolution_not_a_correlation() -> None:
    # A single kernel tap at the top-left moves an impulse's response up and to the left
    # (F.conv2d, a correlation, would move it down and to the right).
    x = torch.zeros(1, 1, 5, 5, dtype=torch.float64)
    x[0, 0, 2, 2] = 1
    w = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    w[0, 0, 0, 0] = 1
    out = conv2d_resample(x, w, fir_filter(separable=False).double(), up=2)[0, 0]
    centred = conv2d_resample(x, torch.ones(1, 1, 1, 1, dtype=torch.float64), fir_filter().double(), up=2)[0, 0]
    torch.testing.assert_close(out[:-1, :-1], centred[1:, 1:])
    torch.testing.assert_close(out.sum(), torch.tensor(4.0, dtype=torch.float64))  # the whole response is inside


@pytest.mark.parametrize("k", [1, 3])
def test_downsampling_conv_is_filter_then_strided_conv(k: int) -> None:
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    w = torch.randn(5, 4, k, k, dtype=torch.float64)
    f = fir_filter().double()
    out = conv2d_resample(x, w, f, down=2)
    assert out.shape == (2, 5, 4, 4)
    if k == 1:
        torch.testing.assert_close(out, F.conv2d(downsample2d(x, f), w))


def test_grouped_resampling_conv_equals_per_group_convs() -> None:
    x = torch.randn(1, 6, 5, 5, dtype=torch.float64)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64)
    f = fir_filter().double()
    out = conv2d_resample(x, w, f, up=2, groups=2)
    expected = torch.cat([conv2d_resample(x[:, :3], w[:2], f, up=2), conv2d_resample(x[:, 3:], w[2:], f, up=2)], dim=1)
    torch.testing.assert_close(out, expected)


def test_resampling_conv_rejects_bad_arguments() -> None:
    x, w = torch.randn(1, 2, 4, 4), torch.randn(2, 2, 2, 2)
    with pytest.raises(ValueError, match="odd"):
        conv2d_resample(x, w)
    with pytest.raises(ValueError, match="FIR filter"):
        conv2d_resample(x, torch.randn(2, 2, 3, 3), up=2)


# ---- modulated convolution -------------------------------------------------------------------


def _explicit_modulated(x, weight, styles, demodulate, up):
    """One ordinary convolution per sample with that sample's modulated (and demodulated) kernel."""
    k = weight.shape[-1]
    outs = []
    for i in range(x.shape[0]):
        w = weight * styles[i].reshape(1, -1, 1, 1)
        if demodulate:
            w = w / (w.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
        xi = x[i : i + 1]
        if up == 2:
            outs.append(_reference_upsampling_conv(xi, w))
        else:
            outs.append(F.conv2d(xi, w, padding=k // 2))
    return torch.cat(outs)


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("demodulate", [False, True])
@pytest.mark.parametrize(("k", "up"), [(3, 1), (3, 2), (1, 1)])
def test_modulated_conv_equals_explicit_per_sample_convolution(fused: bool, demodulate: bool, k: int, up: int) -> None:
    x = torch.randn(3, 4, 6, 6, dtype=torch.float64)
    weight = torch.randn(5, 4, k, k, dtype=torch.float64)
    styles = torch.randn(3, 4, dtype=torch.float64)
    out = modulated_conv2d(x.clone(), weight, styles.clone(), demodulate=demodulate, up=up, resample_filter=fir_filter().double(), fused=fused)
    torch.testing.assert_close(out, _explicit_modulated(x, weight, styles, demodulate, up))


def test_demodulation_gives_unit_output_variance_for_unit_input() -> None:
    x = torch.randn(64, 32, 24, 24, dtype=torch.float64)
    weight = torch.randn(16, 32, 3, 3, dtype=torch.float64) * 5  # the scale must not matter
    styles = torch.rand(64, 32, dtype=torch.float64) * 3 + 0.1
    out = modulated_conv2d(x, weight, styles, demodulate=True)[..., 1:-1, 1:-1]  # interior: every tap sees data
    per_channel = out.var(dim=(0, 2, 3))
    torch.testing.assert_close(per_channel, torch.ones(16, dtype=torch.float64), atol=0.03, rtol=0)
    plain = modulated_conv2d(x, weight, styles, demodulate=False)[..., 1:-1, 1:-1]
    assert plain.var() > 10  # without demodulation the styles' scale passes through


def test_modulated_conv_checks_shapes() -> None:
    with pytest.raises(ValueError, match="disagree"):
        modulated_conv2d(torch.randn(2, 4, 5, 5), torch.randn(3, 4, 3, 3), torch.randn(2, 5))


# ---- bias_act and Conv2dLayer -------------------------------------------------------------------


def test_bias_act_order_gain_and_clamp() -> None:
    x = torch.tensor([[-2.0, 1.0], [3.0, -0.5]]).reshape(1, 2, 2, 1)
    bias = torch.tensor([1.0, -1.0])
    y = bias_act(x, bias, "lrelu", gain=0.5, clamp=0.6)
    pre = x + bias.reshape(1, 2, 1, 1)
    expected = (F.leaky_relu(pre, 0.2) * math.sqrt(2) * 0.5).clamp(-0.3, 0.3)
    torch.testing.assert_close(y, expected)
    with pytest.raises(ValueError, match="activation"):
        bias_act(x, activation="relu6")


def test_conv2d_layer_runtime_scale_and_resampling_shapes() -> None:
    layer = Conv2dLayer(4, 6, 3, activation="linear")
    x = torch.randn(2, 4, 8, 8)
    torch.testing.assert_close(layer(x), F.conv2d(x, layer.weight / math.sqrt(36), layer.bias, padding=1))
    assert Conv2dLayer(4, 6, 3, down=2)(x).shape == (2, 6, 4, 4)
    assert Conv2dLayer(4, 6, 1, up=2, bias=False)(x).shape == (2, 6, 16, 16)
