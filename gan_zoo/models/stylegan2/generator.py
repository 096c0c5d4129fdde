"""StyleGAN2 generator: mapping network + 'skip' synthesis network.

The PPL / projection interface of the ADA code: `G.mapping(z, c, truncation_psi, truncation_cutoff)`
gives ws [N, num_ws, w_dim] and `G.synthesis(ws, noise_mode=...)` the images; `G(z, c)` chains them.
"""

from typing import Any

import torch
from torch import nn

from gan_zoo.models.stylegan2.mapping import MappingNetwork
from gan_zoo.models.stylegan2.synthesis import Randn, SynthesisNetwork


class Generator(nn.Module):
    def __init__(
        self,
        resolution: int,  # output side (power of two >= 4)
        img_channels: int = 3,  # output channels
        c_dim: int = 0,  # one-hot label size; 0: unconditional
        z_dim: int = 512,  # latent size
        w_dim: int = 512,  # intermediate latent (style) size
        mapping: dict[str, Any] | None = None,  # MappingNetwork keyword arguments (num_layers, lr_multiplier, w_avg_beta)
        synthesis: dict[str, Any] | None = None,  # SynthesisNetwork keyword arguments (channel_base, ...)
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.resolution, self.num_channels = resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim=w_dim, resolution=resolution, img_channels=img_channels, **(synthesis or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=self.num_ws, **(mapping or {}))

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None = None,  # [N, c_dim] one-hot, or None when unconditional
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: str = "random",
        randn: Randn | None = None,
    ) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode, randn=randn)
