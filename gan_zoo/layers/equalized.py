"""Equalized-learning-rate layers (PGGAN §4.1, `use_wscale`; StyleGAN's `lrmul`).

Weights are stored as N(0, 1/lr_mul²) and scaled at every forward by gain·lr_mul/sqrt(fan_in), so
Adam's per-parameter step size acts uniformly on all layers regardless of their fan-in. Biases are
stored as `bias_init` and multiplied by lr_mul at runtime (lr_mul < 1 slows a layer down, as in
StyleGAN's mapping network).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class EqualizedLinear(nn.Module):
    def __init__(
        self,
        in_features: int,  # fan-in of the runtime weight scale
        out_features: int,
        bias: bool = True,  # False: no `bias` parameter (registered as None)
        gain: float = 1.0,  # He-style gain: sqrt(2) before a (leaky) ReLU, 1 before a linear output
        lr_mul: float = 1.0,  # learning-rate multiplier of this layer (weights and bias)
        bias_init: float = 0.0,  # stored initial bias; the runtime bias is bias_init * lr_mul
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init))) if bias else None
        self.weight_gain = gain * lr_mul / math.sqrt(in_features)
        self.bias_gain = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias * self.bias_gain
        return F.linear(x, self.weight * self.weight_gain, bias)

    def extra_repr(self) -> str:
        out_features, in_features = self.weight.shape
        return f"in_features={in_features}, out_features={out_features}, bias={self.bias is not None}, weight_gain={self.weight_gain:.4g}"


class EqualizedConv2d(nn.Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,  # square kernel side; fan-in is in_channels * kernel_size²
        bias: bool = True,  # False: no `bias` parameter (registered as None)
        gain: float = 1.0,  # He-style gain: sqrt(2) before a (leaky) ReLU, 1 before a linear output
        lr_mul: float = 1.0,  # learning-rate multiplier of this layer (weights and bias)
        padding: int | None = None,  # pixels of zero padding per side; None: kernel_size // 2 ("same")
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size) / lr_mul)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = gain * lr_mul / math.sqrt(in_channels * kernel_size**2)
        self.bias_gain = lr_mul
        self.padding = kernel_size // 2 if padding is None else padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias * self.bias_gain
        return F.conv2d(x, self.weight * self.weight_gain, bias, padding=self.padding)

    def extra_repr(self) -> str:
        out_channels, in_channels, k, _ = self.weight.shape
        return f"{in_channels}, {out_channels}, kernel_size={k}, padding={self.padding}, bias={self.bias is not None}, weight_gain={self.weight_gain:.4g}"
