"""The style encoder E and the trunk it shares with the discriminator D (discriminator.py); clovaai/stargan-v2 `core/model.py`.

Trunk: conv3x3 from RGB, log2(img_size) − 2 downsampling ResBlks (channels doubling up to
`max_conv_dim`, ending at 4x4), LeakyReLU, a valid 4x4 conv to 1x1, LeakyReLU. E ends in one linear
head per domain; D in a 1x1 conv with one logit per domain. Both return the target domain's output.
"""

import math

import torch
from torch import Tensor, nn

from gan_zoo.models.stargan_v2.blocks import ResBlk
from gan_zoo.models.stargan_v2.generator import first_channels


def trunk(img_size: int, max_conv_dim: int, channel_base: int, channels: int) -> tuple[list[nn.Module], int]:
    """(the trunk's layers, its output channels), laid out as the official `shared`/`main` indices."""
    if img_size < 8 or img_size & (img_size - 1):
        raise ValueError(f"the StarGAN v2 encoder and discriminator need a power-of-two image size >= 8, got {img_size}")
    dim_in = first_channels(img_size, channel_base)
    layers: list[nn.Module] = [nn.Conv2d(channels, dim_in, 3, 1, 1)]
    dim_out = dim_in
    for _ in range(int(math.log2(img_size)) - 2):
        dim_out = min(dim_in * 2, max_conv_dim)
        layers.append(ResBlk(dim_in, dim_out, downsample=True))
        dim_in = dim_out
    layers += [nn.LeakyReLU(0.2), nn.Conv2d(dim_out, dim_out, 4, 1, 0), nn.LeakyReLU(0.2)]
    return layers, dim_out


def select_domain(out: Tensor, y: Tensor) -> Tensor:
    if y.shape != (out.shape[0],):
        raise ValueError(f"expected one domain index per image ([{out.shape[0]}]), got shape {list(y.shape)}")
    return out[torch.arange(out.shape[0], device=out.device), y]


class StyleEncoder(nn.Module):
    def __init__(
        self,
        img_size: int = 256,  # image side (power of two >= 8)
        style_dim: int = 64,  # size of the style codes
        num_domains: int = 2,  # one linear head per domain
        max_conv_dim: int = 512,  # channel cap
        channel_base: int = 2**14,  # channels of the first conv = channel_base // img_size
        channels: int = 3,  # image channels
    ) -> None:
        super().__init__()
        layers, dim_out = trunk(img_size, max_conv_dim, channel_base, channels)
        self.shared = nn.Sequential(*layers)
        self.unshared = nn.ModuleList(nn.Linear(dim_out, style_dim) for _ in range(num_domains))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """x [N, C, H, W], y [N] domains -> s [N, style_dim]."""
        h = self.shared(x).flatten(1)
        return select_domain(torch.stack([head(h) for head in self.unshared], dim=1), y)
