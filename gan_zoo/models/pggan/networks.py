"""PGGAN generator and discriminator (Karras et al. 2018, "Progressive Growing of GANs"; the
official `G_paper` / `D_paper` with structure "linear" and use_wscale on; fused_scale changes only
where D applies its leaky ReLU, see DiscriminatorBlock).

Vocabulary: the block at resolution 2**r has *level* r - 2 (level 0 is 4×4) and uses
`feature_maps(r - 1)` channels. `lod` (level of detail) counts down from `max_lod` (only 4×4) to 0
(full resolution); a fractional lod fades the newest block in. Both networks run only the blocks
the lod needs and work at the *current* resolution `resolution // 2**floor(lod)`: the official
generator nearest-upscales its output to full resolution and the discriminator box-downscales it
back, which is the identity, so the discriminator sees the same values either way.
"""

import math

import torch
from torch import nn

from gan_zoo.layers import (
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    downsample_box2x,
    pixel_norm,
    resolution_log2,
    upsample_nearest2x,
)

SQRT2 = math.sqrt(2.0)  # He gain in front of every (leaky) ReLU


def feature_maps(stage: int, fmap_base: int, fmap_decay: float, fmap_max: int) -> int:
    """Channel count of stage `stage`: min(fmap_base / 2**(stage * fmap_decay), fmap_max)."""
    return min(int(fmap_base / 2.0 ** (stage * fmap_decay)), fmap_max)


def split_lod(lod: float | torch.Tensor, max_lod: int) -> tuple[int, float]:
    """Level of the current (newest) block, and how far it is still faded out (0: fully in)."""
    lod = float(lod)
    if not 0.0 <= lod <= max_lod:
        raise ValueError(f"lod must lie in [0, {max_lod}] (0 = full resolution, {max_lod} = 4x4), got {lod}")
    whole = math.floor(lod)
    return max_lod - whole, lod - whole


def _activation(use_leakyrelu: bool) -> nn.Module:
    return nn.LeakyReLU(0.2) if use_leakyrelu else nn.ReLU()


class GeneratorInputBlock(nn.Module):
    """4×4: Dense -> per-channel bias -> act -> PN, then Conv 3×3 -> act -> PN."""

    def __init__(
        self,
        in_features: int,  # latent size + label size
        channels: int,  # feature maps at 4×4
        use_leakyrelu: bool,  # False: ReLU
        use_pixelnorm: bool,  # pixel norm after each activation
    ) -> None:
        super().__init__()
        # Gain sqrt(2)/4 is the official value (it reproduces the original Theano code). The bias is
        # added after the reshape to [C, 4, 4], so there is one per channel, not one per output unit.
        self.dense = EqualizedLinear(in_features, channels * 16, bias=False, gain=SQRT2 / 4)
        self.bias = nn.Parameter(torch.zeros(channels))
        self.conv = EqualizedConv2d(channels, channels, 3, gain=SQRT2)
        self.act = _activation(use_leakyrelu)
        self.norm = PixelNorm() if use_pixelnorm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dense(x).reshape(len(x), -1, 4, 4) + self.bias.reshape(1, -1, 1, 1)
        x = self.norm(self.act(x))
        return self.norm(self.act(self.conv(x)))


class GeneratorBlock(nn.Module):
    """Doubles the resolution: nearest ×2 -> Conv0 3×3 -> act -> PN -> Conv1 3×3 -> act -> PN."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        use_leakyrelu: bool,  # False: ReLU
        use_pixelnorm: bool,  # pixel norm after each activation
    ) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, out_channels, 3, gain=SQRT2)
        self.conv1 = EqualizedConv2d(out_channels, out_channels, 3, gain=SQRT2)
        self.act = _activation(use_leakyrelu)
        self.norm = PixelNorm() if use_pixelnorm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.act(self.conv0(upsample_nearest2x(x))))
        return self.norm(self.act(self.conv1(x)))


class PGGANGenerator(nn.Module):
    """z [N, z_dim] (+ one-hot labels [N, c_dim]) -> images [N, num_channels, res_cur, res_cur].

    `blocks[l]` and `to_rgb[l]` belong to level l (resolution 4·2**l); every ToRGB is kept so any lod
    can be rendered. At a fractional lod the newest block's image is blended with the nearest-upscaled
    image of the block below: lerp(new, old, lod - floor(lod)).
    """

    def __init__(
        self,
        resolution: int,  # final output side in pixels (power of two >= 4)
        num_channels: int = 3,  # image channels
        label_size: int = 0,  # classes of the one-hot conditioning labels; 0: unconditional
        fmap_base: int = 8192,  # channel-count formula, see feature_maps()
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        latent_size: int | None = None,  # None: feature_maps(0) (512 with the defaults)
        normalize_latents: bool = True,  # pixel-norm the concatenated [z, labels] input
        use_pixelnorm: bool = True,  # pixel norm after every convolution's activation
        use_leakyrelu: bool = True,  # LeakyReLU(0.2); False: ReLU
    ) -> None:
        super().__init__()
        log2 = resolution_log2(resolution)

        def nf(stage: int) -> int:
            return feature_maps(stage, fmap_base, fmap_decay, fmap_max)

        self.resolution = resolution
        self.num_channels = num_channels
        self.z_dim = nf(0) if latent_size is None else latent_size
        self.c_dim = label_size
        self.max_lod = log2 - 2
        self.normalize_latents = normalize_latents
        self.blocks = nn.ModuleList([GeneratorInputBlock(self.z_dim + label_size, nf(1), use_leakyrelu, use_pixelnorm)])
        self.blocks.extend(GeneratorBlock(nf(r - 2), nf(r - 1), use_leakyrelu, use_pixelnorm) for r in range(3, log2 + 1))
        # ToRGB is linear (gain 1): its output is the image itself.
        self.to_rgb = nn.ModuleList(EqualizedConv2d(nf(r - 1), num_channels, 1) for r in range(2, log2 + 1))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, lod: float | torch.Tensor = 0.0) -> torch.Tensor:
        level, fade = split_lod(lod, self.max_lod)
        x = self._network_input(z, labels)
        x_prev = x
        for block in self.blocks[: level + 1]:
            x_prev, x = x, block(x)
        image = self.to_rgb[level](x)
        if fade > 0:  # skipped at fade 0 so the old ToRGB is not even run
            image = torch.lerp(image, upsample_nearest2x(self.to_rgb[level - 1](x_prev)), fade)
        return image

    def _network_input(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        if labels is None and self.c_dim == 0:
            x = z
        elif labels is None or labels.shape != (len(z), self.c_dim):
            got = None if labels is None else list(labels.shape)
            raise ValueError(f"labels must be [{len(z)}, {self.c_dim}] (one-hot), got {got}")
        else:
            x = torch.cat([z, labels.to(z.dtype)], dim=1)
        return pixel_norm(x) if self.normalize_latents else x


class FromRGB(nn.Module):
    """1×1 conv from image channels to features, then LeakyReLU."""

    def __init__(self, num_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = EqualizedConv2d(num_channels, out_channels, 1, gain=SQRT2)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(image))


class DiscriminatorBlock(nn.Module):
    """Halves the resolution: Conv0 3×3 -> lrelu -> Conv1 3×3 -> box ↓2 and lrelu.

    The official `D_paper` (progressive_growing_of_gans `networks.py`) has two forms of the last
    step: fused_scale=True (its default; `Conv1_down`, conv2d_downscale2d) pools before the leaky
    ReLU, fused_scale=False (`Conv1` then downscale2d, as in the released CelebA-HQ network
    converted from the Theano code) after it. The generator's two forms compute the same function.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        fused_scale: bool = True,  # True: pool, then lrelu (Conv1_down); False: lrelu, then pool (Conv1)
    ) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3, gain=SQRT2)
        self.conv1 = EqualizedConv2d(in_channels, out_channels, 3, gain=SQRT2)
        self.act = nn.LeakyReLU(0.2)
        self.fused_scale = fused_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv0(x))
        if not self.fused_scale:
            return downsample_box2x(self.act(self.conv1(x)))
        # The official code adds the bias after pooling; a per-channel bias commutes with averaging.
        return self.act(downsample_box2x(self.conv1(x)))


class DiscriminatorOutputBlock(nn.Module):
    """4×4: minibatch stddev -> Conv 3×3 -> lrelu -> Dense0 -> lrelu -> Dense1 (linear)."""

    def __init__(
        self,
        channels: int,  # feature maps at 4×4
        hidden_features: int,  # width of Dense0
        out_features: int,  # 1 score + label_size label logits
        mbstd_group_size: int,  # <= 1: no minibatch-stddev layer (as in the official code)
        mbstd_num_features: int,  # extra feature maps from minibatch stddev
    ) -> None:
        super().__init__()
        use_mbstd = mbstd_group_size > 1
        self.mbstd = MinibatchStdDev(mbstd_group_size, mbstd_num_features) if use_mbstd else nn.Identity()
        self.conv = EqualizedConv2d(channels + (mbstd_num_features if use_mbstd else 0), channels, 3, gain=SQRT2)
        self.dense0 = EqualizedLinear(channels * 16, hidden_features, gain=SQRT2)
        self.dense1 = EqualizedLinear(hidden_features, out_features, gain=1.0)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv(self.mbstd(x)))
        x = self.act(self.dense0(x.flatten(1)))  # flattened in [C, H, W] order, as TF's NCHW dense
        return self.dense1(x)


class PGGANDiscriminator(nn.Module):
    """images [N, num_channels, res_cur, res_cur] -> (scores [N], label logits [N, c_dim] or None).

    `from_rgb[l]` and `blocks[l]` belong to level l (resolution 4·2**l); blocks[0] is the 4×4 output
    block. At a fractional lod the newest block's features are blended with those of the next-lower
    FromRGB fed the box-downscaled image: lerp(new, old, lod - floor(lod)).
    """

    def __init__(
        self,
        resolution: int,  # final input side in pixels (power of two >= 4)
        num_channels: int = 3,  # image channels
        label_size: int = 0,  # classes predicted by the auxiliary classifier; 0: unconditional
        fmap_base: int = 8192,  # channel-count formula, see feature_maps()
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        mbstd_group_size: int = 4,  # samples per minibatch-stddev group; 0 or 1: layer disabled
        mbstd_num_features: int = 1,  # feature maps added by minibatch stddev
        fused_scale: bool = True,  # the official D_paper default; False: lrelu before pooling (see DiscriminatorBlock)
    ) -> None:
        super().__init__()
        log2 = resolution_log2(resolution)
        self.pool_after_activation = not fused_scale  # read by make_block (StyleGAN v1's D has its own)

        def nf(stage: int) -> int:
            return feature_maps(stage, fmap_base, fmap_decay, fmap_max)

        self.resolution = resolution
        self.num_channels = num_channels
        self.c_dim = label_size
        self.max_lod = log2 - 2
        self.from_rgb = nn.ModuleList(FromRGB(num_channels, nf(r - 1)) for r in range(2, log2 + 1))
        self.blocks = nn.ModuleList([DiscriminatorOutputBlock(nf(1), nf(0), self.output_features(label_size), mbstd_group_size, mbstd_num_features)])
        self.blocks.extend(self.make_block(nf(r - 1), nf(r - 2), 2**r) for r in range(3, log2 + 1))

    # Variants of this discriminator (StyleGAN v1's D_basic) override the two hooks below.

    def make_block(self, in_channels: int, out_channels: int, resolution: int) -> nn.Module:
        """The block that takes `resolution` px down to half of it."""
        return DiscriminatorBlock(in_channels, out_channels, fused_scale=not self.pool_after_activation)

    def output_features(self, label_size: int) -> int:
        """Width of Dense1: one score plus the AC-GAN label logits."""
        return 1 + label_size

    def forward(self, images: torch.Tensor, lod: float | torch.Tensor = 0.0) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.trunk(images, lod)
        return x[:, 0], (x[:, 1:] if self.c_dim else None)

    def trunk(self, images: torch.Tensor, lod: float | torch.Tensor = 0.0) -> torch.Tensor:
        """images at the current resolution -> Dense1 outputs [N, output_features(label_size)]."""
        level, fade = split_lod(lod, self.max_lod)
        size = 4 * 2**level
        if images.ndim != 4 or tuple(images.shape[1:]) != (self.num_channels, size, size):
            raise ValueError(f"at lod {float(lod)} images must be [N, {self.num_channels}, {size}, {size}], got {list(images.shape)}")
        x = self.from_rgb[level](images)
        if fade > 0:  # the newest block is still fading in; the lower blocks then run as usual
            x = torch.lerp(self.blocks[level](x), self.from_rgb[level - 1](downsample_box2x(images)), fade)
            level -= 1
        for block in reversed(self.blocks[: level + 1]):
            x = block(x)
        return x
