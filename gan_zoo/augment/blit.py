"""Pixel blitting (ADA transforms 1-3): x-flip, rotation by multiples of 90 degrees, integer translation.

These move whole pixels, so they are done exactly, as one gather of source pixels per output pixel,
rather than through the filtered resampling of `geometric.py` (which would blur them slightly). The
gather is differentiable: its backward scatters gradients back to the source pixels. Coordinates are
doubled pixel centres (x = 2*i - (W-1)), which stay integers under flips and 90-degree turns.
Pixels translated in from outside the image are reflected (as the ADA paper pads), not wrapped.
"""

import torch
from torch import Tensor


def blit_matrices(flip: Tensor, quarter_turns: Tensor, shift_xy: Tensor) -> Tensor:
    """Per-sample integer sampling maps [N, 3, 3] on doubled pixel-centre coordinates.

    flip: bool [N] (mirror x); quarter_turns: int [N] in 0..3; shift_xy: int [N, 2] in pixels.
    The map takes an output pixel to the source pixel it copies: mirror(rotate(out - shift)).
    """
    n, device = flip.shape[0], flip.device
    eye = torch.eye(3, dtype=torch.long, device=device).expand(n, 3, 3)
    mirror = eye.clone()
    mirror[:, 0, 0] = 1 - 2 * flip.long()
    cos = torch.tensor([1, 0, -1, 0], device=device)[quarter_turns]
    sin = torch.tensor([0, 1, 0, -1], device=device)[quarter_turns]
    rotation = eye.clone()
    rotation[:, 0, 0], rotation[:, 0, 1], rotation[:, 1, 0], rotation[:, 1, 1] = cos, -sin, sin, cos
    translation = eye.clone()
    translation[:, :2, 2] = -2 * shift_xy.long()
    return mirror @ rotation @ translation


def reflect_index(index: Tensor, size: int) -> Tensor:
    """Reflect integer indices into [0, size) without repeating the edge pixel (torch's 'reflect')."""
    if size == 1:
        return torch.zeros_like(index)
    period = 2 * (size - 1)
    index = index.remainder(period)
    return torch.where(index >= size, period - index, index)


def reflect_pad(images: Tensor, left: int, right: int, top: int, bottom: int) -> Tensor:
    """Reflect-pad [N, C, H, W] by any amount (torch's 'reflect' mode stops short of the image size)."""
    h, w = images.shape[-2:]
    rows = reflect_index(torch.arange(-top, h + bottom, device=images.device), h)
    cols = reflect_index(torch.arange(-left, w + right, device=images.device), w)
    return images.index_select(2, rows).index_select(3, cols)


def blit(images: Tensor, matrices: Tensor) -> Tensor:
    """Apply integer sampling maps [N, 3, 3] from `blit_matrices` to images [N, C, H, W] exactly."""
    n, c, h, w = images.shape
    if h != w and bool((matrices[:, 0, 1] != 0).any()):
        raise ValueError(f"rotate90 needs square images, got {h}x{w}; set rotate90=0 for this data set")
    device = images.device
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    out_xy1 = torch.stack([2 * xs - (w - 1), 2 * ys - (h - 1), torch.ones_like(xs)]).reshape(3, -1)
    src = matrices @ out_xy1  # [N, 3, H*W], doubled centred coordinates (integers of the right parity)
    src_x = reflect_index(torch.div(src[:, 0] + (w - 1), 2, rounding_mode="floor"), w)
    src_y = reflect_index(torch.div(src[:, 1] + (h - 1), 2, rounding_mode="floor"), h)
    index = (src_y * w + src_x).unsqueeze(1).expand(n, c, h * w)
    return images.reshape(n, c, h * w).gather(2, index).reshape(n, c, h, w)
