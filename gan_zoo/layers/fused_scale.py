"""Equalized-lr 3×3 convolutions that double or halve the resolution (PGGAN/StyleGAN `fused_scale`).

Up: nearest ×2 then a 3×3 conv. Down: a 3×3 conv then a 2×2 box average. Each also has a *fused*
form that does the same sum in one strided (transposed) 4×4 convolution whose kernel is the sum of
the four shifted copies of the 3×3 kernel (×1/4 for the box average). The two forms are equal up to
float rounding (a test checks it); the fused one does 16 instead of 36 multiply-adds per output
pixel pair, which is why the official code switches to it at the high resolutions. Parameters are
the same 3×3 weights either way.
"""

import torch
import torch.nn.functional as F

from gan_zoo.layers.equalized import EqualizedConv2d
from gan_zoo.layers.resample import downsample_box2x, upsample_nearest2x


def _summed_shifts(weight: torch.Tensor) -> torch.Tensor:
    """[O, I, 3, 3] -> [O, I, 4, 4]: the 3×3 kernel added at its four 1-pixel offsets."""
    w = F.pad(weight, (1, 1, 1, 1))
    return w[:, :, 1:, 1:] + w[:, :, :-1, 1:] + w[:, :, 1:, :-1] + w[:, :, :-1, :-1]


class EqualizedUpConv2d(EqualizedConv2d):
    """Nearest ×2 up-sampling followed by an equalized 3×3 convolution."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        fused: bool = False,  # one transposed conv instead of up + conv (same result, cheaper)
        bias: bool = True,  # False: no `bias` parameter (StyleGAN adds its bias after the noise)
        gain: float = 2**0.5,  # He gain before a leaky ReLU
    ) -> None:
        super().__init__(in_channels, out_channels, 3, bias=bias, gain=gain)
        self.fused = fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias * self.bias_gain
        weight = self.weight * self.weight_gain
        if not self.fused:
            return F.conv2d(upsample_nearest2x(x), weight, bias, padding=1)
        # conv_transpose2d correlates with the flipped kernel and wants it as [in, out, k, k].
        kernel = _summed_shifts(weight).flip(2, 3).transpose(0, 1)
        return F.conv_transpose2d(x, kernel, bias, stride=2, padding=1)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, up=2, fused={self.fused}"


class EqualizedDownConv2d(EqualizedConv2d):
    """An equalized 3×3 convolution followed by 2×2 box down-sampling."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        fused: bool = False,  # one stride-2 conv instead of conv + pool (same result, cheaper)
        bias: bool = True,  # a per-channel bias commutes with the box average, so its place does not matter
        gain: float = 2**0.5,  # He gain before a leaky ReLU
    ) -> None:
        super().__init__(in_channels, out_channels, 3, bias=bias, gain=gain)
        self.fused = fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias * self.bias_gain
        weight = self.weight * self.weight_gain
        if not self.fused:
            return downsample_box2x(F.conv2d(x, weight, bias, padding=1))
        return F.conv2d(x, _summed_shifts(weight) * 0.25, bias, stride=2, padding=1)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, down=2, fused={self.fused}"
