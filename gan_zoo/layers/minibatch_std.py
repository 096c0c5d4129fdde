"""Minibatch standard deviation (PGGAN §3; StyleGAN2's multi-feature variant).

Appends `num_features` feature maps holding the standard deviation of the features across a group
of samples, so the discriminator can see variation statistics and penalise mode collapse. Groups
are formed as in the official TF code: the batch is reshaped to [G, N/G, ...], so sample i belongs
to group i % (N/G) (members are strided, not contiguous).
"""

import torch
from torch import nn

from gan_zoo.layers.precision import full_precision


class MinibatchStdDev(nn.Module):
    def __init__(
        self,
        group_size: int = 4,  # samples per group; capped at the batch size, which it must divide
        num_features: int = 1,  # extra feature maps; the channels are split into this many parts
    ) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g, f = min(self.group_size, n), self.num_features
        if n % g != 0:
            raise ValueError(f"minibatch-stddev group size {g} must divide the batch size {n}")
        if c % f != 0:
            raise ValueError(f"minibatch-stddev num_features {f} must divide the channel count {c}")
        # Statistics in fp32, as the official layer (TF: "Cast to FP32"; ADA: an fp32 epilogue).
        y = full_precision(x).reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)  # population variance over the group
        y = (y + 1e-8).sqrt().mean(dim=(2, 3, 4))  # [N/G, F]: one value per group and feature
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)  # repeat over G puts group i % (N/G) at row i
        return torch.cat([x, y.to(x.dtype)], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_features={self.num_features}"
