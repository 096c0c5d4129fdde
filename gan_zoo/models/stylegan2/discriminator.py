"""StyleGAN2 discriminator, architecture 'resnet' (config F) or 'orig' (the ADA code's CIFAR setting).

Blocks b{res} for res = R ... 8 halve the resolution: conv0 3×3 -> conv1 3×3 with FIR downsampling.
In 'resnet' each block adds a 1×1 downsampling skip connection (no bias) and scales both branches by
√0.5 so the sum keeps unit variance. Only the top block reads the image (fromrgb 1×1). The 4×4
epilogue: minibatch stddev -> conv 3×3 -> fc -> out. A conditional D projects instead of scoring:
`out` gives cmap_dim features and the score is Σ(x · cmap(c)) / √cmap_dim, with cmap from a label-only
mapping network (8 layers, lr multiplier 0.01, as the ADA code builds it).
"""

import math

import torch
from torch import nn

from gan_zoo.layers import Conv2dLayer, EqualizedLinear, MinibatchStdDev, bias_act, full_precision, layer_fir_filter, reduced_precision
from gan_zoo.layers.resample import resolution_log2
from gan_zoo.models.stylegan2.mapping import MappingNetwork
from gan_zoo.models.stylegan2.plan import channels_at, fp16_resolution

ARCHITECTURES = ("resnet", "orig")


class DiscriminatorBlock(nn.Module):
    def __init__(
        self,
        in_channels: int,  # 0: the top block, which reads the image
        tmp_channels: int,  # channels at this resolution
        out_channels: int,  # channels at half this resolution
        img_channels: int,
        architecture: str = "resnet",  # "resnet" (skip connections) or "orig" (plain)
        use_fp16: bool = False,  # run in reduced precision on CUDA
        conv_clamp: float | None = None,  # clamp of every conv output
        resample_filter: tuple[float, ...] = (1, 3, 3, 1),  # FIR taps of the downsampling
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.architecture = architecture
        self.use_fp16 = use_fp16
        if in_channels == 0:
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu", conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation="lrelu", conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2, conv_clamp=conv_clamp, resample_filter=resample_filter)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2, resample_filter=resample_filter)
        # Read only by the official 'skip' architecture (which downsamples the image); kept so that the
        # state dict matches the official DiscriminatorBlock's key for key.
        self.register_buffer("resample_filter", layer_fir_filter(resample_filter))

    def forward(self, x: torch.Tensor | None, img: torch.Tensor) -> torch.Tensor:
        with reduced_precision(self.use_fp16, img.device):
            x = self.fromrgb(img) if self.in_channels == 0 else full_precision(x)  # type: ignore[union-attr]
            if self.architecture == "resnet":
                y = self.skip(x, gain=math.sqrt(0.5))
                x = self.conv1(self.conv0(x), gain=math.sqrt(0.5))
                return y + x
            return self.conv1(self.conv0(x))


class DiscriminatorEpilogue(nn.Module):
    """4×4: minibatch stddev -> conv 3×3 -> fc -> out (1 score, or cmap_dim projection features)."""

    def __init__(
        self,
        channels: int,  # feature maps at 4×4
        cmap_dim: int,  # 0: unconditional score; else projection size
        mbstd_group_size: int = 4,  # samples per minibatch-stddev group (capped at the batch)
        mbstd_num_channels: int = 1,  # stddev feature maps; 0: no minibatch-stddev layer
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.cmap_dim = cmap_dim
        self.mbstd = MinibatchStdDev(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else nn.Identity()
        self.conv = Conv2dLayer(channels + mbstd_num_channels, channels, 3, activation="lrelu", conv_clamp=conv_clamp)
        self.fc = EqualizedLinear(channels * 16, channels)
        self.out = EqualizedLinear(channels, cmap_dim or 1)

    def forward(self, x: torch.Tensor, cmap: torch.Tensor | None) -> torch.Tensor:
        x = self.conv(self.mbstd(full_precision(x)))
        x = bias_act(self.fc(x.flatten(1)), activation="lrelu")
        x = self.out(x)
        if self.cmap_dim:
            return (x * cmap).sum(dim=1) / math.sqrt(self.cmap_dim)
        return x[:, 0]


class Discriminator(nn.Module):
    """images [N, img_channels, R, R] (+ one-hot c [N, c_dim]) -> logits [N]."""

    def __init__(
        self,
        resolution: int,  # input side (power of two >= 8)
        img_channels: int = 3,
        c_dim: int = 0,  # one-hot label size; 0: unconditional
        architecture: str = "resnet",  # "resnet" (config F) or "orig" (ADA cifar)
        channel_base: int = 32768,  # channels at res: min(channel_base // res, channel_max)
        channel_max: int = 512,
        num_fp16_res: int = 4,  # highest resolutions run in reduced precision on CUDA; 0: none
        conv_clamp: float | None = 256,  # clamp of every conv output; None: no clamp
        cmap_dim: int | None = None,  # projection size when conditional; None: the 4×4 channel count
        mbstd_group_size: int = 4,  # minibatch-stddev group
        mbstd_num_channels: int = 1,  # minibatch-stddev feature maps; 0 disables the layer
        mapping_layers: int = 8,  # FC layers of the label mapping (conditional only)
        resample_filter: tuple[float, ...] = (1, 3, 3, 1),
    ) -> None:
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise ValueError(f"discriminator architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        log2 = resolution_log2(resolution)
        if resolution < 8:
            raise ValueError(f"the StyleGAN2 discriminator needs resolution >= 8, got {resolution}")
        self.resolution, self.img_channels, self.c_dim = resolution, img_channels, c_dim
        self.block_resolutions = [2**i for i in range(log2, 2, -1)]
        fp16_from = fp16_resolution(resolution, num_fp16_res) if num_fp16_res > 0 else resolution * 2
        for res in self.block_resolutions:
            in_channels = channels_at(res, channel_base, channel_max) if res < resolution else 0
            block = DiscriminatorBlock(
                in_channels,
                channels_at(res, channel_base, channel_max),
                channels_at(res // 2, channel_base, channel_max),
                img_channels,
                architecture,
                use_fp16=res >= fp16_from,
                conv_clamp=conv_clamp,
                resample_filter=tuple(resample_filter),
            )
            setattr(self, f"b{res}", block)
        channels4 = channels_at(4, channel_base, channel_max)
        self.cmap_dim = 0 if c_dim == 0 else (cmap_dim or channels4)
        if c_dim:
            self.mapping = MappingNetwork(z_dim=0, c_dim=c_dim, w_dim=self.cmap_dim, num_ws=None, num_layers=mapping_layers, w_avg_beta=None)
        self.b4 = DiscriminatorEpilogue(channels4, self.cmap_dim, mbstd_group_size, mbstd_num_channels, conv_clamp)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        expected = (self.img_channels, self.resolution, self.resolution)
        if img.ndim != 4 or tuple(img.shape[1:]) != expected:
            raise ValueError(f"images must be [N, {', '.join(map(str, expected))}], got {list(img.shape)}")
        x = None
        for res in self.block_resolutions:
            x = getattr(self, f"b{res}")(x, img)
        cmap = self.mapping(None, c) if self.c_dim else None
        if not self.c_dim and c is not None and c.numel():
            raise ValueError("this discriminator is unconditional (c_dim=0) but labels were given")
        return self.b4(x, cmap)
