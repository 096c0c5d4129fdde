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


class _ResamplingConv3x3(EqualizedConv2d):
    """The equalized 3×3 convolution both resampling layers are: one set of parameters whichever form
    runs, so `fused` can change without touching a checkpoint."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        fused: bool = False,  # one strided (transposed) 4×4 conv instead of resampling + 3×3 conv (same result, cheaper)
        bias: bool = True,  # False: no `bias` parameter
        gain: float = 2**0.5,  # He gain before a leaky ReLU
    ) -> None:
        super().__init__(in_channels, out_channels, 3, bias=bias, gain=gain)
        self.fused = fused

    def _scaled(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(weight, bias) with the equalized-lr gains applied, as both forms convolve with them."""
        bias = None if self.bias is None else self.bias * self.bias_gain
        return self.weight * self.weight_gain, bias


class EqualizedUpConv2d(_ResamplingConv3x3):
    """Nearest ×2 up-sampling followed by an equalized 3×3 convolution.

    bias=False leaves out the `bias` parameter: StyleGAN adds its bias after the noise.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self._scaled()
        if not self.fused:
            return F.conv2d(upsample_nearest2x(x), weight, bias, padding=1)
        # conv_transpose2d correlates with the flipped kernel and wants it as [in, out, k, k].
        kernel = _summed_shifts(weight).flip(2, 3).transpose(0, 1)
        return F.conv_transpose2d(x, kernel, bias, stride=2, padding=1)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, up=2, fused={self.fused}"


class EqualizedDownConv2d(_ResamplingConv3x3):
    """An equalized 3×3 convolution followed by 2×2 box down-sampling.

    The bias is added before the pooling: a per-channel bias commutes with the box average, so its
    place does not matter.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self._scaled()
        if not self.fused:
            return downsample_box2x(F.conv2d(x, weight, bias, padding=1))
        return F.conv2d(x, _summed_shifts(weight) * 0.25, bias, stride=2, padding=1)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, down=2, fused={self.fused}"
