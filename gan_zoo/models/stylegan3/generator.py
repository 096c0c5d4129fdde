"""StyleGAN3 generator: StyleGAN2's mapping network + the alias-free synthesis network (StyleGAN3 §3).

The mapping is StyleGAN2's (2 layers, w_avg decay 0.998 in the official `--cfg=stylegan3-*`); its
w_avg and the synthesis layers' input-magnitude averages change only in calls with
`update_emas=True`, which the official loss makes when it draws the discriminator's fakes
(NVlabs/stylegan3 `training/loss.py`, `training/networks_stylegan3.py`). The synthesis network is
built before the mapping, the official construction order, so a seed gives the official initial
weights.

Shares the StyleGAN2 generator's interface: `G.mapping(z, c, truncation_psi, truncation_cutoff)`
gives ws [N, num_ws, w_dim], `G.synthesis(ws)` the images (no noise inputs, `noise_mode` ignored).
"""

from typing import Any

import torch
from torch import nn

from gan_zoo.models.stylegan2.mapping import MappingNetwork
from gan_zoo.models.stylegan3.synthesis import SynthesisNetwork

MAPPING_DEFAULTS = {"num_layers": 2, "lr_multiplier": 0.01, "w_avg_beta": 0.998}  # official MappingNetwork defaults


class StyleGAN3Generator(nn.Module):
    def __init__(
        self,
        img_resolution: int,  # output side in pixels
        img_channels: int = 3,  # output channels
        c_dim: int = 0,  # one-hot label size; 0: unconditional
        z_dim: int = 512,  # latent size
        w_dim: int = 512,  # style size
        mapping: dict[str, Any] | None = None,  # MappingNetwork options: num_layers, lr_multiplier, w_avg_beta
        synthesis: dict[str, Any] | None = None,  # SynthesisNetwork options: channel_base, conv_kernel, use_radial_filters, ...
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, **(synthesis or {}))
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, **{**MAPPING_DEFAULTS, **(mapping or {})})

    def set_magnitude_ema_beta(self, beta: float) -> None:
        """The decay of every synthesis layer's input-magnitude average (train.py: 0.5 ** (batch / 20000))."""
        for layer in self.synthesis.layers():
            layer.magnitude_ema_beta = float(beta)

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None = None,  # [N, c_dim] one-hot, or None when unconditional
        truncation_psi: float = 1.0,  # 1: no truncation
        truncation_cutoff: int | None = None,  # truncate ws[:, :cutoff]; None: all
        update_emas: bool = False,  # update w_avg and the magnitude averages (the official D phase's fakes)
    ) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, update_w_avg=update_emas)
        return self.synthesis(ws, update_emas=update_emas)
