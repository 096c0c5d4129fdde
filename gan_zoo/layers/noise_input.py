"""Per-pixel noise inputs with learned per-channel strengths (StyleGAN v1 `apply_noise`).

One single-channel N(0, 1) map per sample is added to every channel, scaled by a learned weight
per channel that starts at zero, so a fresh network ignores the noise until training finds a use
for it (stochastic detail: hair, pores). `noise_const` is a fixed map drawn at construction, used
for reproducible images (noise_mode='const'), as the official `noise{i}` variables.
"""

import torch
from torch import nn

NOISE_MODES = ("random", "const", "none")


class NoiseInput(nn.Module):
    def __init__(
        self,
        channels: int,  # one learned strength per channel
        resolution: int,  # side of the feature maps (and of the stored constant noise map)
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))

    def forward(self, x: torch.Tensor, noise_mode: str = "random", noise: torch.Tensor | None = None) -> torch.Tensor:
        """x [N, C, H, W] + strength · noise; `noise` [N, 1, H, W] (if given) overrides noise_mode."""
        if noise is None:
            if noise_mode == "none":
                return x
            if noise_mode == "const":
                noise = self.noise_const.to(x.dtype).expand(x.shape[0], 1, *self.noise_const.shape)
            elif noise_mode == "random":
                noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
            else:
                raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        if noise.shape != (x.shape[0], 1, *x.shape[2:]):
            raise ValueError(f"noise must be [{x.shape[0]}, 1, {x.shape[2]}, {x.shape[3]}], got {list(noise.shape)}")
        return x + noise * self.weight.reshape(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"channels={self.weight.shape[0]}, resolution={self.noise_const.shape[-1]}"
