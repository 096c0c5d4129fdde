"""Kaiser-windowed sinc low-pass design: hand-computed taps, scipy.signal.firwin parity, properties."""

import math

import pytest
import torch

from gan_zoo.layers.sinc_filter import kaiser_attenuation, kaiser_beta, lowpass_filter


def _i0(x: float) -> float:
    """Modified Bessel function of the first kind, order 0, by its power series Σ ((x/2)^k / k!)²."""
    return sum(((x / 2) ** k / math.factorial(k)) ** 2 for k in range(40))


def test_rectangular_window_taps_by_hand() -> None:
    # fs 4 (Nyquist 2), cutoff 1 = half of Nyquist, width 1: A = 2.285·2·π·(1/2) + 7.95 = 15.13 dB < 21,
    # so β = 0 and the window is flat. Taps at offsets -1, 0, 1: sinc(0.5·m) = 2/π, 1, 2/π,
    # normalised to unit sum: (2, π, 2) / (π + 4).
    taps = lowpass_filter(3, cutoff=1, width=1, fs=4)
    expected = torch.tensor([2, math.pi, 2], dtype=torch.float64) / (math.pi + 4)
    torch.testing.assert_close(taps, expected, rtol=0, atol=1e-15)


def test_kaiser_window_taps_by_hand() -> None:
    # fs 2 (Nyquist 1), cutoff 0.5, width 0.8, 5 taps: A = 2.285·4·π·0.8 + 7.95 = 30.92 dB, in the
    # middle formula's range: β = 0.5842·(A - 21)^0.4 + 0.07886·(A - 21).
    attenuation = 2.285 * 4 * math.pi * 0.8 + 7.95
    beta = 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21)
    assert kaiser_attenuation(5, 0.8) == pytest.approx(attenuation, rel=1e-15)
    assert kaiser_beta(attenuation) == pytest.approx(beta, rel=1e-15)
    # Offsets -2..2; window I0(β·sqrt(1 - r²)) / I0(β) with r = -1, -0.5, 0, 0.5, 1.
    raw = []
    for offset, r in zip((-2, -1, 0, 1, 2), (-1, -0.5, 0, 0.5, 1)):
        ideal = 1.0 if offset == 0 else math.sin(math.pi * 0.5 * offset) / (math.pi * 0.5 * offset)
        raw.append(ideal * _i0(beta * math.sqrt(1 - r * r)) / _i0(beta))
    expected = torch.tensor(raw, dtype=torch.float64) / sum(raw)
    torch.testing.assert_close(lowpass_filter(5, cutoff=0.5, width=0.8, fs=2), expected, rtol=0, atol=1e-14)


def test_kaiser_beta_regimes() -> None:
    assert kaiser_beta(20.0) == 0.0
    assert kaiser_beta(60.0) == pytest.approx(0.1102 * (60 - 8.7))
    assert kaiser_beta(50.0) == pytest.approx(0.5842 * 29**0.4 + 0.07886 * 29)


# (numtaps, cutoff, width, fs): StyleGAN3-T layers of the 16² stem and of a 1024² head (up and down
# filters, odd/even tap counts, all three β regimes) and a few arbitrary designs.
FIRWIN_CASES = [
    (12, 2.0, 12.0, 32),  # L0 up filter: cutoff 2, half width max(2^2.1, 8) - 2 = 6
    (12, 8.0, 2.0 * (8 * 2**0.3 - 8), 32),  # the critically sampled layers' filters
    (24, 16.0, 2.0 * (16 * 2**0.3 - 16), 128),  # a 4× up filter
    (12, 362.04, 2 * 149.96, 2048),  # a 1024² head layer
    (7, 0.3, 0.1, 1),  # odd, narrow band: β > 0 from the A > 50 formula
    (2, 0.25, 0.5, 1),  # two taps: always (0.5, 0.5)
    (1, 0.25, 0.5, 1),  # identity
    (31, 3.0, 0.5, 10),
]


@pytest.mark.parametrize(("numtaps", "cutoff", "width", "fs"), FIRWIN_CASES)
def test_matches_scipy_firwin(numtaps, cutoff, width, fs) -> None:
    signal = pytest.importorskip("scipy.signal")
    expected = torch.as_tensor(signal.firwin(numtaps=numtaps, cutoff=cutoff, width=width, fs=fs), dtype=torch.float64)
    torch.testing.assert_close(lowpass_filter(numtaps, cutoff, width, fs), expected, rtol=0, atol=1e-13)


def test_unit_dc_gain_symmetry_and_attenuation() -> None:
    taps = lowpass_filter(24, cutoff=4.0, width=6.0, fs=64)
    assert taps.sum().item() == pytest.approx(1.0, abs=1e-14)
    torch.testing.assert_close(taps, taps.flip(0), rtol=0, atol=1e-15)
    # Frequency response: 1 at DC, one half (-6 dB) at the cutoff as for any windowed sinc, and below
    # the Kaiser design's stopband ripple beyond cutoff + width/2 = 7 (times 3 for the formula's slack).
    freqs = torch.tensor([0.0, 4.0, 7.0, 14.0, 20.0, 30.0], dtype=torch.float64)
    n = torch.arange(24, dtype=torch.float64)
    response = (taps[None] * torch.exp(-2j * math.pi * freqs[:, None] * n[None] / 64)).sum(dim=1).abs()
    assert response[0] == pytest.approx(1.0, abs=1e-12)
    assert response[1] == pytest.approx(0.5, abs=0.02)
    assert response[2:].max() < 10 ** (-kaiser_attenuation(24, 6.0 / 32) / 20) * 3


def test_rejects_impossible_designs() -> None:
    with pytest.raises(ValueError, match="at least one tap"):
        lowpass_filter(0, 1.0, 1.0, 8)
    with pytest.raises(ValueError, match="cutoff"):
        lowpass_filter(8, 4.0, 1.0, 8)
    with pytest.raises(ValueError, match="width"):
        lowpass_filter(8, 1.0, 0.0, 8)
