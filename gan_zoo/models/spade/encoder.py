"""ConvEncoder (NVlabs/SPADE `models/networks/encoder.py`): the VAE image encoder of multimodal SPADE.
The image is resized (bilinear) to size x size, then log2(size / 4) stride-2 3x3 convs (spectral
norm + instance norm, lrelu 0.2) reach 4x4, and two linear layers give the mean and log-variance of
z."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.models.spade.blocks import maybe_spectral


class ConvEncoder(nn.Module):
    def __init__(
        self,
        ndf: int = 64,  # channels of the first conv; doubled per layer up to 8 ndf
        z_dim: int = 256,  # latent size
        size: int = 256,  # input side after resizing (official 256: six convs to 4x4)
        input_nc: int = 3,  # image channels
        spectral: bool = True,  # spectral norm on the convs (official 'spectralinstance')
    ) -> None:
        super().__init__()
        num_layers = int(math.log2(size // 4))
        if size < 8 or 4 * 2**num_layers != size:
            raise ValueError(f"the encoder size must be a power of two >= 8, got {size}")
        self.size = size
        channels = [input_nc] + [ndf * min(2**i, 8) for i in range(num_layers)]
        self.num_layers = num_layers
        for i in range(num_layers):
            conv = maybe_spectral(nn.Conv2d(channels[i], channels[i + 1], 3, stride=2, padding=1, bias=False), spectral)
            setattr(self, f"layer{i + 1}", nn.Sequential(conv, nn.InstanceNorm2d(channels[i + 1], affine=False)))
        self.fc_mu = nn.Linear(channels[-1] * 4 * 4, z_dim)
        self.fc_var = nn.Linear(channels[-1] * 4 * 4, z_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x: [N, C, H, W] in [-1, 1] -> (mu, logvar), each [N, z_dim]."""
        if x.shape[2:] != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear")
        x = self.layer1(x)
        for i in range(2, self.num_layers + 1):
            x = getattr(self, f"layer{i}")(F.leaky_relu(x, 0.2))
        x = F.leaky_relu(x, 0.2).flatten(1)
        return self.fc_mu(x), self.fc_var(x)


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor | None = None) -> Tensor:
    """z = mu + eps * exp(logvar / 2); eps ~ N(0, 1) drawn here when not given."""
    if eps is None:
        eps = torch.randn_like(mu)
    return eps * torch.exp(0.5 * logvar) + mu
