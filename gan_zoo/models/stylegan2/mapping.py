"""StyleGAN2 mapping network: z (and class c) -> w, with w_avg tracking and the truncation trick.

z is normalised to unit second moment; a class label (one-hot c) is embedded by a fully connected
layer, normalised the same way and concatenated (StyleGAN2-ADA conditioning). Then `num_layers`
fully connected layers with lr multiplier 0.01 (the mapping learns 100× slower, which keeps W
stable). `w_avg` is an exponential moving average of w while training (beta 0.995); truncation
pulls w towards it: w' = w_avg + psi·(w - w_avg) on the first `truncation_cutoff` style inputs.

With z_dim = 0 it maps labels alone: the conditional discriminator's projection embedding (cmap).
"""

import torch
from torch import nn

from gan_zoo.layers import EqualizedLinear, bias_act, pixel_norm


class MappingNetwork(nn.Module):
    def __init__(
        self,
        z_dim: int,  # latent size; 0: labels only (the discriminator's cmap)
        c_dim: int,  # one-hot label size; 0: unconditional
        w_dim: int,  # output size (w, or cmap_dim for D)
        num_ws: int | None,  # copies of w for the synthesis layers; None: return [N, w_dim]
        num_layers: int = 8,  # fully connected layers (config F 8; ADA cifar/auto 2)
        lr_multiplier: float = 0.01,  # learning-rate multiplier of the FC layers
        w_avg_beta: float | None = 0.995,  # w_avg decay per training call; None: no w_avg (D's mapping)
    ) -> None:
        super().__init__()
        if z_dim == 0 and c_dim == 0:
            raise ValueError("a mapping network needs z_dim > 0 or c_dim > 0")
        if num_layers < 1:
            raise ValueError(f"the mapping network needs at least one layer, got num_layers={num_layers}")
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.num_ws = num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta
        embed_features = w_dim if c_dim else 0
        if c_dim:
            self.embed = EqualizedLinear(c_dim, embed_features)
        features = [z_dim + embed_features] + [w_dim] * num_layers
        for index in range(num_layers):
            self.add_module(f"fc{index}", EqualizedLinear(features[index], features[index + 1], lr_mul=lr_multiplier))
        if w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: torch.Tensor | None,  # [N, z_dim] (None when z_dim = 0)
        c: torch.Tensor | None = None,  # [N, c_dim] one-hot (None when c_dim = 0)
        truncation_psi: float = 1.0,  # 1: no truncation; 0: every w becomes w_avg
        truncation_cutoff: int | None = None,  # truncate only ws[:, :cutoff]; None: all
        update_w_avg: bool = True,  # False: leave w_avg alone even in training (style-mixing draws)
    ) -> torch.Tensor:
        device = (z if z is not None else c).device if (z is not None or c is not None) else torch.device("cpu")
        if torch.is_autocast_enabled(device.type):
            # The official networks run the mapping in fp32 whatever the synthesis' precision (only the
            # top synthesis layers are reduced); it also keeps w_avg's running mean in fp32.
            with torch.autocast(device.type, enabled=False):
                return self.forward(None if z is None else z.float(), None if c is None else c.float(), truncation_psi, truncation_cutoff, update_w_avg)
        parts = []
        if self.z_dim:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must be [N, {self.z_dim}], got {None if z is None else list(z.shape)}")
            parts.append(pixel_norm(z))
        if self.c_dim:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"c must be one-hot labels [N, {self.c_dim}], got {None if c is None else list(c.shape)}")
            parts.append(pixel_norm(self.embed(c.to(self.embed.weight.dtype))))
        elif c is not None and c.numel():
            raise ValueError("this mapping network is unconditional (c_dim=0) but labels were given")
        x = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        for index in range(self.num_layers):
            x = bias_act(getattr(self, f"fc{index}")(x), activation="lrelu")
        if self.w_avg_beta is not None and self.training and update_w_avg:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is None:
            return x
        x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            if self.w_avg_beta is None:
                raise ValueError("truncation needs w_avg, which this mapping network does not track")
            cutoff = self.num_ws if truncation_cutoff is None else int(truncation_cutoff)
            x = torch.cat([self.w_avg.lerp(x[:, :cutoff], truncation_psi), x[:, cutoff:]], dim=1)
        return x
