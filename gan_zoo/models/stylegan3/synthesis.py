"""StyleGAN3 synthesis network: ws -> image (StyleGAN3 §3; StyleGAN-XL §3 builds on it with twice the widths).

Fourier features, then `num_layers` synthesis layers and a ToRGB layer. Along the layers, cutoffs and
minimum stopbands grow geometrically from (first_cutoff, first_stopband) to (img_resolution/2,
img_resolution/2 · last_stopband_rel) and then stay; the last `num_critical` layers before ToRGB are
critically sampled (cutoff = Nyquist), which sharpens the image. Each layer's sampling rate is the
smallest power of two holding its stopband, its size that rate plus a `margin_size` border (the last
two layers: exactly the image), its width channel_base/2 / cutoff capped at channel_max.

Layers are attributes named `L{index}_{out_size}_{out_channels}` as in the official code, so state
dicts line up; `layer_names` keeps their order (a super-resolution stage removes and appends layers,
so indices can skip, see superres.py). Layer i consumes ws[:, i + 1]; ws[:, 0] drives the input.
"""

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gan_zoo.models.stylegan3.synthesis_input import SynthesisInput
from gan_zoo.models.stylegan3.synthesis_layer import SynthesisLayer


@dataclass(frozen=True)
class LayerSpecs:
    """Per-layer filter parameters (float64 arrays of num_layers + 1 entries, ToRGB last)."""

    cutoffs: np.ndarray  # f_c
    stopbands: np.ndarray  # f_t
    sampling_rates: np.ndarray  # s
    half_widths: np.ndarray  # f_h
    sizes: np.ndarray  # samples per side, margin included
    channels: np.ndarray  # output channels


def finish_specs(
    cutoffs: np.ndarray,
    stopbands: np.ndarray,
    sampling_rates: np.ndarray,
    img_resolution: int,
    margin_size: int,
    channel_base: int,
    channel_max: int,
    img_channels: int,
) -> LayerSpecs:
    """Half widths, sizes and channels from the cutoffs, stopbands and rates (shared with superres.py)."""
    half_widths = np.maximum(stopbands, sampling_rates / 2) - cutoffs
    sizes = sampling_rates + margin_size * 2
    sizes[-2:] = img_resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = img_channels
    return LayerSpecs(cutoffs, stopbands, sampling_rates, half_widths, sizes, channels)


def stem_layer_specs(
    img_resolution: int,
    img_channels: int,
    num_layers: int,
    num_critical: int,
    first_cutoff: float,
    first_stopband: float,
    last_stopband_rel: float,
    margin_size: int,
    channel_base: int,
    channel_max: int,
) -> LayerSpecs:
    """The official schedule in float64 numpy, so that rounding (hence every width and size) is identical."""
    last_cutoff = img_resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    exponents = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
    stopbands = first_stopband * (last_stopband / first_stopband) ** exponents
    sampling_rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, img_resolution))))
    return finish_specs(cutoffs, stopbands, sampling_rates, img_resolution, margin_size, channel_base, channel_max, img_channels)


class SynthesisNetwork(nn.Module):
    def __init__(
        self,
        w_dim: int,  # style size
        img_resolution: int,  # output side in pixels
        img_channels: int,  # output channels
        channel_base: int = 32768,  # width = channel_base/2 / cutoff (StyleGAN3-R and StyleGAN-XL: 65536)
        channel_max: int = 512,  # cap on any layer's width (StyleGAN3-R and StyleGAN-XL: 1024)
        num_layers: int = 14,  # layers before ToRGB (StyleGAN-XL's 16² ImageNet stem: 10)
        num_critical: int = 2,  # critically sampled layers before ToRGB
        first_cutoff: float = 2,  # f_c of the Fourier features, cycles per image side
        first_stopband: float = 2**2.1,  # minimum stopband of the first layer
        last_stopband_rel: float = 2**0.3,  # minimum stopband of the last layers, relative to their cutoff
        margin_size: int = 10,  # extra samples on each side, absorbing the full convolutions' growth
        output_scale: float = 0.25,  # the image is the ToRGB output times this
        num_fp16_res: int = 4,  # layers whose sampling rate · 2**num_fp16_res exceeds img_resolution run in bf16/fp16 (CUDA)
        conv_kernel: int = 3,  # kernel side of the non-ToRGB layers (StyleGAN3-R: 1)
        conv_clamp: float | None = 256,  # clamp every layer's output to ±conv_clamp; None: no clamp
        magnitude_ema_beta: float = 0.999,  # decay of each layer's input RMS average (official train.py: 0.5**(batch/20000))
        use_radial_filters: bool = False,  # StyleGAN3-R: radially symmetric down filters in the non-critical layers
    ) -> None:
        super().__init__()
        if num_layers <= num_critical:
            raise ValueError(f"num_layers ({num_layers}) must exceed num_critical ({num_critical})")
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.channel_base, self.channel_max = channel_base, channel_max
        self.num_layers, self.num_critical = num_layers, num_critical
        self.margin_size, self.last_stopband_rel, self.output_scale = margin_size, last_stopband_rel, output_scale
        self.num_fp16_res, self.conv_kernel, self.conv_clamp = num_fp16_res, conv_kernel, conv_clamp
        self.num_ws = num_layers + 2

        specs = stem_layer_specs(
            img_resolution, img_channels, num_layers, num_critical, first_cutoff, first_stopband, last_stopband_rel, margin_size, channel_base, channel_max
        )
        self.input = SynthesisInput(
            w_dim, channels=int(specs.channels[0]), size=int(specs.sizes[0]), sampling_rate=float(specs.sampling_rates[0]), bandwidth=float(specs.cutoffs[0])
        )
        self.layer_names: list[str] = []
        self.head_layer_names: list[str] = []  # the layers a super-resolution stage added (and trains)
        for index in range(num_layers + 1):
            layer = make_layer(
                specs,
                index,
                w_dim,
                is_torgb=index == num_layers,
                is_critically_sampled=index >= num_layers - num_critical,
                use_fp16=bool(specs.sampling_rates[index] * 2**num_fp16_res > img_resolution),
                conv_kernel=conv_kernel,
                conv_clamp=conv_clamp,
                magnitude_ema_beta=magnitude_ema_beta,
                use_radial_filters=use_radial_filters,
            )
            self.add_layer(f"L{index}_{layer.out_size}_{layer.out_channels}", layer)

    def add_layer(self, name: str, layer: SynthesisLayer) -> None:
        self.add_module(name, layer)
        self.layer_names.append(name)

    def layers(self) -> list[SynthesisLayer]:
        return [getattr(self, name) for name in self.layer_names]

    def forward(self, ws: torch.Tensor, update_emas: bool = False, noise_mode: str | None = None) -> torch.Tensor:
        """ws [N, num_ws, w_dim] -> images [N, img_channels, img_resolution, img_resolution], fp32.

        `noise_mode` is accepted for the StyleGAN family's shared synthesis interface (generate, PPL)
        and has no effect: StyleGAN3 layers have no noise inputs.
        """
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"the synthesis network expects ws [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        ws = ws.float().unbind(dim=1)
        x = self.input(ws[0])
        for layer, w in zip(self.layers(), ws[1:]):
            x = layer(x, w, update_emas=update_emas)
        x = x.float() * self.output_scale
        expected = (self.img_channels, self.img_resolution, self.img_resolution)
        if x.shape[1:] != expected:
            raise RuntimeError(f"the synthesis network produced {list(x.shape[1:])}, expected {list(expected)}")
        return x

    def extra_repr(self) -> str:
        return (
            f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}, "
            f"img_channels={self.img_channels}, num_layers={self.num_layers}, num_fp16_res={self.num_fp16_res}"
        )


def make_layer(specs: LayerSpecs, index: int, w_dim: int, **kwargs) -> SynthesisLayer:
    """Layer `index` of a schedule: its input is entry index-1 (entry 0 for the first layer)."""
    prev = max(index - 1, 0)
    return SynthesisLayer(
        w_dim,
        in_channels=int(specs.channels[prev]),
        out_channels=int(specs.channels[index]),
        in_size=int(specs.sizes[prev]),
        out_size=int(specs.sizes[index]),
        in_sampling_rate=int(specs.sampling_rates[prev]),
        out_sampling_rate=int(specs.sampling_rates[index]),
        in_cutoff=float(specs.cutoffs[prev]),
        out_cutoff=float(specs.cutoffs[index]),
        in_half_width=float(specs.half_widths[prev]),
        out_half_width=float(specs.half_widths[index]),
        **kwargs,
    )
