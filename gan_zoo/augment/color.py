"""Colour transforms (ADA transforms 8-12) as one 4x4 matrix per sample on homogeneous RGB.

Brightness adds along (1,1,1), contrast scales about 0 (mid-grey of [-1, 1] images), luma flip
mirrors across the plane orthogonal to the luma axis v = (1,1,1)/sqrt(3), hue rotates about v,
saturation scales the component orthogonal to v. Composing by left-multiplication keeps the paper's
order. These are exact linear maps of RGB; kornia's adjust_hue/adjust_saturation work in HSV on
[0, 1] images (non-linear, clamped), so only the axis-angle rotation comes from kornia.
"""

import math

import torch
from kornia.geometry.conversions import axis_angle_to_rotation_matrix
from torch import Tensor

_LUMA = (1 / math.sqrt(3),) * 3


def luma_axis(dtype: torch.dtype, device: torch.device) -> Tensor:
    """v as a homogeneous 4-vector (no translation part)."""
    return torch.tensor([*_LUMA, 0.0], dtype=dtype, device=device)


def translate3d(t: Tensor) -> Tensor:
    """Add t to every channel; t [N]."""
    m = torch.eye(4, dtype=t.dtype, device=t.device).repeat(t.shape[0], 1, 1)
    m[:, :3, 3] = t[:, None]
    return m


def scale3d(s: Tensor) -> Tensor:
    """Multiply every channel by s; s [N]."""
    m = torch.eye(4, dtype=s.dtype, device=s.device).repeat(s.shape[0], 1, 1)
    m[:, 0, 0] = m[:, 1, 1] = m[:, 2, 2] = s
    return m


def luma_flip(flip: Tensor) -> Tensor:
    """I - 2 v v^T where flip is 1, I where 0; flip [N] of 0/1."""
    v = luma_axis(flip.dtype, flip.device)
    eye = torch.eye(4, dtype=flip.dtype, device=flip.device)
    return eye - 2 * torch.outer(v, v) * flip[:, None, None]


def hue_rotation(theta: Tensor) -> Tensor:
    """Rotation by theta [N] (radians) about the luma axis."""
    v = luma_axis(theta.dtype, theta.device)[:3]
    m = torch.eye(4, dtype=theta.dtype, device=theta.device).repeat(theta.shape[0], 1, 1)
    m[:, :3, :3] = axis_angle_to_rotation_matrix(v * theta[:, None])
    return m


def saturation(s: Tensor) -> Tensor:
    """v v^T + (I - v v^T) s: keep luma, scale chroma by s [N]."""
    v = luma_axis(s.dtype, s.device)
    eye = torch.eye(4, dtype=s.dtype, device=s.device)
    vvt = torch.outer(v, v)
    return vvt + (eye - vvt) * s[:, None, None]


def apply_color(images: Tensor, matrices: Tensor) -> Tensor:
    """images [N, C, H, W] with C = 3 (RGB) or 1 (grey, treated as equal RGB and averaged back)."""
    n, c, h, w = images.shape
    matrices = matrices.to(images.dtype)
    flat = images.reshape(n, c, h * w)
    if c == 3:
        out = matrices[:, :3, :3] @ flat + matrices[:, :3, 3:]
    elif c == 1:
        gain = matrices[:, :3, :3].sum(dim=2).mean(dim=1)  # mean over outputs of the response to (g, g, g)
        out = flat * gain[:, None, None] + matrices[:, :3, 3].mean(dim=1)[:, None, None]
    else:
        raise ValueError(f"colour transforms need 1 or 3 channels, got {c}; disable brightness..saturation")
    return out.reshape(n, c, h, w)
