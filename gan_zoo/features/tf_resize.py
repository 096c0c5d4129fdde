"""TensorFlow 1.x `resize_bilinear` (align_corners=False, no half-pixel centres, no antialias).

This is the resize every FID reference that matches TTUR uses before the TF Inception: NVIDIA's
TorchScript emulates it with a shifted `grid_sample`, torch-fidelity reproduces it exactly. Source
pixel of output x is `x * in/out` (not `(x + 0.5) * in/out - 0.5` as in PyTorch), interpolated
between floor and floor+1 (clamped at the border). The arithmetic follows torch-fidelity's exact
path step for step (float32 positions, lerp along W then along H), so features match it bit for bit
on CPU; it runs separably on the whole batch, which is why it is cheap.
"""

import torch
from torch import Tensor


def _taps(in_size: int, out_size: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    scale = torch.tensor(in_size / out_size, dtype=torch.float32)
    position = torch.arange(out_size, dtype=torch.float32) * scale
    low = position.long()
    high = (low + 1).clamp_max(in_size - 1)
    frac = position - low.float()
    return low.to(device), high.to(device), frac.to(device)


def tf1_resize_bilinear(images: Tensor, size: int) -> Tensor:
    """float32 [N, C, size, size] from images [N, C, H, W] (uint8 or float), TF1 bilinear."""
    assert images.ndim == 4, f"expected NCHW images, got shape {tuple(images.shape)}"
    x = images.float()
    height, width = x.shape[-2:]
    if (height, width) == (size, size):
        return x
    low_x, high_x, frac_x = _taps(width, size, x.device)
    low_y, high_y, frac_y = _taps(height, size, x.device)
    left, right = x.index_select(3, low_x), x.index_select(3, high_x)
    rows = left + (right - left) * frac_x.view(1, 1, 1, size)
    top, bottom = rows.index_select(2, low_y), rows.index_select(2, high_y)
    return top + (bottom - top) * frac_y.view(1, 1, size, 1)
