"""The synthesis network's input: Fourier features, a continuous signal that can be translated and rotated (StyleGAN3 §3.1).

StyleGAN2's learned 4×4 constant is tied to the pixel grid; StyleGAN3 starts instead from `channels`
sinusoids with random frequencies inside the first layer's band (|f| <= bandwidth) and random phases.
Being continuous, they can be sampled at any position, so a translation or rotation of the whole
image is exact here: a learned affine of w gives one rotation and translation per sample, and the
`transform` buffer an extra user transform (how the equivariance metrics and tests move the image).
Frequencies that a user rotation pushes beyond the band are faded out so they cannot alias.

Coordinates are in units of the image side: the image (without the margin) spans [-0.5, 0.5], so a
translation by t moves the output by t·img_resolution pixels.
"""

import math

import torch
from torch import nn

from gan_zoo.layers import EqualizedLinear


class SynthesisInput(nn.Module):
    def __init__(
        self,
        w_dim: int,  # style input size
        channels: int,  # number of Fourier features (the first layer's input channels)
        size: int,  # output side in samples, margin included
        sampling_rate: float,  # samples per unit length (the image spans one unit)
        bandwidth: float,  # the first layer's cutoff: frequencies are drawn with |f| <= bandwidth
    ) -> None:
        super().__init__()
        self.w_dim, self.channels, self.size = w_dim, channels, size
        self.sampling_rate, self.bandwidth = sampling_rate, bandwidth
        # Random directions, with radii squashed into the disc of radius `bandwidth` (the official draw).
        freqs = torch.randn(channels, 2)
        radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
        freqs = freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth
        phases = torch.rand(channels) - 0.5
        self.weight = nn.Parameter(torch.randn(channels, channels))  # mixes the features into the first layer's channels
        self.affine = EqualizedLinear(w_dim, 4)  # w -> (cos-like, sin-like, t_x, t_y)
        with torch.no_grad():
            # Start at the identity transform: no rotation, no translation, for every w.
            self.affine.weight.zero_()
            self.affine.bias.zero_()
            self.affine.bias[0] = 1.0
        self.register_buffer("transform", torch.eye(3))  # user transform: the inverse of the image's motion
        self.register_buffer("freqs", freqs)
        self.register_buffer("phases", phases)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """w [N, w_dim] -> features [N, channels, size, size]."""
        if w.ndim != 2 or w.shape[1] != self.w_dim:
            raise ValueError(f"SynthesisInput expects w [N, {self.w_dim}], got {list(w.shape)}")
        n = w.shape[0]
        t = self.affine(w)
        t = t / t[:, :2].norm(dim=1, keepdim=True)  # a pure rotation: (cos, sin) on the unit circle
        cos, sin, tx, ty = t.unbind(dim=1)
        zeros, ones = torch.zeros_like(cos), torch.ones_like(cos)
        # Both are inverse transforms (they map image coordinates to feature coordinates).
        rotation = torch.stack([cos, -sin, zeros, sin, cos, zeros, zeros, zeros, ones], dim=1).reshape(n, 3, 3)
        translation = torch.stack([ones, zeros, -tx, zeros, ones, -ty, zeros, zeros, ones], dim=1).reshape(n, 3, 3)
        transforms = rotation @ translation @ self.transform.unsqueeze(0)

        # sin(2π(f·(A p + b) + φ)) = sin(2π((Aᵀf)·p + f·b + φ)): move the transform onto the frequencies.
        phases = self.phases.unsqueeze(0) + (self.freqs.unsqueeze(0) @ transforms[:, :2, 2:]).squeeze(2)  # [N, C]
        freqs = self.freqs.unsqueeze(0) @ transforms[:, :2, :2]  # [N, C, 2]
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)

        # Sample centres, in image units: pixel j sits at (j + 0.5 - size/2) / sampling_rate.
        coords = (torch.arange(self.size, device=w.device, dtype=freqs.dtype) + 0.5 - self.size / 2) / self.sampling_rate
        along_x = coords[None, :, None] * freqs[:, None, :, 0]  # [N, W, C]
        along_y = coords[None, :, None] * freqs[:, None, :, 1]  # [N, H, C]
        x = along_x[:, None] + along_y[:, :, None] + phases[:, None, None]  # [N, H, W, C]
        x = torch.sin(x * (2 * math.pi)) * amplitudes[:, None, None]
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2).contiguous()

    def extra_repr(self) -> str:
        return f"w_dim={self.w_dim}, channels={self.channels}, size={self.size}, sampling_rate={self.sampling_rate:g}, bandwidth={self.bandwidth:g}"
