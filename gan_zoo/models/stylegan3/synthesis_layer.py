"""One layer of the alias-free synthesis network (StyleGAN3 §3.2): modulated conv -> filtered leaky ReLU.

The layer maps a signal sampled at `in_sampling_rate` (band-limited to `in_cutoff`) to one sampled at
`out_sampling_rate` (band-limited to `out_cutoff`). The nonlinearity runs at `tmp_sampling_rate`, twice
the larger of the two rates (`lrelu_upsampling`), between a Kaiser low-pass at the input cutoff (after
upsampling) and one at the output cutoff (before downsampling). Each filter is `filter_size` taps per
unit of the lower rate.

Modulation differs from StyleGAN2 in two ways that keep fp16 in range: the kernel (per output channel)
and the styles (over the whole batch) are first normalised to unit mean square, and the input is
divided by the running RMS of the layer's input (`magnitude_ema`, updated when `update_emas`).
The convolution is "full" (padding k-1): the margin of extra samples around the image absorbs it.

The ToRGB variant (`is_torgb`): 1×1 kernel, no demodulation (styles scaled by 1/sqrt(fan-in)
instead), linear, no resampling.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.layers import EqualizedLinear, full_precision, reduced_precision_dtype
from gan_zoo.layers.filtered_lrelu import filtered_lrelu
from gan_zoo.layers.sinc_filter import lowpass_filter, radial_lowpass_filter


def modulated_conv2d_sg3(
    x: torch.Tensor,  # [N, C_in, H, W]
    weight: torch.Tensor,  # [C_out, C_in, k, k]
    styles: torch.Tensor,  # [N, C_in]
    input_gain: torch.Tensor,  # scalar: 1 / RMS of the layer's input
    demodulate: bool,  # False for ToRGB
    padding: int,  # k - 1: a "full" convolution
    dtype: torch.dtype | None = None,  # of the convolution and the result (None: x's); modulation maths stays in x's
) -> torch.Tensor:
    """StyleGAN3's modulated convolution, computed by scaling activations (one shared-kernel conv).

    Equal to the official per-sample grouped convolution: with w'_n = w·s_n·d_n·g, conv(x, w'_n) =
    d_n·conv(x·s_n·g, w). Demodulation coefficients come from a [N, C_in] x [C_in, C_out] product
    rather than the [N, C_out, C_in, k, k] modulated kernels, so memory does not grow with the batch.
    """
    if demodulate:
        weight = weight * weight.square().mean(dim=(1, 2, 3), keepdim=True).rsqrt()
        styles = styles * styles.square().mean().rsqrt()
    dtype = dtype or x.dtype
    x = (x * (styles * input_gain)[:, :, None, None]).to(dtype)
    x = F.conv2d(x, weight.to(dtype), padding=padding)
    if demodulate:
        dcoefs = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()  # [N, C_out]
        x = x * dcoefs.to(dtype)[:, :, None, None]
    return x


class SynthesisLayer(nn.Module):
    def __init__(
        self,
        w_dim: int,  # style input size
        in_channels: int,
        out_channels: int,
        in_size: int,  # input side in samples (margin included)
        out_size: int,  # output side in samples (margin included; img_resolution for the last layers)
        in_sampling_rate: int,  # samples per image side at the input
        out_sampling_rate: int,  # samples per image side at the output
        in_cutoff: float,  # band limit of the input (f_c), cycles per image side
        out_cutoff: float,  # band limit of the output
        in_half_width: float,  # half transition band of the input filter (f_h)
        out_half_width: float,  # half transition band of the output filter
        is_torgb: bool = False,  # the final layer: 1×1, linear, no demodulation, no resampling
        is_critically_sampled: bool = False,  # one of the last layers (cutoff = Nyquist); a super-res stage drops them
        use_fp16: bool = False,  # run in bf16/fp16 on CUDA (the highest sampling rates)
        conv_kernel: int = 3,  # kernel side (ToRGB always 1)
        filter_size: int = 6,  # low-pass taps per sample of the lower rate when resampling
        lrelu_upsampling: int = 2,  # the nonlinearity runs at this multiple of the higher rate
        conv_clamp: float | None = 256,  # clamp outputs to ±conv_clamp; None: no clamp
        magnitude_ema_beta: float = 0.999,  # decay of the input RMS average per update (official train.py: 0.5**(batch/20000))
        use_radial_filters: bool = False,  # StyleGAN3-R: a radially symmetric down filter (not in critically sampled layers)
    ) -> None:
        super().__init__()
        self.w_dim, self.in_channels, self.out_channels = w_dim, in_channels, out_channels
        self.in_size, self.out_size = int(in_size), int(out_size)
        self.in_sampling_rate, self.out_sampling_rate = int(in_sampling_rate), int(out_sampling_rate)
        self.in_cutoff, self.out_cutoff = float(in_cutoff), float(out_cutoff)
        self.in_half_width, self.out_half_width = float(in_half_width), float(out_half_width)
        self.is_torgb, self.is_critically_sampled, self.use_fp16 = is_torgb, is_critically_sampled, use_fp16
        self.conv_kernel = 1 if is_torgb else conv_kernel
        self.conv_clamp = conv_clamp
        self.magnitude_ema_beta = magnitude_ema_beta

        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)  # styles start at 1
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, self.conv_kernel, self.conv_kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        self.weight_gain = 1 / math.sqrt(in_channels * self.conv_kernel**2)  # ToRGB's equalized lr (it is not demodulated)

        self.tmp_sampling_rate = max(self.in_sampling_rate, self.out_sampling_rate) * (1 if is_torgb else lrelu_upsampling)
        self.up_factor = _exact_ratio(self.tmp_sampling_rate, self.in_sampling_rate)
        self.down_factor = _exact_ratio(self.tmp_sampling_rate, self.out_sampling_rate)
        up_taps = filter_size * self.up_factor if self.up_factor > 1 and not is_torgb else 1
        down_taps = filter_size * self.down_factor if self.down_factor > 1 and not is_torgb else 1
        # None (no buffer, as in the official state dicts) where the filter would be a single unit tap.
        rate = self.tmp_sampling_rate
        self.register_buffer("up_filter", _filter_buffer(up_taps, self.in_cutoff, self.in_half_width * 2, rate))
        self.down_radial = use_radial_filters and not is_critically_sampled
        self.register_buffer("down_filter", _filter_buffer(down_taps, self.out_cutoff, self.out_half_width * 2, rate, self.down_radial))

        # Pad so that the output has out_size samples, with sample centres where the symmetric
        # interpretation of the grids puts them (StyleGAN3 App. C.3: shift by up/2 before rounding).
        pad_total = (self.out_size - 1) * self.down_factor + 1  # samples needed before downsampling
        pad_total -= (self.in_size + self.conv_kernel - 1) * self.up_factor  # samples after the full conv and upsampling
        pad_total += up_taps + down_taps - 2  # what the two "valid" filters remove
        pad_lo = (pad_total + self.up_factor) // 2
        pad_hi = pad_total - pad_lo
        self.padding = (pad_lo, pad_hi, pad_lo, pad_hi)

    def forward(self, x: torch.Tensor, w: torch.Tensor, update_emas: bool = False) -> torch.Tensor:
        """x [N, in_channels, in_size, in_size], w [N, w_dim] -> [N, out_channels, out_size, out_size]."""
        if x.ndim != 4 or x.shape[1:] != (self.in_channels, self.in_size, self.in_size):
            expected = f"[N, {self.in_channels}, {self.in_size}, {self.in_size}]"
            raise ValueError(f"SynthesisLayer expects x {expected}, got {list(x.shape)}")
        if w.shape != (x.shape[0], self.w_dim):
            raise ValueError(f"SynthesisLayer expects w [{x.shape[0]}, {self.w_dim}], got {list(w.shape)}")
        x = full_precision(x)
        if update_emas:
            with torch.no_grad():
                self.magnitude_ema.copy_(x.detach().square().mean().lerp(self.magnitude_ema, self.magnitude_ema_beta))
        styles = self.affine(w)
        if self.is_torgb:
            styles = styles * self.weight_gain
        # Reduced precision by casting (as the official layer does) rather than autocast, which would
        # also run the demodulation's matrix product in 16 bits. CPUs stay in fp32, where it is faster.
        dtype = reduced_precision_dtype() if self.use_fp16 and x.device.type == "cuda" else torch.float32
        x = modulated_conv2d_sg3(x, self.weight, styles, self.magnitude_ema.rsqrt(), demodulate=not self.is_torgb, padding=self.conv_kernel - 1, dtype=dtype)
        return filtered_lrelu(
            x,
            self.up_filter,
            self.down_filter,
            self.bias,
            up=self.up_factor,
            down=self.down_factor,
            padding=self.padding,
            gain=1 if self.is_torgb else math.sqrt(2),
            slope=1 if self.is_torgb else 0.2,
            clamp=self.conv_clamp,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels} -> {self.out_channels}, size {self.in_size} -> {self.out_size}, "
            f"rate {self.in_sampling_rate} -> {self.tmp_sampling_rate} -> {self.out_sampling_rate}, "
            f"cutoff {self.in_cutoff:.4g} -> {self.out_cutoff:.4g}, is_torgb={self.is_torgb}, "
            f"critical={self.is_critically_sampled}, radial={self.down_radial}, use_fp16={self.use_fp16}"
        )


def _exact_ratio(high: int, low: int) -> int:
    ratio = int(np.rint(high / low))
    if low * ratio != high:
        raise ValueError(f"sampling rates must be integer multiples of each other, got {high} and {low}")
    return ratio


def _filter_buffer(numtaps: int, cutoff: float, width: float, fs: float, radial: bool = False) -> torch.Tensor | None:
    if numtaps == 1:
        return None
    design = radial_lowpass_filter if radial else lowpass_filter
    return torch.as_tensor(design(numtaps, cutoff, width, fs), dtype=torch.float32)
