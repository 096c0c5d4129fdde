"""The trainable part of the projected discriminator: one small patch discriminator per feature scale
(autonomousvision/projected-gan and autonomousvision/stylegan-xl `pg_modules/discriminator.py`, `pg_modules/blocks.py`).

Each mini-discriminator halves its input with DownBlocks (spectral-norm conv 4x4 stride 2 with bias,
BatchNorm, LeakyReLU 0.2) down to 8x8 at the nominal 256 px input, following the channel table below
from its starting resolution, then a spectral-norm conv 4x4 (no padding, no bias) gives a patch of
logits. The conditional variant ends in a conv to a 64-channel map instead and projects it onto a
class embedding (the projection discriminator of Miyato & Koyama): logit = Σ_c out_c · cmap_c / √64.
Names match the official state dicts: `mini_discs.{i}.main.{j}.main.{0,1}.*`, `.cls.*`, `.embed.*`,
`.embed_proj.*`.
"""

import math

import torch
from torch import Tensor, nn
from torch.nn.utils import spectral_norm

from gan_zoo.layers.bias_act import bias_act
from gan_zoo.layers.equalized import EqualizedLinear

# Channels per resolution along a mini-discriminator's down path (the official `channel_dict`).
CHANNELS = {4: 512, 8: 512, 16: 256, 32: 128, 64: 64, 128: 64, 256: 32, 512: 16, 1024: 8}
END_RESOLUTION = 8


def sn_conv(*args, **kwargs) -> nn.Module:
    """nn.Conv2d under torch's spectral norm (parameters `weight_orig`, buffers `weight_u`/`weight_v`)."""
    return spectral_norm(nn.Conv2d(*args, **kwargs))


class SeparableConv2d(nn.Module):
    """Depthwise 3x3 then pointwise 1x1, both spectral-normed and without bias (Projected GAN's
    `--cfg=stylegan2` discriminator: ~15x fewer parameters than the 4x4 convolutions)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = sn_conv(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = sn_conv(in_channels, out_channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


class DownBlock(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        separable: bool = False,  # depthwise-separable conv + 2x2 average pool instead of the strided 4x4 conv
    ) -> None:
        super().__init__()
        if separable:
            layers = [SeparableConv2d(in_channels, out_channels), nn.BatchNorm2d(out_channels), nn.LeakyReLU(0.2), nn.AvgPool2d(2)]
        else:
            layers = [sn_conv(in_channels, out_channels, 4, stride=2, padding=1), nn.BatchNorm2d(out_channels), nn.LeakyReLU(0.2)]
        self.main = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.main(x)


def down_path(in_channels: int, start_resolution: int, separable: bool) -> tuple[list[DownBlock], int]:
    """DownBlocks from `start_resolution` to 8 along CHANNELS (input width `in_channels`), and the final width."""
    if start_resolution not in CHANNELS or start_resolution < END_RESOLUTION:
        raise ValueError(f"mini-discriminator start resolution must be a power of two in 8..1024, got {start_resolution}")
    channels = dict(CHANNELS)
    channels[start_resolution] = in_channels
    blocks, resolution = [], start_resolution
    while resolution > END_RESOLUTION:
        blocks.append(DownBlock(channels[resolution], channels[resolution // 2], separable))
        resolution //= 2
    return blocks, channels[END_RESOLUTION]


class MiniDiscriminator(nn.Module):
    def __init__(
        self,
        in_channels: int,  # channels of the projected feature map
        start_resolution: int,  # its nominal resolution (at a 256 px input): the number of DownBlocks
        separable: bool = False,  # depthwise-separable DownBlocks
    ) -> None:
        super().__init__()
        blocks, width = down_path(in_channels, start_resolution, separable)
        self.main = nn.Sequential(*blocks, sn_conv(width, 1, 4, bias=False))

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        """x: [B, C, H, W] -> logits [B, h·w]."""
        return self.main(x).flatten(1)


class EqualizedLinearLrelu(EqualizedLinear):
    """StyleGAN2's FullyConnectedLayer(activation='lrelu'): equalized-lr linear, then LeakyReLU(0.2)·√2."""

    def forward(self, x: Tensor) -> Tensor:
        return bias_act(super().forward(x), activation="lrelu")


class ConditionalMiniDiscriminator(nn.Module):
    def __init__(
        self,
        in_channels: int,  # channels of the projected feature map
        start_resolution: int,  # its nominal resolution (at a 256 px input)
        separable: bool = False,  # depthwise-separable DownBlocks
        embed_classes: int = 1000,  # rows of the class embedding; the official codes always use 1000 (ImageNet)
        embed_dim: int = 128,  # 128 in Projected GAN; 320 in StyleGAN-XL (its pretrained EfficientNet-lite0 embedding)
        embed_proj: str = "linear",  # "linear": nn.Linear + LeakyReLU(0.2) (Projected GAN); "equalized": StyleGAN-XL's FC lrelu·√2
        cmap_dim: int = 64,  # width of the class map the logits project onto
    ) -> None:
        super().__init__()
        if embed_proj not in ("linear", "equalized"):
            raise ValueError(f"embed_proj must be 'linear' or 'equalized', got {embed_proj!r}")
        self.cmap_dim = cmap_dim
        blocks, width = down_path(in_channels, start_resolution, separable)
        self.main = nn.Sequential(*blocks)
        self.cls = sn_conv(width, cmap_dim, 4, bias=False)
        self.embed = nn.Embedding(embed_classes, embed_dim)
        if embed_proj == "linear":
            self.embed_proj = nn.Sequential(nn.Linear(embed_dim, cmap_dim), nn.LeakyReLU(0.2))
        else:
            self.embed_proj = EqualizedLinearLrelu(embed_dim, cmap_dim)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        """x: [B, C, H, W], c: one-hot [B, c_dim] -> logits [B, h·w]."""
        out = self.cls(self.main(x))
        cmap = self.embed_proj(self.embed(c.argmax(1)))[:, :, None, None]
        return (out * cmap).sum(dim=1).flatten(1) * (1 / math.sqrt(self.cmap_dim))


class MultiScaleDiscriminator(nn.Module):
    """One mini-discriminator per projected map; their logits concatenated to [B, L]."""

    def __init__(
        self,
        channels: tuple[int, ...],  # channels of the projected maps, finest first
        resolutions: tuple[int, ...],  # their nominal resolutions
        num_discs: int = 4,  # how many maps (finest first) get a mini-discriminator
        conditional: bool = False,  # class-conditional (projection) mini-discriminators
        separable: bool = False,  # depthwise-separable DownBlocks
        **cond_kwargs,  # ConditionalMiniDiscriminator's embed_classes, embed_dim, embed_proj, cmap_dim
    ) -> None:
        super().__init__()
        if not 1 <= num_discs <= len(channels):
            raise ValueError(f"num_discs must be in 1..{len(channels)}, got {num_discs}")
        discs = {}
        for i, (cin, resolution) in enumerate(zip(channels[:num_discs], resolutions[:num_discs], strict=True)):
            if conditional:
                discs[str(i)] = ConditionalMiniDiscriminator(cin, resolution, separable, **cond_kwargs)
            else:
                discs[str(i)] = MiniDiscriminator(cin, resolution, separable)
        self.mini_discs = nn.ModuleDict(discs)

    def forward(self, features: list[Tensor], c: Tensor | None) -> Tensor:
        return torch.cat([disc(features[int(key)], c) for key, disc in self.mini_discs.items()], dim=1)
