"""StyleGAN v1 networks: the style-based generator `G_style` and the discriminator `D_basic`.

G = MappingNetwork (z -> ws) + SynthesisNetwork (ws -> image), with the interface other code
relies on (PPL, generation): `G.mapping(z, c, truncation_psi, truncation_cutoff)` -> ws
[N, num_ws, w_dim] and `G.synthesis(ws, noise_mode)` -> images. D is PGGAN's discriminator with a
[1,2,1] blur before every down-sampling conv (fused at >= 128 px) and, when conditional, the
projection-style label switch (score = Σ outputs · one-hot label) instead of PGGAN's AC-GAN head.
"""

from collections.abc import Sequence

import torch
from torch import nn

from gan_zoo.layers.blur2d import Blur2d
from gan_zoo.layers.equalized import EqualizedConv2d
from gan_zoo.layers.fused_scale import EqualizedDownConv2d
from gan_zoo.layers.resample import resolution_log2
from gan_zoo.models.pggan.networks import SQRT2, PGGANDiscriminator
from gan_zoo.models.stylegan.mapping import MappingNetwork
from gan_zoo.models.stylegan.synthesis import SynthesisNetwork, use_fused


class StyleGANGenerator(nn.Module):
    """z [N, z_dim] (+ one-hot labels [N, c_dim]) -> images [N, num_channels, resolution, resolution]."""

    def __init__(
        self,
        resolution: int,  # final output side in pixels (power of two >= 4)
        num_channels: int = 3,  # image channels
        label_size: int = 0,  # classes of the one-hot labels; 0: unconditional
        z_dim: int = 512,  # latent size
        w_dim: int = 512,  # intermediate latent (style) size
        mapping_layers: int = 8,  # FC layers of the mapping network
        mapping_fmaps: int = 512,  # width of its hidden layers
        mapping_lr_mul: float = 0.01,  # learning-rate multiplier of the mapping network
        normalize_latents: bool = True,  # pixel norm of z before mapping
        w_avg_beta: float = 0.995,  # per-step decay of the tracked w average (truncation centre)
        fmap_base: int = 8192,  # synthesis channels: min(fmap_base / 2**((r-1)·fmap_decay), fmap_max) at 2^r px
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        blur_filter: Sequence[float] | None = (1, 2, 1),  # FIR after up-sampling; None: no blur
        fused_scale: bool | str = "auto",  # fused up-sampling conv: true, false, 'auto' (>= 128 px)
    ) -> None:
        super().__init__()
        self.synthesis = SynthesisNetwork(resolution, num_channels, w_dim, fmap_base, fmap_decay, fmap_max, blur_filter, fused_scale)
        self.mapping = MappingNetwork(
            z_dim, label_size, w_dim, self.synthesis.num_ws, mapping_layers, mapping_fmaps, mapping_lr_mul, normalize_latents, w_avg_beta
        )
        self.resolution, self.num_channels = resolution, num_channels
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, label_size, w_dim, self.synthesis.num_ws
        self.max_lod = self.synthesis.max_lod

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor | None = None,
        truncation_psi: float = 1.0,  # 1: no truncation
        truncation_cutoff: int | None = None,  # truncate styles 0 .. cutoff-1; None: all
        noise_mode: str = "random",  # 'random', 'const' or 'none'
        lod: float | None = None,  # None: the synthesis network's `lod` buffer
    ) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, lod=lod)


class BlurDiscriminatorBlock(nn.Module):
    """Halves the resolution: Conv0 3×3 -> lrelu -> blur -> Conv1_down (3×3 + box ↓2) -> lrelu."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        blur_filter: Sequence[float] | None,  # FIR before the down-sampling conv; None: no blur
        fused: bool,  # one stride-2 conv instead of conv + box (same result)
    ) -> None:
        super().__init__()
        self.conv0 = EqualizedConv2d(in_channels, in_channels, 3, gain=SQRT2)
        self.blur = Blur2d(blur_filter) if blur_filter else nn.Identity()
        self.conv1 = EqualizedDownConv2d(in_channels, out_channels, fused=fused, gain=SQRT2)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv0(x))
        return self.act(self.conv1(self.blur(x)))


class StyleGANDiscriminator(PGGANDiscriminator):
    """images [N, num_channels, res_cur, res_cur] (+ one-hot labels) -> scores [N]; fades as PGGAN's D."""

    def __init__(
        self,
        resolution: int,  # final input side in pixels (power of two >= 4)
        num_channels: int = 3,  # image channels
        label_size: int = 0,  # classes of the one-hot labels; 0: unconditional
        fmap_base: int = 8192,  # channel-count formula, as the generator's
        fmap_decay: float = 1.0,
        fmap_max: int = 512,
        mbstd_group_size: int = 4,  # samples per minibatch-stddev group; 0 or 1: layer disabled
        mbstd_num_features: int = 1,  # feature maps added by minibatch stddev
        blur_filter: Sequence[float] | None = (1, 2, 1),  # FIR before down-sampling; None: no blur
        fused_scale: bool | str = "auto",  # fused down-sampling conv: true, false, 'auto' (input >= 128 px)
    ) -> None:
        resolution_log2(resolution)  # fail on a bad resolution before anything is built
        use_fused(fused_scale, resolution)  # likewise for a bad fused_scale
        # Read by make_block while PGGANDiscriminator.__init__ builds the blocks (plain attributes,
        # which nn.Module allows before its __init__).
        self.blur_filter = tuple(blur_filter) if blur_filter else None
        self.fused_scale = fused_scale
        super().__init__(resolution, num_channels, label_size, fmap_base, fmap_decay, fmap_max, mbstd_group_size, mbstd_num_features)

    def make_block(self, in_channels: int, out_channels: int, resolution: int) -> nn.Module:
        return BlurDiscriminatorBlock(in_channels, out_channels, self.blur_filter, use_fused(self.fused_scale, resolution))

    def output_features(self, label_size: int) -> int:
        return max(label_size, 1)  # one output per class, of which the label picks the score

    def forward(self, images: torch.Tensor, c: torch.Tensor | None = None, lod: float | torch.Tensor = 0.0) -> torch.Tensor:  # type: ignore[override]
        x = self.trunk(images, lod)
        if not self.c_dim:
            if c is not None and c.numel():
                raise ValueError(f"this discriminator is unconditional but got labels of shape {list(c.shape)}")
            return x[:, 0]
        if c is None or c.shape != (len(images), self.c_dim):
            raise ValueError(
                f"this discriminator is conditional: c must be [{len(images)}, {self.c_dim}] (one-hot), got {None if c is None else list(c.shape)}"
            )
        return (x * c.to(x.dtype)).sum(dim=1)
