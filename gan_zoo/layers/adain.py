"""Adaptive instance normalisation from a style vector (StyleGAN v1 `instance_norm` + `style_mod`).

Each feature map is normalised to zero mean and unit variance over its pixels, then scaled and
shifted per channel by an affine function of w: x · (y_s + 1) + y_b. The +1 makes a zero-initialised
(small) style start as the identity scale, so the equalized-lr affine layer can start from N(0, 1).
"""

import torch
from torch import nn

from gan_zoo.layers.equalized import EqualizedLinear
from gan_zoo.layers.precision import full_precision


def instance_norm(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Zero mean, unit mean square per sample and channel over H, W (no affine parameters).

    In fp32 whatever x's dtype, cast back to it, as the official `instance_norm` (networks_stylegan.py)
    does: 16-bit activations under mixed precision keep a 16-bit-rounded mean otherwise."""
    dtype = x.dtype
    x = full_precision(x)
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return (x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + eps)).to(dtype)


class AdaIN(nn.Module):
    def __init__(
        self,
        channels: int,  # feature maps to normalise and style
        w_dim: int,  # size of the style vector w
        eps: float = 1e-8,  # added to the variance, as the official instance norm
    ) -> None:
        super().__init__()
        # gain 1: the styles are a linear function of w (StyleMod dense, equalized lr, bias init 0).
        self.affine = EqualizedLinear(w_dim, 2 * channels, gain=1.0)
        self.channels = channels
        self.eps = eps

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """x [N, C, H, W], w [N, w_dim] -> x normalised and styled."""
        if w.ndim != 2 or w.shape[0] != x.shape[0]:
            raise ValueError(f"w must be [{x.shape[0]}, w_dim] for x of shape {list(x.shape)}, got {list(w.shape)}")
        style = self.affine(w).reshape(-1, 2, self.channels, 1, 1)
        return instance_norm(x, self.eps) * (style[:, 0] + 1) + style[:, 1]

    def extra_repr(self) -> str:
        return f"channels={self.channels}, eps={self.eps}"
