"""StyleGAN v1 mapping network `G_mapping`: z (+ label embedding) -> pixel norm -> 8 FC -> w, broadcast.

The FC layers learn 100× slower than the rest (lr multiplier 0.01 through equalized lr), which the
paper found keeps the intermediate latent space W stable. `w_avg` is the running mean of w used by
the truncation trick; it is tracked during training (beta 0.995 per step) by the Lightning module,
which sees the whole global batch, and copied into G_ema with the other buffers.
"""

import math

import torch
from torch import nn

from gan_zoo.layers.equalized import EqualizedLinear
from gan_zoo.layers.pixel_norm import pixel_norm


class MappingNetwork(nn.Module):
    def __init__(
        self,
        z_dim: int = 512,  # latent size
        c_dim: int = 0,  # classes of one-hot labels; 0: unconditional
        w_dim: int = 512,  # intermediate latent (style) size
        num_ws: int = 18,  # styles the synthesis network consumes (2·log2(resolution) - 2)
        num_layers: int = 8,  # FC layers
        hidden_features: int = 512,  # width of the hidden FC layers
        lr_mul: float = 0.01,  # learning-rate multiplier of the FC layers
        normalize_latents: bool = True,  # pixel norm of [z, label embedding] before the FC layers
        w_avg_beta: float = 0.995,  # per-step decay of the tracked w average; 1: not tracked
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"the mapping network needs at least one FC layer, got num_layers={num_layers}")
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.normalize_latents = normalize_latents
        self.w_avg_beta = w_avg_beta
        # The official LabelConcat: a plain N(0, 1) embedding [c_dim, z_dim], no equalized lr.
        self.embed = nn.Parameter(torch.randn(c_dim, z_dim)) if c_dim else None
        features = [z_dim * (2 if c_dim else 1)] + [hidden_features] * (num_layers - 1) + [w_dim]
        self.fcs = nn.ModuleList(EqualizedLinear(features[i], features[i + 1], gain=math.sqrt(2), lr_mul=lr_mul) for i in range(num_layers))
        self.act = nn.LeakyReLU(0.2)
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None = None,  # [N, c_dim] one-hot labels; None when unconditional
        truncation_psi: float = 1.0,  # 1: no truncation; 0: every truncated style is w_avg
        truncation_cutoff: int | None = None,  # truncate styles 0 .. cutoff-1; None: all
    ) -> torch.Tensor:
        """-> ws [N, num_ws, w_dim]."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        x = z
        if self.embed is not None:
            if c is None or c.shape != (len(z), self.c_dim):
                raise ValueError(
                    f"this mapping network is conditional: c must be [{len(z)}, {self.c_dim}] (one-hot), got {None if c is None else list(c.shape)}"
                )
            x = torch.cat([z, c.to(z.dtype) @ self.embed], dim=1)
        elif c is not None and c.numel():
            raise ValueError(f"this mapping network is unconditional but got labels of shape {list(c.shape)}")
        if self.normalize_latents:
            x = pixel_norm(x)
        for fc in self.fcs:
            x = self.act(fc(x))
        ws = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        return truncate(ws, self.w_avg, truncation_psi, truncation_cutoff)

    @torch.no_grad()
    def track_w_avg(self, batch_mean: torch.Tensor) -> None:
        """w_avg <- lerp(batch_mean, w_avg, beta): move the running mean towards this batch's mean w."""
        self.w_avg.copy_(torch.lerp(batch_mean.to(self.w_avg.dtype), self.w_avg, self.w_avg_beta))

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}, w_avg_beta={self.w_avg_beta}"


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
    """Pull the first `cutoff` styles (all when None) towards w_avg: w_avg + psi · (w - w_avg).

    psi = 1 returns ws itself (not a recomputed copy, so it is exactly the identity); psi = 0 gives w_avg.
    """
    if ws.ndim != 3 or w_avg.shape != ws.shape[2:]:
        raise ValueError(f"ws must be [N, num_ws, w_dim] and w_avg [w_dim]; got {list(ws.shape)} and {list(w_avg.shape)}")
    if psi == 1:
        return ws
    layers = torch.arange(ws.shape[1], device=ws.device).reshape(1, -1, 1)
    limit = ws.shape[1] if cutoff is None else cutoff
    coefs = torch.where(layers < limit, psi, 1.0).to(ws.dtype)
    return torch.lerp(w_avg.to(ws.dtype).expand_as(ws), ws, coefs)
