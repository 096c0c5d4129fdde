"""FIR resampling in pure PyTorch: upsample (zero insertion), pad, filter, downsample (StyleGAN2 §4).

StyleGAN2 replaces nearest/box resampling by a low-pass FIR filter ([1, 3, 3, 1] outer product) so
that up- and down-sampling do not alias. `upfirdn2d` is the one primitive; `upsample2d`,
`downsample2d` and `filter2d` are its common uses with the paddings that keep pixel centres aligned
(input pixel i covers output pixels 2i and 2i + 1 when upsampling, and the reverse when downsampling).

Filters are 1-D tensors (the 2-D filter is their outer product, applied as two separable passes) or
2-D tensors (one dense depthwise pass; for 4 taps it is faster on the CPU than two 1-D passes).
`fir_filter` builds one normalised to unit DC gain; `layer_fir_filter` the one a StyleGAN2 layer
stores, shaped as the official `upfirdn2d.setup_filter` makes it (stylegan3 `torch_utils/ops/upfirdn2d.py`).
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def fir_filter(taps: Sequence[float] = (1, 3, 3, 1), separable: bool = True) -> torch.Tensor:
    """A low-pass filter with unit DC gain: 1-D taps / sum (separable) or their outer product / its sum."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    if f.ndim != 1 or f.numel() == 0:
        raise ValueError(f"FIR taps must be a non-empty 1-D sequence, got shape {list(f.shape)}")
    if not separable:
        f = torch.outer(f, f)  # before normalising, as setup_filter does, so the rounding is the same
    return f / f.sum()


def layer_fir_filter(taps: Sequence[float] = (1, 3, 3, 1)) -> torch.Tensor:
    """The `resample_filter` buffer of a StyleGAN2 layer: 2-D below 8 taps, 1-D from 8 (setup_filter's rule)."""
    return fir_filter(taps, separable=len(taps) >= 8)


def _pads(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1) from one int (all sides), (x, y) or (x0, x1, y0, y1)."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    if len(padding) == 4:
        return padding  # type: ignore[return-value]
    raise ValueError(f"padding must be an int, (x, y) or (x0, x1, y0, y1), got {padding}")


def upfirdn2d(
    x: torch.Tensor,  # [N, C, H, W]
    f: torch.Tensor,  # 1-D (separable) or 2-D FIR filter
    up: int = 1,  # zero-insertion upsampling factor (both axes)
    down: int = 1,  # subsampling factor (both axes), after filtering
    padding: int | Sequence[int] = 0,  # zero padding after upsampling; negative values crop
    gain: float = 1.0,  # overall signal gain; up**2 keeps the DC level when upsampling
) -> torch.Tensor:
    """Upsample by zero insertion, pad, convolve with f (a true convolution: f is flipped), downsample."""
    if x.ndim != 4:
        raise ValueError(f"upfirdn2d expects [N, C, H, W], got {list(x.shape)}")
    if up < 1 or down < 1:
        raise ValueError(f"up and down must be >= 1, got up={up}, down={down}")
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    x0, x1, y0, y1 = _pads(padding)
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    x = x[:, :, max(-y0, 0) : x.shape[2] - max(-y1, 0), max(-x0, 0) : x.shape[3] - max(-x1, 0)]
    f = f.to(device=x.device, dtype=x.dtype)
    # A convolution is a correlation with the flipped filter; conv2d correlates.
    weight = f.flip(list(range(f.ndim)))
    if f.ndim == 1:
        # Separable: split the gain between the two passes so each keeps the signal's scale.
        gain_1d = gain**0.5
        x = F.conv2d(x, (weight * gain_1d).reshape(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
        x = F.conv2d(x, (weight * gain_1d).reshape(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    elif f.ndim == 2:
        x = F.conv2d(x, (weight * gain)[None, None].repeat(c, 1, 1, 1), groups=c)
    else:
        raise ValueError(f"FIR filter must be 1-D or 2-D, got shape {list(f.shape)}")
    return x[:, :, ::down, ::down] if down > 1 else x


def filter2d(x: torch.Tensor, f: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    """Filter at the same resolution (odd-length filters stay centred; even ones shift by half a pixel)."""
    taps = f.shape[-1]
    p0, p1 = taps // 2, (taps - 1) // 2
    return upfirdn2d(x, f, padding=(p0, p1, p0, p1), gain=gain)


def upsample2d(x: torch.Tensor, f: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, H·factor, W·factor], FIR-interpolated, DC level kept."""
    taps = f.shape[-1]
    p0 = (taps + factor - 1) // 2
    p1 = (taps - factor) // 2
    return upfirdn2d(x, f, up=factor, padding=(p0, p1, p0, p1), gain=factor**2)


def downsample2d(x: torch.Tensor, f: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, H/factor, W/factor], FIR-filtered before subsampling."""
    taps = f.shape[-1]
    p0 = (taps - factor + 1) // 2
    p1 = (taps - factor) // 2
    return upfirdn2d(x, f, down=factor, padding=(p0, p1, p0, p1))
