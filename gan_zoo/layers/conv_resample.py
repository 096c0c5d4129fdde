"""2-D convolution fused with FIR up- or down-sampling by 2 (StyleGAN2's resampling convolutions).

* up=2: FIR upsampling that also fills a k//2-pixel border, then a "valid" k×k *true* convolution
  (the kernel rotated by 180° from F.conv2d's correlation, as the official up-sampling layers run
  it: `flip_weight=(up == 1)` in stylegan3 `training/networks_stylegan2.py`, so official weights
  load as they are; gan-zoo checkpoints before format 2 stored these kernels rotated). Equal to
  `upsample2d(x, f)` followed by a "same" convolution except in the k//2 border pixels (where the
  filter's tail stands in for zero padding). Computed as a stride-2 transposed convolution with the
  kernel as stored, at the low resolution (a quarter of the multiply-adds), followed by the FIR
  filter; the paddings below make the two orders agree exactly (a test checks it).
* down=2: the FIR filter, then a stride-2 k×k convolution; the paddings keep the output centred on
  the 2×2 input pixels it summarises.
* `groups` carries through, so the modulated convolution's per-sample (grouped) form can use it.
"""

import torch
import torch.nn.functional as F

from gan_zoo.layers.upfirdn import upfirdn2d


def conv2d_resample(
    x: torch.Tensor,  # [N, C_in, H, W]
    weight: torch.Tensor,  # [C_out, C_in / groups, k, k], k odd
    f: torch.Tensor | None = None,  # FIR filter (1-D separable or 2-D); required when up or down is 2
    up: int = 1,  # 1 or 2
    down: int = 1,  # 1 or 2
    groups: int = 1,  # as in F.conv2d
) -> torch.Tensor:
    """[N, C_out, H·up/down, W·up/down]: a "same" convolution at the output resolution."""
    k = weight.shape[-1]
    if weight.shape[-2] != k or k % 2 == 0:
        raise ValueError(f"conv2d_resample needs square odd kernels, got {list(weight.shape[-2:])}")
    if up not in (1, 2) or down not in (1, 2) or (up == 2 and down == 2):
        raise ValueError(f"conv2d_resample supports up=2 or down=2 (or neither), got up={up}, down={down}")
    if (up > 1 or down > 1) and f is None:
        raise ValueError("conv2d_resample needs a FIR filter f to resample")
    weight = weight.to(x.dtype)
    if up == 2:
        taps = f.shape[-1]  # type: ignore[union-attr]
        # The transposed conv is a full convolution of the zero-inserted input with the kernel;
        # padding its output by `a` in front and `b` behind lines it up with FIR-then-conv.
        a = (taps + 1) // 2 + k // 2 - (k - 1)
        b = taps + 1 - k - a
        c_out, c_in_per_group = weight.shape[0], weight.shape[1]
        w = weight.reshape(groups, c_out // groups, c_in_per_group, k, k).transpose(1, 2)
        w = w.reshape(groups * c_in_per_group, c_out // groups, k, k)
        x = F.conv_transpose2d(x, w, stride=2, groups=groups)
        return upfirdn2d(x, f, padding=(a, b, a, b), gain=4)  # type: ignore[arg-type]
    if down == 2:
        pad = (k + 1) // 2
        x = upfirdn2d(x, f, padding=pad)  # type: ignore[arg-type]
        return F.conv2d(x, weight, stride=2, groups=groups)
    return F.conv2d(x, weight, padding=k // 2, groups=groups)
