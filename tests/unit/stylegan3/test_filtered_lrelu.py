"""Filtered leaky ReLU: a hand-computed case, equality with the upfirdn2d reference, gradients, shapes."""

import math

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.layers.filtered_lrelu import filtered_lrelu
from gan_zoo.layers.sinc_filter import lowpass_filter
from gan_zoo.layers.upfirdn import upfirdn2d


def reference(x, fu, fd, b, up, down, padding, gain, slope, clamp):
    """The official reference's order of operations, on the straightforward zero-insertion upfirdn2d."""
    x = x + b.reshape(1, -1, 1, 1)
    x = upfirdn2d(x, fu if fu is not None else torch.ones(1, dtype=x.dtype), up=up, padding=padding, gain=up**2)
    x = F.leaky_relu(x, slope) * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return upfirdn2d(x, fd if fd is not None else torch.ones(1, dtype=x.dtype), down=down)


def test_nearest_neighbour_case_by_hand() -> None:
    # up 2 with taps (0.5, 0.5) (·2 per axis for the up² gain) is nearest-neighbour upsampling:
    # row [1, -2] -> zero-inserted [1, 0, -2, 0] -> one zero in front -> [0, 1, 0, -2, 0] -> pairs
    # summed -> [1, 1, -2, -2]; the same along the height turns the one row into two. Then
    # lrelu(0.2)·gain with gain 1, and a 1-tap down filter keeps it.
    x = torch.tensor([[[[1.0, -2.0]]]])
    half = torch.tensor([0.5, 0.5])
    y = filtered_lrelu(x, half, None, bias=None, up=2, down=1, padding=(1, 0, 1, 0), gain=1.0, slope=0.2)
    torch.testing.assert_close(y, torch.tensor([[[[1.0, 1.0, -0.4, -0.4]] * 2]]))
    # Bias first (+1: [2, -1]), gain √2, clamp at 2: lrelu -> [2, -0.2]·√2 -> [2 (clamped), -0.2828].
    y = filtered_lrelu(x, half, None, bias=torch.ones(1), up=2, padding=(1, 0, 1, 0), clamp=2.0)
    torch.testing.assert_close(y[0, 0, 0], torch.tensor([2.0, 2.0, -0.2 * math.sqrt(2), -0.2 * math.sqrt(2)]))
    # The padding moved to the right, (0, 1): [1, 0, -2, 0, 0] -> pairs summed -> [1, -2, -2, 0] -> lrelu
    # -> [1, -0.4, -0.4, 0]. Then down 2 with taps (0.25, 0.75), a convolution: out[j] = 0.75·v[j] +
    # 0.25·v[j+1], kept at j = 0, 2: 0.75 - 0.1 = 0.65 and -0.3 + 0 = -0.3 (a correlation would give
    # -0.05 and -0.1). Along the height the two equal rows average to one.
    y = filtered_lrelu(x, half, torch.tensor([0.25, 0.75]), up=2, down=2, padding=(0, 1, 1, 0), gain=1.0)
    torch.testing.assert_close(y, torch.tensor([[[[0.65, -0.3]]]]))


CASES = [  # up, down, up taps, down taps, padding, gain, slope, clamp
    (2, 2, 12, 12, (9, 8, 9, 8), math.sqrt(2), 0.2, 256.0),  # a StyleGAN3 layer at a fixed rate
    (2, 2, 12, 12, (-11, -12, -11, -12), math.sqrt(2), 0.2, 0.5),  # a critically sampled layer cropping its margin; clamp active
    (4, 2, 24, 12, (21, 20, 21, 20), math.sqrt(2), 0.2, None),  # a layer doubling its rate
    (2, 4, 12, 24, (3, 4, 5, 2), 1.0, 0.0, None),  # halving its rate, asymmetric padding, plain ReLU
    (1, 1, 1, 1, (0, 0, 0, 0), 1.0, 1.0, 256.0),  # ToRGB: linear, no filters
    (3, 1, 7, 5, (2, -1, 0, 3), 2.0, 0.3, None),  # odd factors and odd, asymmetric filters
]


@pytest.mark.parametrize(("up", "down", "up_taps", "down_taps", "padding", "gain", "slope", "clamp"), CASES)
def test_matches_upfirdn2d_reference(up, down, up_taps, down_taps, padding, gain, slope, clamp) -> None:
    generator = torch.Generator().manual_seed(up * 10 + down)
    x = torch.randn(2, 3, 38, 41, generator=generator, dtype=torch.float64)
    b = torch.randn(3, generator=generator, dtype=torch.float64)
    # Random (not symmetric) taps, so that a flipped filter or a transposed axis would show.
    fu = torch.rand(up_taps, generator=generator, dtype=torch.float64) if up_taps > 1 else None
    fd = torch.rand(down_taps, generator=generator, dtype=torch.float64) if down_taps > 1 else None
    expected = reference(x, fu, fd, b, up, down, padding, gain, slope, clamp)
    actual = filtered_lrelu(x, fu, fd, b, up=up, down=down, padding=padding, gain=gain, slope=slope, clamp=clamp)
    assert actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-12)


def test_gradients_match_reference_and_second_order() -> None:
    # Path-length regularisation differentiates twice through the synthesis network.
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 2, 6, 7, generator=generator, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, generator=generator, dtype=torch.float64, requires_grad=True)
    fu = lowpass_filter(12, 2.0, 12.0, 32)
    fd = lowpass_filter(12, 2.6, 10.0, 32)
    kwargs = dict(up=2, down=2, padding=(9, 8, 9, 8), gain=math.sqrt(2), slope=0.2, clamp=None)
    assert torch.autograd.gradcheck(lambda x, b: filtered_lrelu(x, fu, fd, b, **kwargs), (x, b))
    assert torch.autograd.gradgradcheck(lambda x, b: filtered_lrelu(x, fu, fd, b, **kwargs), (x, b))


def test_output_size_and_errors() -> None:
    x = torch.randn(1, 4, 36, 36)
    fu, fd = lowpass_filter(12, 2.0, 12.0, 32).float(), lowpass_filter(12, 2.6, 10.0, 32).float()
    # A StyleGAN3 layer's 3×3 "full" convolution turns 36 into 38; padding (9, 8) brings it back to 36.
    assert filtered_lrelu(torch.randn(1, 4, 38, 38), fu, fd, up=2, down=2, padding=(9, 8, 9, 8)).shape == (1, 4, 36, 36)
    with pytest.raises(ValueError, match="no output pixel"):
        filtered_lrelu(x, fu, fd, up=2, down=2, padding=-40)
    with pytest.raises(ValueError, match="separable"):
        filtered_lrelu(x, torch.ones(3, 3), fd, up=2, down=2)
