"""DiffAugment (Zhao et al. 2020) as Projected GAN and StyleGAN-XL apply it to every discriminator
input: policy 'color,translation,cutout', each draw per sample, all differentiable.
Official code: autonomousvision/projected-gan `pg_modules/diffaug.py` (the same file is
autonomousvision/stylegan-xl `training/diffaug.py`).

* color: brightness x + U(-0.5, 0.5); saturation (x - mean_c) · U(0, 2) + mean_c; contrast
  (x - mean_chw) · U(0.5, 1.5) + mean_chw. No clamping: inputs are [-1, 1] or normalised values.
* translation: an integer shift of up to round(0.125 · size) pixels per axis, zero fill.
* cutout: a zeroed square of round(0.2 · size) pixels centred uniformly in the image (clipped at
  its edges).

Plain torch rather than kornia: kornia's colour adjustments clamp to [0, 1] and its saturation
works in HSV; its translation resamples through grid_sample rather than moving whole pixels; its
random erasing draws the patch's area and aspect instead of a fixed-size square that may stick out
of the image. The random draws come in the official order (brightness, saturation, contrast, shift
rows, shift columns, cutout rows, cutout columns) from `generator`, or from the global RNG.
"""

import torch
from torch import Tensor

POLICIES = ("color", "translation", "cutout")


def _draw_device(x: Tensor, generator: torch.Generator | None) -> torch.device:
    # A generator only draws on its own device; the global RNG draws where the images are (as officially).
    return generator.device if generator is not None else x.device


def _uniform(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """U(0, 1) per sample, shaped [B, 1, 1, 1]."""
    u = torch.rand(x.shape[0], 1, 1, 1, generator=generator, device=_draw_device(x, generator), dtype=x.dtype)
    return u.to(x.device)


def _integers(x: Tensor, low: int, high: int, generator: torch.Generator | None) -> Tensor:
    """Integers in [low, high) per sample, shaped [B]."""
    n = torch.randint(low, high, (x.shape[0],), generator=generator, device=_draw_device(x, generator))
    return n.to(x.device)


def color(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    x = x + (_uniform(x, generator) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_uniform(x, generator) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def translate(x: Tensor, shift_rows: Tensor, shift_cols: Tensor) -> Tensor:
    """out[b, :, i, j] = x[b, :, i + shift_rows[b], j + shift_cols[b]], zero where that is outside."""
    b, _, h, w = x.shape
    # One pixel of zero padding: every source index beyond an edge clamps onto it.
    padded = torch.nn.functional.pad(x, [1, 1, 1, 1])
    rows = (torch.arange(h, device=x.device)[None] + shift_rows[:, None] + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device)[None] + shift_cols[:, None] + 1).clamp(0, w + 1)
    batch = torch.arange(b, device=x.device)[:, None, None]
    # Advanced indices around a slice put the indexed dims first: [B, H, W, C].
    return padded[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def random_translation(x: Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> Tensor:
    max_rows, max_cols = int(x.shape[2] * ratio + 0.5), int(x.shape[3] * ratio + 0.5)
    shift_rows = _integers(x, -max_rows, max_rows + 1, generator)
    shift_cols = _integers(x, -max_cols, max_cols + 1, generator)
    return translate(x, shift_rows, shift_cols)


def cutout(x: Tensor, centre_rows: Tensor, centre_cols: Tensor, size: tuple[int, int]) -> Tensor:
    """Zero rows [centre - size // 2, centre - size // 2 + size) x the same for columns, within the image."""
    top = (centre_rows - size[0] // 2)[:, None, None]
    left = (centre_cols - size[1] // 2)[:, None, None]
    rows = torch.arange(x.shape[2], device=x.device)[None, :, None]
    cols = torch.arange(x.shape[3], device=x.device)[None, None, :]
    inside = (rows >= top) & (rows < top + size[0]) & (cols >= left) & (cols < left + size[1])
    return x * (~inside).to(x.dtype)[:, None]


def random_cutout(x: Tensor, ratio: float = 0.2, generator: torch.Generator | None = None) -> Tensor:
    size = int(x.shape[2] * ratio + 0.5), int(x.shape[3] * ratio + 0.5)
    # An even-sized square may also be centred on the far edge (offset == size of the image).
    centre_rows = _integers(x, 0, x.shape[2] + (1 - size[0] % 2), generator)
    centre_cols = _integers(x, 0, x.shape[3] + (1 - size[1] % 2), generator)
    return cutout(x, centre_rows, centre_cols, size)


def diff_augment(
    x: Tensor,  # [B, C, H, W] images (any value range)
    policy: str = "color,translation,cutout",  # comma-separated, applied in this order
    generator: torch.Generator | None = None,  # source of the per-sample draws; None: the global RNG
    translation_ratio: float = 0.125,  # maximum shift as a fraction of the image size
    cutout_ratio: float = 0.2,  # side of the cutout square as a fraction of the image size
) -> Tensor:
    if x.ndim != 4:
        raise ValueError(f"diff_augment expects [B, C, H, W], got {list(x.shape)}")
    for name in filter(None, (p.strip() for p in policy.split(","))):
        if name == "color":
            x = color(x, generator)
        elif name == "translation":
            x = random_translation(x, translation_ratio, generator)
        elif name == "cutout":
            x = random_cutout(x, cutout_ratio, generator)
        else:
            raise ValueError(f"unknown DiffAugment policy {name!r}; choose from {POLICIES}")
    return x.contiguous()
