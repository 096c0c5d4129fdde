"""Kaiser-windowed sinc low-pass filters: the resampling filters of the alias-free generator (StyleGAN3 §3.2).

Every StyleGAN3 layer holds a continuous signal band-limited to a cutoff f_c as samples at a rate s.
Resampling it without aliasing needs an ideal low-pass (a sinc), truncated to `numtaps` taps and
tapered by a Kaiser window. Kaiser's empirical formulas turn the transition band width (2·f_h) into
the stopband attenuation A (dB) and the window shape β:

    A = 2.285 · (numtaps - 1) · π · width / (fs/2) + 7.95
    β = 0.1102 (A - 8.7)                        if A > 50
        0.5842 (A - 21)^0.4 + 0.07886 (A - 21)  if 21 < A <= 50
        0                                       otherwise

This is `scipy.signal.firwin(numtaps, cutoff, width=width, fs=fs)`, which the official code calls,
written out in float64 torch (a test compares the two). The
filters are separable: the 2-D filter is the outer product of the 1-D taps with themselves.

StyleGAN3-R downsamples with a radially symmetric filter instead (`radial_lowpass_filter`): the 2-D
ideal low-pass of a disc, a jinc J1(2π f_c r) / (π r) (scipy's Bessel J1), tapered by the same
Kaiser window in x and y.
Separable filters pass more of the diagonal frequencies than the axis-aligned ones, which would
single out the pixel axes in a rotation-equivariant network (StyleGAN3 §3.2 and App. F).
"""

import math

import scipy.special
import torch


def kaiser_attenuation(numtaps: int, width: float) -> float:
    """Stopband attenuation (dB) of a Kaiser-window FIR; `width` is the transition band as a fraction of Nyquist."""
    return 2.285 * (numtaps - 1) * math.pi * width + 7.95


def kaiser_beta(attenuation: float) -> float:
    """The Kaiser window's β that reaches `attenuation` dB (Kaiser 1974; scipy.signal.kaiser_beta)."""
    if attenuation > 50:
        return 0.1102 * (attenuation - 8.7)
    if attenuation > 21:
        return 0.5842 * (attenuation - 21) ** 0.4 + 0.07886 * (attenuation - 21)
    return 0.0


def kaiser_window(numtaps: int, beta: float) -> torch.Tensor:
    """Symmetric Kaiser window, float64: I0(β·sqrt(1 - (2n/(N-1) - 1)²)) / I0(β)."""
    if numtaps == 1:
        return torch.ones(1, dtype=torch.float64, device="cpu")
    n = torch.arange(numtaps, dtype=torch.float64, device="cpu")
    ratio = 2 * n / (numtaps - 1) - 1
    # Clamped: rounding can push 1 - ratio² a hair below zero at the ends.
    arg = beta * (1 - ratio.square()).clamp(min=0).sqrt()
    return torch.special.i0(arg) / torch.special.i0(torch.tensor(beta, dtype=torch.float64, device="cpu"))


def lowpass_filter(
    numtaps: int,  # filter length; 1 gives the identity [1.0]
    cutoff: float,  # cutoff frequency f_c, in the units of fs (cycles per unit length)
    width: float,  # transition band width (2·f_h), same units
    fs: float,  # sampling rate of the signal the filter runs on
) -> torch.Tensor:
    """Separable 1-D low-pass taps [numtaps], float64 on the CPU, with unit DC gain (they sum to 1)."""
    if numtaps < 1:
        raise ValueError(f"a low-pass filter needs at least one tap, got numtaps={numtaps}")
    nyquist = fs / 2
    if not 0 < cutoff < nyquist:
        raise ValueError(f"the cutoff must lie strictly between 0 and fs/2 = {nyquist:g}, got {cutoff:g}")
    if width <= 0:
        raise ValueError(f"the transition band width must be positive, got {width:g}")
    # The ideal low-pass impulse response, centred between the taps when numtaps is even. Its scale
    # does not matter: the windowed taps are normalised to unit DC gain below.
    offsets = torch.arange(numtaps, dtype=torch.float64, device="cpu") - (numtaps - 1) / 2
    taps = torch.sinc(cutoff / nyquist * offsets)
    taps = taps * kaiser_window(numtaps, kaiser_beta(kaiser_attenuation(numtaps, width / nyquist)))
    return taps / taps.sum()


def radial_lowpass_filter(
    numtaps: int,  # filter side; 1 gives the identity [[1.0]]
    cutoff: float,  # cutoff radius f_c, in the units of fs
    width: float,  # transition band width (2·f_h), same units
    fs: float,  # sampling rate of the signal the filter runs on
) -> torch.Tensor:
    """Radially symmetric 2-D low-pass taps [numtaps, numtaps], float64 on the CPU, summing to 1.

    The official `design_lowpass_filter(..., radial=True)` (NVlabs/stylegan3
    `training/networks_stylegan3.py`) with scipy's j1, kaiser_beta and np.kaiser written in torch.
    """
    if numtaps < 1:
        raise ValueError(f"a low-pass filter needs at least one tap, got numtaps={numtaps}")
    if cutoff <= 0 or width <= 0:
        raise ValueError(f"cutoff and transition width must be positive, got cutoff={cutoff:g}, width={width:g}")
    offsets = (torch.arange(numtaps, dtype=torch.float64, device="cpu") - (numtaps - 1) / 2) / fs
    r = torch.hypot(offsets[None, :], offsets[:, None])
    # J1(2π f_c r) / (π r) tends to f_c at r = 0 (an odd filter's centre tap). scipy's J1, as the
    # official code: torch.special.bessel_j1 is off by up to 4e-7, which would change the taps.
    safe_r = torch.where(r == 0, torch.ones_like(r), r)
    bessel = torch.from_numpy(scipy.special.j1((2 * math.pi * cutoff * safe_r).numpy()))
    taps = torch.where(r == 0, torch.full_like(r, cutoff), bessel / (math.pi * safe_r))
    window = kaiser_window(numtaps, kaiser_beta(kaiser_attenuation(numtaps, width / (fs / 2))))
    taps = taps * torch.outer(window, window)
    return taps / taps.sum()
