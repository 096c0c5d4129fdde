"""Pixelwise feature-vector normalization (PGGAN §4.2): x / sqrt(mean over channels of x² + 1e-8).

Used in the PGGAN generator on the latent input and after every convolution's activation, to stop
generator and discriminator magnitudes from escalating.
"""

import torch
from torch import nn


def pixel_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Normalize each feature vector (dim 1) to unit mean square; works on [N, C] and [N, C, H, W]."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


class PixelNorm(nn.Module):
    def __init__(self, eps: float = 1e-8) -> None:  # eps: added to the mean square, as in the paper
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pixel_norm(x, self.eps)
