"""StyleGAN2 synthesis network, architecture 'skip' (config F): ws -> image.

Every block doubles the resolution with two modulated 3×3 convolutions (the first one upsamples
with a transposed convolution and the [1, 3, 3, 1] FIR filter) and adds its own 1×1 ToRGB output to
the FIR-upsampled image of the block below, so every resolution contributes to the image directly.
Noise and bias are added after the (de)modulated convolution, outside the normalised path. Block
b{res} uses ws[k], ws[k+1] (and ws[k+2]); the ToRGB of a block shares its w with the next block's
first convolution, so num_ws = 2·log2(resolution) - 2.
"""

from collections.abc import Callable
from typing import ClassVar

import torch
from torch import nn

from gan_zoo.layers import EqualizedLinear, bias_act, full_precision, layer_fir_filter, modulated_conv2d, reduced_precision, upsample2d
from gan_zoo.layers.resample import resolution_log2
from gan_zoo.models.stylegan2.plan import channels_at, fp16_resolution

NOISE_MODES = ("random", "const", "none")
Randn = Callable[..., torch.Tensor]  # randn(n, *shape) -> [n, *shape] normal noise (training: drawn for the global batch)


class SynthesisLayer(nn.Module):
    """Modulated (demodulated) convolution -> + noise·strength -> + bias -> lrelu·√2 -> clamp."""

    # Checkpoint format 2 stores up=2 kernels in the official orientation (gan_zoo.training.checkpoint_version).
    up_kernel_reoriented_in_format_2: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,  # style input size
        resolution: int,  # output resolution (size of the constant noise map)
        kernel_size: int = 3,
        up: int = 1,  # 2: upsampling layer (first conv of a block)
        conv_clamp: float | None = None,  # clamp outputs to ±conv_clamp (None: no clamp)
        resample_filter: tuple[float, ...] = (1, 3, 3, 1),  # FIR taps for up=2
    ) -> None:
        super().__init__()
        self.up = up
        self.resolution = resolution
        self.conv_clamp = conv_clamp
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)  # styles start at 1: plain convolution
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros(()))  # one learned scale per layer, starting at no noise
        self.register_buffer("noise_const", torch.randn(resolution, resolution))  # the fixed map of noise_mode='const'
        # Persistent in every layer (up=1 too), as in the official SynthesisLayer, so state dicts match key for key.
        self.register_buffer("resample_filter", layer_fir_filter(resample_filter))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random", randn: Randn | None = None, fused: bool = False) -> torch.Tensor:
        styles = self.affine(w)
        x = modulated_conv2d(x, self.weight, styles, demodulate=True, up=self.up, resample_filter=self.resample_filter, fused=fused)
        if noise_mode == "random":
            noise = (torch.randn if randn is None else randn)(x.shape[0], 1, self.resolution, self.resolution).to(x.device)
            x = x + (noise * self.noise_strength).to(x.dtype)
        elif noise_mode == "const":
            x = x + (self.noise_const * self.noise_strength).to(x.dtype)
        return bias_act(x, self.bias, "lrelu", clamp=self.conv_clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1×1 convolution without demodulation (styles scaled by 1/√fan-in), + bias, linear."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,  # image channels
        w_dim: int,
        conv_clamp: float | None = None,  # clamp outputs to ±conv_clamp
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = in_channels**-0.5  # equalized lr on the un-normalised output

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused: bool = False) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused=fused)
        return bias_act(x, self.bias, "linear", clamp=self.conv_clamp)


class SynthesisBlock(nn.Module):
    """b{res}: (const | conv0 up) -> conv1 -> torgb; img = upsample(img) + torgb(x)."""

    def __init__(
        self,
        in_channels: int,  # 0: the 4×4 block, which starts from a learned constant
        out_channels: int,
        w_dim: int,
        resolution: int,  # this block's output resolution
        img_channels: int,
        use_fp16: bool = False,  # run in reduced precision on CUDA (bf16/fp16)
        conv_clamp: float | None = None,
        resample_filter: tuple[float, ...] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.resolution = resolution
        self.use_fp16 = use_fp16
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn(out_channels, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2, conv_clamp=conv_clamp, resample_filter=resample_filter)
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, conv_clamp=conv_clamp)
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
        self.num_conv = 1 if in_channels == 0 else 2
        self.register_buffer("resample_filter", layer_fir_filter(resample_filter))  # persistent, as the official block's

    def forward(
        self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor, noise_mode: str = "random", randn: Randn | None = None, fused: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with reduced_precision(self.use_fp16, ws.device):
            if self.in_channels == 0:
                x = self.const.unsqueeze(0).repeat(ws.shape[0], 1, 1, 1)
            else:
                x = self.conv0(full_precision(x), ws[:, 0], noise_mode, randn, fused)  # type: ignore[union-attr]
            x = self.conv1(x, ws[:, self.num_conv - 1], noise_mode, randn, fused)
            y = self.torgb(x, ws[:, self.num_conv], fused)
        y = full_precision(y)
        img = y if img is None else upsample2d(img, self.resample_filter) + y
        return x, img


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> images [N, img_channels, resolution, resolution] (about [-1, 1])."""

    def __init__(
        self,
        w_dim: int,  # style size
        resolution: int,  # output side (power of two >= 4)
        img_channels: int,  # output channels
        channel_base: int = 32768,  # channels at res: min(channel_base // res, channel_max); config F 32768
        channel_max: int = 512,  # channel cap
        num_fp16_res: int = 4,  # highest resolutions run in reduced precision on CUDA; 0: none
        conv_clamp: float | None = 256,  # clamp of every conv output; None: no clamp
        resample_filter: tuple[float, ...] = (1, 3, 3, 1),  # FIR taps of all resampling
    ) -> None:
        super().__init__()
        log2 = resolution_log2(resolution)
        self.w_dim, self.resolution, self.img_channels = w_dim, resolution, img_channels
        self.block_resolutions = [2**i for i in range(2, log2 + 1)]
        fp16_from = fp16_resolution(resolution, num_fp16_res) if num_fp16_res > 0 else resolution * 2
        self.num_ws = 0
        previous = 0
        for res in self.block_resolutions:
            channels = channels_at(res, channel_base, channel_max)
            block = SynthesisBlock(
                previous, channels, w_dim, res, img_channels, use_fp16=res >= fp16_from, conv_clamp=conv_clamp, resample_filter=tuple(resample_filter)
            )
            setattr(self, f"b{res}", block)
            self.num_ws += block.num_conv
            previous = channels
        self.num_ws += 1  # the last ToRGB

    def forward(
        self,
        ws: torch.Tensor,  # [N, num_ws, w_dim]
        noise_mode: str = "random",  # random: fresh noise; const: the stored noise maps; none: no noise
        randn: Randn | None = None,  # noise source for noise_mode='random'; None: torch.randn
        fused: bool | None = None,  # per-sample grouped convolutions; None: only in eval mode
    ) -> torch.Tensor:
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        fused = (not self.training) if fused is None else fused
        x = img = None
        w_index = 0
        for res in self.block_resolutions:
            block: SynthesisBlock = getattr(self, f"b{res}")
            x, img = block(x, img, ws[:, w_index : w_index + block.num_conv + 1], noise_mode, randn, fused)
            w_index += block.num_conv
        return img  # type: ignore[return-value]
