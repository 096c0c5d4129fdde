"""The building blocks of every StarGAN v2 network (clovaai/stargan-v2 `core/model.py`).

ResBlk (G's encoder, E, D), AdaIN and AdainResBlk (G's decoder), and the high-pass filter of the
face models' skip path. Both residual blocks add their shortcut and residual and divide by √2 so
that the sum keeps unit variance; attribute names follow the official state dicts (`conv1`,
`norm1`, `conv1x1`, ...) so that released weights map one to one.
"""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.layers.resample import interpolate_nearest2x


class ResBlk(nn.Module):
    def __init__(
        self,
        dim_in: int,  # input channels
        dim_out: int,  # output channels (a bias-free 1x1 shortcut conv when they differ)
        normalize: bool = False,  # instance norm (affine) before each activation (G's encoder only)
        downsample: bool = False,  # halve H and W with 2x2 average pooling
    ) -> None:
        super().__init__()
        self.normalize, self.downsample = normalize, downsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_in, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        if normalize:
            self.norm1 = nn.InstanceNorm2d(dim_in, affine=True)
            self.norm2 = nn.InstanceNorm2d(dim_in, affine=True)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)

    def shortcut(self, x: Tensor) -> Tensor:
        if self.learned_sc:
            x = self.conv1x1(x)
        return F.avg_pool2d(x, 2) if self.downsample else x

    def residual(self, x: Tensor) -> Tensor:
        if self.normalize:
            x = self.norm1(x)
        x = self.conv1(F.leaky_relu(x, 0.2))
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        if self.normalize:
            x = self.norm2(x)
        return self.conv2(F.leaky_relu(x, 0.2))

    def forward(self, x: Tensor) -> Tensor:
        return (self.shortcut(x) + self.residual(x)) / math.sqrt(2)


class AdaIN(nn.Module):
    """(1 + γ(s)) · IN(x) + β(s): a zero style leaves plain instance normalisation."""

    def __init__(
        self,
        style_dim: int,  # size of the style code s
        num_features: int,  # channels of x
    ) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(num_features, affine=False)
        self.fc = nn.Linear(style_dim, num_features * 2)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        gamma, beta = self.fc(s)[:, :, None, None].chunk(2, dim=1)
        return (1 + gamma) * self.norm(x) + beta


class AdainResBlk(nn.Module):
    def __init__(
        self,
        dim_in: int,  # input channels
        dim_out: int,  # output channels
        style_dim: int = 64,  # size of the style code
        w_hpf: float = 0,  # > 0: the block's output is the residual alone (the face models' high-pass skip carries the rest)
        upsample: bool = False,  # double H and W (nearest) before the first conv
    ) -> None:
        super().__init__()
        self.w_hpf, self.upsample = w_hpf, upsample
        self.learned_sc = dim_in != dim_out
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, 1, 1)
        self.norm1 = AdaIN(style_dim, dim_in)
        self.norm2 = AdaIN(style_dim, dim_out)
        if self.learned_sc:
            self.conv1x1 = nn.Conv2d(dim_in, dim_out, 1, 1, 0, bias=False)
            if w_hpf > 0:
                # The official generator creates this conv but never uses it when w_hpf > 0. It is
                # kept (released weights load key for key) and frozen: it receives no gradient, so it
                # is not counted as trainable and no optimizer holds it.
                self.conv1x1.requires_grad_(False)

    def shortcut(self, x: Tensor) -> Tensor:
        if self.upsample:
            x = interpolate_nearest2x(x)
        return self.conv1x1(x) if self.learned_sc else x

    def residual(self, x: Tensor, s: Tensor) -> Tensor:
        x = F.leaky_relu(self.norm1(x, s), 0.2)
        if self.upsample:
            x = interpolate_nearest2x(x)
        x = self.conv1(x)
        return self.conv2(F.leaky_relu(self.norm2(x, s), 0.2))

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        out = self.residual(x, s)
        if self.w_hpf == 0:
            out = (out + self.shortcut(x)) / math.sqrt(2)
        return out


class HighPass(nn.Module):
    """Depthwise 3x3 Laplacian-like filter / w_hpf: keeps the encoder's edges for the decoder."""

    def __init__(self, w_hpf: float) -> None:  # w_hpf: the filter's divisor (> 0)
        super().__init__()
        kernel = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]]) / w_hpf
        self.register_buffer("filter", kernel)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.filter[None, None].expand(x.shape[1], 1, 3, 3)
        return F.conv2d(x, weight, padding=1, groups=x.shape[1])


def he_init(module: nn.Module) -> None:
    """Kaiming-normal (fan_in, relu) weights and zero biases for every conv and linear layer."""
    if isinstance(module, nn.Conv2d | nn.Linear):
        nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
