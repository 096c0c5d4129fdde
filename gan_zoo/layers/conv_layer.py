"""Equalized-learning-rate convolution with optional FIR resampling, bias, activation and clamp.

The discriminator-side and generic convolution of StyleGAN2 (`Conv2dLayer` in the ADA code's
vocabulary): weights stored N(0, 1) and scaled by 1/sqrt(fan_in) at run time, as `EqualizedConv2d`,
plus the resampling of `conv2d_resample` and the output stage of `bias_act`.
"""

import math
from typing import ClassVar

import torch
from torch import nn

from gan_zoo.layers.bias_act import bias_act
from gan_zoo.layers.conv_resample import conv2d_resample
from gan_zoo.layers.upfirdn import layer_fir_filter


class Conv2dLayer(nn.Module):
    # Checkpoint format 2 stores up=2 kernels in the official orientation (gan_zoo.training.checkpoint_version).
    up_kernel_reoriented_in_format_2: ClassVar[bool] = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,  # square, odd
        bias: bool = True,  # False: no `bias` parameter (e.g. the resnet skip connections)
        activation: str = "linear",  # "linear" or "lrelu" (LeakyReLU 0.2 with gain √2)
        up: int = 1,  # 2: FIR-upsample the output
        down: int = 1,  # 2: FIR-downsample the output
        resample_filter: tuple[float, ...] = (1, 3, 3, 1),  # FIR taps for up/down
        conv_clamp: float | None = None,  # clamp outputs to ±conv_clamp (None: no clamp)
    ) -> None:
        super().__init__()
        self.activation = activation
        self.up, self.down = up, down
        self.conv_clamp = conv_clamp
        # Persistent, as in the official Conv2dLayer (even without resampling), so state dicts match key for key.
        self.register_buffer("resample_filter", layer_fir_filter(resample_filter))
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        x = conv2d_resample(x, self.weight * self.weight_gain, self.resample_filter, up=self.up, down=self.down)
        return bias_act(x, self.bias, self.activation, gain=gain, clamp=self.conv_clamp)

    def extra_repr(self) -> str:
        out_channels, in_channels, k, _ = self.weight.shape
        return (
            f"{in_channels}, {out_channels}, kernel_size={k}, activation={self.activation}, up={self.up}, "
            f"down={self.down}, bias={self.bias is not None}, conv_clamp={self.conv_clamp}"
        )
