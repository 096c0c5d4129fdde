"""The layers of Projected GAN's FastGAN generator (autonomousvision/projected-gan `pg_modules/blocks.py`).

Every convolution and linear layer carries `torch.nn.utils.spectral_norm`, as in the official code,
so that `weight_orig` (parameter) and `weight_u`/`weight_v` (buffers) are the official state-dict
names. Sequential blocks keep the official layer order, because their indices are those names too
(`feat_8.1.weight_orig` is the first conv of the 8x8 block). Activations are GLUs: a conv emits twice
the channels it keeps and the second half gates the first.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import spectral_norm

from gan_zoo.layers.resample import NearestUpsample2x

NOISE_MODES = ("random", "none")


def sn_conv(in_channels: int, out_channels: int, kernel_size: int, padding: int = 0, bias: bool = False) -> nn.Conv2d:
    return spectral_norm(nn.Conv2d(in_channels, out_channels, kernel_size, 1, padding, bias=bias))


def sn_linear(in_features: int, out_features: int) -> nn.Linear:
    return spectral_norm(nn.Linear(in_features, out_features))


class NoiseInjection(nn.Module):
    """x + w · n with one N(0, 1) map n per sample, shared by all channels, and one scalar w from zero."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, noise_mode: str = "random") -> Tensor:
        if noise_mode == "none":
            return x
        if noise_mode != "random":
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        return x + self.weight * noise


class InitLayer(nn.Module):
    """z [N, z_dim] -> 4x4 features: a 4x4 transposed conv of the latent as a 1x1 image, BN, GLU."""

    def __init__(self, z_dim: int, channels: int) -> None:
        super().__init__()
        self.init = nn.Sequential(
            spectral_norm(nn.ConvTranspose2d(z_dim, channels * 2, 4, 1, 0, bias=False)),
            nn.BatchNorm2d(channels * 2),
            nn.GLU(dim=1),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.init(z[:, :, None, None])


class UpBlock(nn.Sequential):
    """Nearest x2 upsampling, then conv3x3 -> BN -> GLU once (lite) or twice, with noise after each
    conv (full). Official `UpBlockSmall` / `UpBlockBig`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        big: bool,  # True: two noisy convs (`--cfg fastgan`); False: one conv, no noise (`fastgan_lite`)
    ) -> None:
        layers: list[nn.Module] = [NearestUpsample2x()]
        for conv_in in (in_channels, out_channels) if big else (in_channels,):
            layers.append(sn_conv(conv_in, out_channels * 2, 3, padding=1))
            if big:
                layers.append(NoiseInjection())
            layers += [nn.BatchNorm2d(out_channels * 2), nn.GLU(dim=1)]
        super().__init__(*layers)

    def forward(self, x: Tensor, c: Tensor | None = None, noise_mode: str = "random") -> Tensor:
        for layer in self:
            x = layer(x, noise_mode) if isinstance(layer, NoiseInjection) else layer(x)
        return x


class ConditionalBatchNorm(nn.Module):
    """Batch norm without affine parameters, then (1 + gain(e)) · x + bias(e) for a class embedding e.
    Official `CCBN`: its running statistics are the buffers `stored_mean` / `stored_var`."""

    def __init__(self, channels: int, embed_dim: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gain = sn_linear(embed_dim, channels)
        self.bias = sn_linear(embed_dim, channels)
        self.register_buffer("stored_mean", torch.zeros(channels))
        self.register_buffer("stored_var", torch.ones(channels))

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        x = F.batch_norm(x, self.stored_mean, self.stored_var, None, None, self.training, self.momentum, self.eps)
        return x * (1 + self.gain(e))[:, :, None, None] + self.bias(e)[:, :, None, None]


class CondUpBlockSmall(nn.Module):
    """`UpBlock(big=False)` with class-conditional batch norm (official `UpBlockSmallCond`)."""

    def __init__(self, in_channels: int, out_channels: int, embed_dim: int) -> None:
        super().__init__()
        self.up = NearestUpsample2x()
        self.conv = sn_conv(in_channels, out_channels * 2, 3, padding=1)
        self.bn = ConditionalBatchNorm(out_channels * 2, embed_dim)
        self.act = nn.GLU(dim=1)

    def forward(self, x: Tensor, c: Tensor, noise_mode: str = "random") -> Tensor:
        return self.act(self.bn(self.conv(self.up(x)), c))


class CondUpBlockBig(nn.Module):
    """`UpBlock(big=True)` with class-conditional batch norm (official `UpBlockBigCond`). As there, one
    NoiseInjection (a single learned strength) serves both convs."""

    def __init__(self, in_channels: int, out_channels: int, embed_dim: int) -> None:
        super().__init__()
        self.up = NearestUpsample2x()
        self.conv1 = sn_conv(in_channels, out_channels * 2, 3, padding=1)
        self.conv2 = sn_conv(out_channels, out_channels * 2, 3, padding=1)
        self.bn1 = ConditionalBatchNorm(out_channels * 2, embed_dim)
        self.bn2 = ConditionalBatchNorm(out_channels * 2, embed_dim)
        self.act = nn.GLU(dim=1)
        self.noise = NoiseInjection()

    def forward(self, x: Tensor, c: Tensor, noise_mode: str = "random") -> Tensor:
        x = self.act(self.bn1(self.noise(self.conv1(self.up(x)), noise_mode), c))
        return self.act(self.bn2(self.noise(self.conv2(x), noise_mode), c))


class SEBlock(nn.Module):
    """Skip-layer excitation: a low-resolution feature map gates the channels of a high-resolution one.
    The small map is pooled to 4x4, a 4x4 conv (no padding) makes it 1x1, then swish, 1x1 conv, sigmoid."""

    def __init__(self, small_channels: int, big_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            sn_conv(small_channels, big_channels, 4),
            nn.SiLU(),
            sn_conv(big_channels, big_channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, feat_small: Tensor, feat_big: Tensor) -> Tensor:
        return feat_big * self.main(feat_small)
