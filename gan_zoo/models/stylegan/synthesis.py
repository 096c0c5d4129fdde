"""StyleGAN v1 synthesis network `G_synthesis`: learned 4×4 constant, styled convolutions, progressive growing.

Every convolution (and the constant) is followed by the *epilogue*, in the official order:
noise -> bias -> lrelu -> instance norm -> style (AdaIN). The block at 2^r px (level r - 2) runs
Conv0_up (nearest ×2 + 3×3, fused at >= 128 px) -> blur [1,2,1] -> epilogue, then Conv1 3×3 ->
epilogue, and consumes styles 2·level and 2·level + 1. Growing works as PGGAN's generator: only the
blocks the lod needs run, ToRGB of the newest block is lerped with the nearest-upscaled ToRGB of the
one below by lod - floor(lod). `lod` is a buffer (the official `lod` variable) set by the training
module, so G_ema.synthesis(ws) renders what training currently trains.
"""

import math
from collections.abc import Sequence

import torch
from torch import nn

from gan_zoo.layers.adain import AdaIN
from gan_zoo.layers.blur2d import Blur2d
from gan_zoo.layers.equalized import EqualizedConv2d
from gan_zoo.layers.fused_scale import EqualizedUpConv2d
from gan_zoo.layers.noise_input import NOISE_MODES, NoiseInput
from gan_zoo.layers.resample import resolution_log2, upsample_nearest2x, upscale_nearest
from gan_zoo.models.pggan.networks import feature_maps, split_lod

SQRT2 = math.sqrt(2.0)  # He gain in front of every leaky ReLU
FUSED_MIN_RESOLUTION = 128  # 'auto' fuses resampling convs whose high-resolution side is at least this


def use_fused(fused_scale: bool | str, resolution: int) -> bool:
    """Resolve 'auto' (fused at >= 128 px, as the official code) or an explicit bool."""
    if fused_scale == "auto":
        return resolution >= FUSED_MIN_RESOLUTION
    if isinstance(fused_scale, bool):
        return fused_scale
    raise ValueError(f"fused_scale must be true, false or 'auto', got {fused_scale!r}")


class LayerEpilogue(nn.Module):
    """noise -> bias -> lrelu -> AdaIN(w)."""

    def __init__(
        self,
        channels: int,
        resolution: int,  # side of the feature maps (for the constant noise map)
        w_dim: int,  # style vector size
    ) -> None:
        super().__init__()
        self.noise = NoiseInput(channels, resolution)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.act = nn.LeakyReLU(0.2)
        self.adain = AdaIN(channels, w_dim)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str, noise: torch.Tensor | None) -> torch.Tensor:
        x = self.noise(x, noise_mode, noise)
        x = self.act(x + self.bias.reshape(1, -1, 1, 1))
        return self.adain(x, w)


class SynthesisInputBlock(nn.Module):
    """4×4: learned constant (init ones) -> epilogue; Conv 3×3 -> epilogue."""

    def __init__(self, channels: int, w_dim: int) -> None:
        super().__init__()
        self.const = nn.Parameter(torch.ones(1, channels, 4, 4))
        self.epilogue0 = LayerEpilogue(channels, 4, w_dim)
        self.conv = EqualizedConv2d(channels, channels, 3, bias=False, gain=SQRT2)
        self.epilogue1 = LayerEpilogue(channels, 4, w_dim)

    def forward(self, ws: torch.Tensor, noise_mode: str, noise: Sequence[torch.Tensor | None]) -> torch.Tensor:
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.epilogue0(x, ws[:, 0], noise_mode, noise[0])
        return self.epilogue1(self.conv(x), ws[:, 1], noise_mode, noise[1])


class SynthesisBlock(nn.Module):
    """Doubles the resolution: Conv0_up -> blur -> epilogue; Conv1 3×3 -> epilogue."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        resolution: int,  # output side of this block
        w_dim: int,
        blur_filter: Sequence[float] | None,  # FIR taps after the up-sampling conv; None: no blur
        fused: bool,  # transposed conv instead of nearest-up + conv (same result)
    ) -> None:
        super().__init__()
        self.conv0 = EqualizedUpConv2d(in_channels, out_channels, fused=fused, bias=False, gain=SQRT2)
        self.blur = Blur2d(blur_filter) if blur_filter else nn.Identity()
        self.epilogue0 = LayerEpilogue(out_channels, resolution, w_dim)
        self.conv1 = EqualizedConv2d(out_channels, out_channels, 3, bias=False, gain=SQRT2)
        self.epilogue1 = LayerEpilogue(out_channels, resolution, w_dim)

    def forward(self, x: torch.Tensor, ws: torch.Tensor, noise_mode: str, noise: Sequence[torch.Tensor | None]) -> torch.Tensor:
        x = self.epilogue0(self.blur(self.conv0(x)), ws[:, 0], noise_mode, noise[0])
        return self.epilogue1(self.conv1(x), ws[:, 1], noise_mode, noise[1])


class SynthesisNetwork(nn.Module):
    """ws [N, num_ws, w_dim] -> images [N, num_channels, R, R] (R: full, or current resolution)."""

    def __init__(
        self,
        resolution: int,  # final output side in pixels (power of two >= 4)
        num_channels: int = 3,  # image channels
        w_dim: int = 512,  # style vector size
        fmap_base: int = 8192,  # channels of the block at 2^r: min(fmap_base / 2**((r-1)·fmap_decay), fmap_max)
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        blur_filter: Sequence[float] | None = (1, 2, 1),  # FIR after every up-sampling conv; None/[]: no blur
        fused_scale: bool | str = "auto",  # fused up-sampling conv: true, false, or 'auto' (>= 128 px)
    ) -> None:
        super().__init__()
        log2 = resolution_log2(resolution)

        def nf(stage: int) -> int:
            return feature_maps(stage, fmap_base, fmap_decay, fmap_max)

        self.resolution, self.num_channels, self.w_dim = resolution, num_channels, w_dim
        self.max_lod = log2 - 2
        self.num_ws = 2 * log2 - 2
        # Side of the feature maps each style (and noise input) acts on: 4, 4, 8, 8, 16, 16, ...
        self.layer_resolutions = [2 ** (2 + i // 2) for i in range(self.num_ws)]
        blur = tuple(blur_filter) if blur_filter else None
        self.blocks = nn.ModuleList([SynthesisInputBlock(nf(1), w_dim)])
        self.blocks.extend(SynthesisBlock(nf(r - 2), nf(r - 1), 2**r, w_dim, blur, use_fused(fused_scale, 2**r)) for r in range(3, log2 + 1))
        # ToRGB is linear (gain 1): its output is the image itself.
        self.to_rgb = nn.ModuleList(EqualizedConv2d(nf(r - 1), num_channels, 1) for r in range(2, log2 + 1))
        # Level of detail rendered when none is passed; the training module keeps it current.
        self.register_buffer("lod", torch.zeros(()))

    def forward(
        self,
        ws: torch.Tensor,  # [N, num_ws, w_dim]
        noise_mode: str = "random",  # 'random': fresh N(0,1) maps; 'const': the stored maps; 'none': no noise
        lod: float | None = None,  # level of detail; None: the `lod` buffer
        noise: Sequence[torch.Tensor | None] | None = None,  # per-style [N, 1, r, r] maps overriding noise_mode
        full_resolution: bool = True,  # nearest-upscale to `resolution` (as the official output); False: current size
    ) -> torch.Tensor:
        if ws.ndim != 3 or tuple(ws.shape[1:]) != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        noise = [None] * self.num_ws if noise is None else list(noise)
        if len(noise) < self.num_ws:
            noise += [None] * (self.num_ws - len(noise))
        level, fade = split_lod(self.lod if lod is None else lod, self.max_lod)
        x = self.blocks[0](ws[:, 0:2], noise_mode, noise[0:2])
        x_prev = x
        for index in range(1, level + 1):
            layers = slice(2 * index, 2 * index + 2)
            x_prev, x = x, self.blocks[index](x, ws[:, layers], noise_mode, noise[layers])
        image = self.to_rgb[level](x)
        if fade > 0:  # skipped at fade 0 so the old ToRGB is not even run
            image = torch.lerp(image, upsample_nearest2x(self.to_rgb[level - 1](x_prev)), fade)
        if full_resolution and level < self.max_lod:
            image = upscale_nearest(image, 2 ** (self.max_lod - level))
        return image

    def active_layers(self, lod: float | None = None) -> int:
        """Styles that affect the image at this lod (the fading block's included)."""
        level, _ = split_lod(self.lod if lod is None else lod, self.max_lod)
        return 2 * level + 2
