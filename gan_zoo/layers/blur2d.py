"""Separable FIR blur (StyleGAN v1's `blur2d`): a normalised [1, 2, 1] ⊗ [1, 2, 1] low-pass, depthwise.

StyleGAN v1 blurs right after every up-sampling convolution of G and right before every
down-sampling convolution of D, to suppress the aliasing of nearest/box resampling (the paper's
"bilinear up/down sampling", Table 1 config B).
"""

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def fir_kernel(taps: Sequence[float] = (1, 2, 1), normalize: bool = True) -> torch.Tensor:
    """2-D kernel [k, k]: the outer product of `taps` with itself, summing to 1 when `normalize`."""
    taps = [float(t) for t in taps]
    if not taps:
        raise ValueError("FIR taps must be a non-empty 1-D sequence")
    if normalize and sum(taps) == 0:
        raise ValueError(f"FIR taps {taps} sum to zero and cannot be normalised")
    f = torch.tensor(taps, dtype=torch.float32)
    kernel = torch.outer(f, f)
    return kernel / sum(taps) ** 2 if normalize else kernel


class Blur2d(nn.Module):
    def __init__(
        self,
        taps: Sequence[float] = (1, 2, 1),  # 1-D filter; odd length keeps the image centred
        normalize: bool = True,  # scale the kernel to unit sum (keeps the mean brightness)
    ) -> None:
        super().__init__()
        if len(taps) % 2 != 1:
            raise ValueError(f"blur taps need an odd length to keep the image in place, got {list(taps)}")
        # Not persistent: a constant of the architecture, not state, so it stays out of checkpoints.
        self.register_buffer("kernel", fir_kernel(taps, normalize), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        weight = self.kernel.to(x.dtype).expand(channels, 1, *self.kernel.shape)
        return F.conv2d(x, weight, padding=self.kernel.shape[-1] // 2, groups=channels)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel.shape[-1]}"
