"""Filtered leaky ReLU (StyleGAN3 §3.2): a pointwise nonlinearity that does not alias.

A leaky ReLU applied to a band-limited signal creates frequencies above Nyquist, which fold back
into the band (aliasing) and let the network glue details to the pixel grid. StyleGAN3 therefore
evaluates it at a higher sampling rate and low-passes before returning to the output rate:

    bias -> upsample (zero insertion, pad, low-pass `up_filter`, gain up²) -> leaky ReLU · gain
         -> clamp -> low-pass `down_filter` -> keep every `down`-th sample

with the semantics (and padding convention) of the official `filtered_lrelu` reference: `padding`
applies to the zero-inserted image, negative values crop, and each filter is convolved "valid".

Pure PyTorch: a 1-D filter is separable and runs as two depthwise passes; a 2-D down filter
(StyleGAN3-R's radially symmetric one) runs as one depthwise convolution. Upsampling is a strided
transposed convolution (it never multiplies the inserted zeros: 1/up of the work of zero insertion
then filtering) and downsampling a strided convolution (only the kept samples are computed).
`upfirdn2d` computes the same thing the straightforward way; the tests compare the two.
"""

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from gan_zoo.layers.bias_act import bias_act
from gan_zoo.layers.upfirdn import _pads


def _upsample_axis(x: torch.Tensor, f: torch.Tensor, up: int, pad0: int, pad1: int, axis: int) -> torch.Tensor:
    """Along one axis (3: width, 2: height): insert up-1 zeros after each sample, pad, convolve with f·up."""
    channels, taps = x.shape[1], f.numel()
    kernel_shape = (1, 1, 1, taps) if axis == 3 else (1, 1, taps, 1)
    stride = (1, up) if axis == 3 else (up, 1)
    # A transposed convolution is a true convolution of the zero-inserted signal (no flip needed);
    # it returns the "full" result, which the pads below shift and trim to the requested window.
    x = F.conv_transpose2d(x, (f * up).reshape(kernel_shape).expand(channels, -1, -1, -1), stride=stride, groups=channels)
    lead, trail = pad0 - taps + 1, pad1 + up - taps
    return F.pad(x, [lead, trail] if axis == 3 else [0, 0, lead, trail])


def _downsample_axis(x: torch.Tensor, f: torch.Tensor, down: int, axis: int) -> torch.Tensor:
    """Along one axis: "valid" convolution with f, keeping every down-th output."""
    channels, taps = x.shape[1], f.numel()
    kernel_shape = (1, 1, 1, taps) if axis == 3 else (1, 1, taps, 1)
    stride = (1, down) if axis == 3 else (down, 1)
    # conv2d correlates; flipping makes it the convolution the reference computes.
    return F.conv2d(x, f.flip(0).reshape(kernel_shape).expand(channels, -1, -1, -1), stride=stride, groups=channels)


def filtered_lrelu(
    x: torch.Tensor,  # [N, C, H, W]
    up_filter: torch.Tensor | None,  # 1-D taps of the upsampling low-pass; None: a single unit tap
    down_filter: torch.Tensor | None,  # 1-D (separable) or 2-D taps of the downsampling low-pass; None: a single unit tap
    bias: torch.Tensor | None = None,  # [C], added before upsampling
    up: int = 1,  # zero-insertion factor
    down: int = 1,  # subsampling factor
    padding: int | Sequence[int] = 0,  # (x0, x1, y0, y1) zeros around the upsampled image; negative crops
    gain: float = math.sqrt(2),  # after the activation: He gain for lrelu, 1 for a linear layer
    slope: float = 0.2,  # negative slope; 1 makes the activation linear (ToRGB)
    clamp: float | None = None,  # clamp the activation's output to ±clamp (fp16 safety); None: no clamp
) -> torch.Tensor:
    if x.ndim != 4:
        raise ValueError(f"filtered_lrelu expects [N, C, H, W], got {list(x.shape)}")
    if up_filter is not None and up_filter.ndim != 1:
        raise ValueError(f"filtered_lrelu takes a separable 1-D up_filter; it has shape {list(up_filter.shape)}")
    if down_filter is not None and not (down_filter.ndim == 1 or (down_filter.ndim == 2 and down_filter.shape[0] == down_filter.shape[1])):
        raise ValueError(f"filtered_lrelu takes a 1-D or square 2-D down_filter; it has shape {list(down_filter.shape)}")
    if up < 1 or down < 1:
        raise ValueError(f"up and down must be >= 1, got up={up}, down={down}")
    x0, x1, y0, y1 = _pads(padding)
    n, c, h, w = x.shape
    up_taps = 1 if up_filter is None else up_filter.numel()
    down_taps = 1 if down_filter is None else down_filter.shape[0]
    out_h = (h * up + y0 + y1 - (up_taps - 1) - (down_taps - 1) + down - 1) // down
    out_w = (w * up + x0 + x1 - (up_taps - 1) - (down_taps - 1) + down - 1) // down
    if out_h < 1 or out_w < 1:
        raise ValueError(f"filtered_lrelu: input {h}x{w}, up={up}, padding={padding}, filters {up_taps}/{down_taps} taps and down={down} leave no output pixel")

    x = bias_act(x, bias)
    if up_filter is None and up == 1:
        x = F.pad(x, [x0, x1, y0, y1])
    else:
        f = torch.ones(1) if up_filter is None else up_filter
        f = f.to(device=x.device, dtype=x.dtype)
        x = _upsample_axis(x, f, up, x0, x1, axis=3)
        x = _upsample_axis(x, f, up, y0, y1, axis=2)
    if slope != 1:
        x = F.leaky_relu(x, slope)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    if down_filter is None:
        x = x[:, :, ::down, ::down] if down > 1 else x
    elif down_filter.ndim == 2:
        # conv2d correlates; flipping both axes makes it the convolution the reference computes.
        f = down_filter.to(device=x.device, dtype=x.dtype).flip([0, 1])
        x = F.conv2d(x, f[None, None].expand(x.shape[1], -1, -1, -1), stride=down, groups=x.shape[1])
    else:
        f = down_filter.to(device=x.device, dtype=x.dtype)
        x = _downsample_axis(x, f, down, axis=3)
        x = _downsample_axis(x, f, down, axis=2)
    return x
