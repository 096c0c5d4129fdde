"""General geometric transforms (ADA transforms 4-7) and their one-shot resampling.

Matrices are 3x3 sampling maps on centred pixel coordinates (x right, y down, origin at the image
centre, unit = one pixel): they take an output position to the source position it reads. Composing
transforms in the paper's order right-multiplies their maps; every distribution used is symmetric
under inversion, so a drawn transform and its inverse are equally likely and need no inversion.

Resampling, as the ADA paper describes it: reflect-pad the images by what the transformed canvas
reaches, upsample 2x with an orthonormal wavelet low-pass (symlet-6), sample bilinearly on the 2x
grid (torch's grid_sample, through `grid_sample_bilinear`), low-pass and decimate by 2 with the same wavelet, crop. The orthonormal
filter makes the up/down pair an exact identity, so resampling adds no blur beyond the interpolation.
"""

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.augment.blit import reflect_pad
from gan_zoo.augment.filters import centroid, symlet_lowpass
from gan_zoo.augment.grid_sample import grid_sample_bilinear


def scale2d(sx: Tensor, sy: Tensor) -> Tensor:
    m = torch.zeros(*sx.shape, 3, 3, dtype=sx.dtype, device=sx.device)
    m[..., 0, 0], m[..., 1, 1], m[..., 2, 2] = sx, sy, 1
    return m


def rotate2d(theta: Tensor) -> Tensor:
    m = torch.zeros(*theta.shape, 3, 3, dtype=theta.dtype, device=theta.device)
    m[..., 0, 0], m[..., 0, 1] = theta.cos(), -theta.sin()
    m[..., 1, 0], m[..., 1, 1] = theta.sin(), theta.cos()
    m[..., 2, 2] = 1
    return m


def translate2d(tx: Tensor, ty: Tensor) -> Tensor:
    m = torch.eye(3, dtype=tx.dtype, device=tx.device).repeat(*tx.shape, 1, 1)
    m[..., 0, 2], m[..., 1, 2] = tx, ty
    return m


class WaveletResampler:
    """Applies per-sample sampling maps to images with the pad / 2x up / warp / 2x down scheme."""

    def __init__(
        self,
        vanishing_moments: int = 6,  # symlet order; 6 as in the ADA paper (12 taps)
    ) -> None:
        taps = symlet_lowpass(vanishing_moments)
        self.taps = torch.tensor(taps, dtype=torch.float64)
        self.length = len(taps)
        self.align = self.length // 2 - 1  # tap offset so that the filter is roughly centred
        # A coarse coordinate x (pixel edges, pixel n spans [n, n+1]) lies at fine index
        # 2x + offset; the offset includes where the wavelet really sits (its centroid).
        self.offset = centroid(taps) - self.align - 1.0
        # Coarse pixels the filters reach: the up-filter plus the bilinear tap on the input side,
        # the down-filter on the output side.
        self.support = math.ceil(self.length / 4) + 1

    def _kernels(self, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
        taps = self.taps.to(device=device, dtype=dtype)
        return taps * math.sqrt(2.0), taps / math.sqrt(2.0)  # up (gain 2 per axis with zeros), down (DC gain 1)

    def _upsample(self, x: Tensor, taps: Tensor) -> Tensor:
        # u[m] = sum_n x[n] h[m + a - 2n], computed as two polyphase correlations (even and odd m):
        # u[2j + r] = sum_q x[j + q] h[r + a - 2q]. Images x channels go in the channel dimension of
        # one depthwise conv2d: on CPU that is many times faster than conv_transpose2d or a batch of
        # single-channel images.
        n, c, h, w = x.shape
        phases, left, right = self._phases(taps)
        flat = x.reshape(1, n * c, h, w)
        flat = self._interleave(F.conv2d(F.pad(flat, (left, right, 0, 0)), phases.repeat(n * c, 1, 1, 1), groups=n * c), -1)
        flat = self._interleave(F.conv2d(F.pad(flat, (0, 0, left, right)), phases.transpose(2, 3).repeat(n * c, 1, 1, 1), groups=n * c), -2)
        return flat.reshape(n, c, 2 * h, 2 * w)

    def _phases(self, taps: Tensor) -> tuple[Tensor, int, int]:
        """Kernels [2, 1, 1, K] of the even and odd outputs, and the padding (left, right) they need."""
        a, length = self.align, self.length
        q_min = min(-((length - 1 - r - a) // 2) for r in (0, 1))  # ceil((r + a - L + 1) / 2)
        q_max = max((r + a) // 2 for r in (0, 1))
        kernels = taps.new_zeros(2, 1, 1, q_max - q_min + 1)
        for r in (0, 1):
            for q in range(q_min, q_max + 1):
                k = r + a - 2 * q
                if 0 <= k < length:
                    kernels[r, 0, 0, q - q_min] = taps[k]
        return kernels, -q_min, q_max

    @staticmethod
    def _interleave(phases: Tensor, dim: int) -> Tensor:
        """[1, 2G, H, W] (even, odd per channel) -> [1, G, H, 2W] (dim -1) or [1, G, 2H, W] (dim -2)."""
        _, g2, h, w = phases.shape
        pairs = phases.reshape(g2 // 2, 2, h, w)
        if dim == -1:
            return pairs.permute(0, 2, 3, 1).reshape(1, g2 // 2, h, 2 * w)
        return pairs.permute(0, 2, 1, 3).reshape(1, g2 // 2, 2 * h, w)

    def _downsample(self, u: Tensor, taps: Tensor) -> Tensor:
        # y[n] = sum_k h[k] u[2n - a + k]: the adjoint of _upsample, so down(up(x)) = x exactly.
        n, c, h, w = u.shape
        pad = (self.align, self.length - 2 - self.align)
        flat, k = u.reshape(1, n * c, h, w), taps.view(1, 1, 1, -1).expand(n * c, 1, 1, -1)
        flat = F.conv2d(F.pad(flat, (*pad, 0, 0)), k, stride=(1, 2), groups=n * c)
        flat = F.conv2d(F.pad(flat, (0, 0, *pad)), k.transpose(2, 3), stride=(2, 1), groups=n * c)
        return flat.reshape(n, c, h // 2, w // 2)

    def margins(self, maps: Tensor, height: int, width: int) -> tuple[int, int, int, int]:
        """Reflect padding (left, right, top, bottom) that the sampling maps [N, 3, 3] read into."""
        b = self.support
        hx, hy = width / 2 + b, height / 2 + b  # output canvas incl. what the down-filter reads
        corners = torch.tensor([[-hx, -hy, 1], [hx, -hy, 1], [-hx, hy, 1], [hx, hy, 1]], dtype=maps.dtype, device=maps.device)
        src = maps @ corners.T  # [N, 3, 4]
        reach = torch.stack([-src[:, 0].min() - width / 2, src[:, 0].max() - width / 2, -src[:, 1].min() - height / 2, src[:, 1].max() - height / 2]).tolist()
        left, right, top, bottom = (max(b, math.ceil(r + b)) for r in reach)
        # Reflect at most one image size per side (what ADA's reflect padding can reach); the rare
        # draws that read further see zeros there. This bounds the canvas of a batch at 3x3 images.
        return min(left, width - 1), min(right, width - 1), min(top, height - 1), min(bottom, height - 1)

    def __call__(self, images: Tensor, maps: Tensor) -> Tensor:
        """images [N, C, H, W]; maps [N, 3, 3] (float64 preferred) -> transformed images [N, C, H, W]."""
        n, c, h, w = images.shape
        maps = maps.to(torch.float64)
        left, right, top, bottom = self.margins(maps, h, w)
        padded = reflect_pad(images, left, right, top, bottom)
        up_taps, down_taps = self._kernels(images.dtype, images.device)
        fine = self._upsample(padded, up_taps)
        # Fine index m <-> centred coarse x: m = 2 * (x + W/2 + pad) + offset (same for rows), where the
        # source canvas has the reflect padding and the output canvas only the down-filter's border b:
        # the warp and the down-filter then never touch what the crop would throw away.
        b = self.support
        source = _to_fine(left, top, w, h, self.offset, images.device)
        output = _to_fine(b, b, w, h, self.offset, images.device)
        reads = source @ maps @ torch.linalg.inv(output)  # fine output index -> the fine source index it reads
        dtype = _sampling_dtype(images.dtype)
        grid = _sampling_grid(reads, fine.shape[-2:], (2 * (h + 2 * b), 2 * (w + 2 * b)), dtype)
        warped = grid_sample_bilinear(fine.to(dtype), grid)
        coarse = self._downsample(warped.to(images.dtype), down_taps)
        return coarse[:, :, b : b + h, b : b + w]


def _sampling_dtype(dtype: torch.dtype) -> torch.dtype:
    """fp32 for 16-bit images (their 8-10 mantissa bits cannot place a sample on a canvas of hundreds of pixels)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _sampling_grid(reads: Tensor, source_size: tuple[int, int], output_size: tuple[int, int], dtype: torch.dtype) -> Tensor:
    """grid_sample's grid [N, H_out, W_out, 2] (x, y in [-1, 1], align_corners) of the affine index maps `reads` [N, 3, 3].

    Built here rather than by kornia's warp_affine, which samples through F.grid_sample: before torch
    2.12 its gradient has no gradient, which R1 through the augmentation needs (see grid_sample)."""
    (hs, ws), (ho, wo) = source_size, output_size
    to_unit = torch.tensor([[2 / (ws - 1), 0, -1], [0, 2 / (hs - 1), -1], [0, 0, 1]], dtype=reads.dtype, device=reads.device)
    affine = (to_unit @ reads)[:, :2].to(dtype)  # composed in float64, evaluated per pixel in the sampling dtype
    xs = torch.arange(wo, dtype=affine.dtype, device=affine.device)
    ys = torch.arange(ho, dtype=affine.dtype, device=affine.device)
    # [N, 2, H, W]: a x + b y + c per output pixel, then channels last as grid_sample wants.
    grid = affine[:, :, 0, None, None] * xs + affine[:, :, 1, None, None] * ys[:, None] + affine[:, :, 2, None, None]
    return grid.permute(0, 2, 3, 1)


def _to_fine(left: int, top: int, width: int, height: int, offset: float, device: torch.device) -> Tensor:
    """Centred coarse coordinates -> indices of the 2x grid of a canvas padded by (left, top)."""
    m = torch.eye(3, dtype=torch.float64, device=device)
    m[0, 0] = m[1, 1] = 2.0
    m[0, 2] = 2.0 * (width / 2 + left) + offset
    m[1, 2] = 2.0 * (height / 2 + top) + offset
    return m
