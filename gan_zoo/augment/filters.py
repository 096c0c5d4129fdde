"""The fixed 1-D filters of the pipeline, derived here from their definitions (no tables copied).

* `symlet_lowpass(n)`: the orthonormal Daubechies scaling filter with `n` vanishing moments whose
  phase is closest to linear (a "symlet"), by spectral factorisation of the Daubechies polynomial.
  The ADA paper resamples geometric transforms with a symlet because an orthonormal filter makes
  "upsample, then downsample" an exact identity while suppressing aliasing well.
* `band_filters(...)`: four linear-phase FIR filters that split [0, pi] into the bands
  [0, pi/8], [pi/8, pi/4], [pi/4, pi/2], [pi/2, pi] of the ADA image-space filtering, designed as
  differences of Hann-windowed sinc low-passes so that they sum to a unit impulse exactly.
"""

import itertools
import math
from functools import cache

import numpy as np


@cache
def symlet_lowpass(vanishing_moments: int = 6) -> tuple[float, ...]:
    """Symlet scaling filter (2 * vanishing_moments taps, sum sqrt(2), orthonormal to even shifts)."""
    n = int(vanishing_moments)
    if n < 1:
        raise ValueError(f"a symlet needs at least 1 vanishing moment, got {vanishing_moments}")
    # |Q(w)|^2 = P(sin^2(w/2)), P(y) = sum_k C(n-1+k, k) y^k; y = (2 - z - 1/z) / 4 gives, per root
    # y_j, a reciprocal pair z, 1/z. Any choice of one root per pair is a valid orthonormal filter;
    # a symlet is the choice with the most linear phase.
    poly = [math.comb(n - 1 + k, k) for k in range(n)]
    y_roots = np.roots(poly[::-1]) if n > 1 else np.array([])
    groups = []  # each: the two candidate root sets (z values) for one real y or one conjugate pair
    done = np.zeros(len(y_roots), dtype=bool)
    for i, y in enumerate(y_roots):
        if done[i]:
            continue
        done[i] = True
        z = np.roots([1.0, -(2.0 - 4.0 * y), 1.0])  # z + 1/z = 2 - 4y
        if abs(y.imag) < 1e-12:
            groups.append(([z[0]], [z[1]]))
        else:
            j = next(k for k in range(len(y_roots)) if not done[k] and abs(y_roots[k] - np.conj(y)) < 1e-9)
            done[j] = True
            groups.append(([z[0], np.conj(z[0])], [z[1], np.conj(z[1])]))
    omega = np.linspace(1e-3, math.pi - 1e-3, 512)
    best, best_cost = None, math.inf
    for choice in itertools.product((0, 1), repeat=len(groups)):
        roots = [r for group, c in zip(groups, choice) for r in group[c]]
        taps = np.real(np.poly(roots)) if roots else np.ones(1)
        for _ in range(n):
            taps = np.convolve(taps, [1.0, 1.0])
        taps = taps * math.sqrt(2.0) / taps.sum()
        response = np.exp(-1j * np.outer(omega, np.arange(len(taps)))) @ taps
        phase = np.unwrap(np.angle(response))
        weight = np.abs(response)
        fit = np.polyfit(omega, phase, 1, w=weight)
        cost = float(np.sum(weight * (phase - np.polyval(fit, omega)) ** 2))
        if cost < best_cost - 1e-9:  # strict: the first of a mirror pair wins, so the result is stable
            best, best_cost = taps, cost
    return tuple(float(t) for t in best)


def centroid(taps: tuple[float, ...]) -> float:
    """Where a low-pass filter "sits" (its first moment), in taps from the first one."""
    weights = np.asarray(taps)
    return float(np.sum(np.arange(len(weights)) * weights) / np.sum(weights))


@cache
def band_filters(half_length: int = 16) -> tuple[tuple[float, ...], ...]:
    """Four band-pass filters ([0,pi/8], [pi/8,pi/4], [pi/4,pi/2], [pi/2,pi]), 2*half_length+1 taps each."""
    k = np.arange(-half_length, half_length + 1, dtype=np.float64)
    window = 0.5 + 0.5 * np.cos(math.pi * k / (half_length + 1))

    def lowpass(cutoff: float) -> np.ndarray:  # cutoff as a fraction of pi; unit gain at DC
        taps = cutoff * np.sinc(cutoff * k) * window
        return taps / taps.sum()

    impulse = (k == 0).astype(np.float64)
    low = [lowpass(c) for c in (1 / 8, 1 / 4, 1 / 2)]
    bands = [low[0], low[1] - low[0], low[2] - low[1], impulse - low[2]]
    return tuple(tuple(float(t) for t in band) for band in bands)
