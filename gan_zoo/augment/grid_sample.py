"""Bilinear grid sampling whose gradient is itself differentiable, on every supported torch.

R1 through the augmentation (StyleGAN2-ADA, StyleGAN3) differentiates the gradient of D(augment(x))
with respect to x, so the warp's backward must have a backward. torch has one from 2.12 on; before,
`grid_sampler_2d_backward` has no derivative and the R1 step fails. The input gradient of a grid
sample is linear in the output gradient (the transpose of the same bilinear weights), so its own
derivative with respect to that output gradient is the grid sample again; that is all R1 needs (the
grid is built from the augmentation's parameters and takes no gradient).
"""

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

# torch >= 2.12 differentiates grid_sampler_2d_backward itself (2.11 raises "derivative for
# aten::grid_sampler_2d_backward is not implemented").
NATIVE_DOUBLE_BACKWARD = torch.__version__ >= (2, 12)  # type: ignore[operator]

_BILINEAR, _ZEROS = 0, 0  # aten's enums for mode="bilinear", padding_mode="zeros"


def grid_sample_bilinear(images: Tensor, grid: Tensor, native: bool = NATIVE_DOUBLE_BACKWARD) -> Tensor:
    """F.grid_sample(images, grid, "bilinear", "zeros", align_corners=True), twice differentiable in
    `images`. `native=False` takes the written-out path whatever torch's version (tests)."""
    if native or grid.requires_grad or not torch.is_grad_enabled():
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return _GridSample.apply(images, grid)


class _GridSample(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, images: Tensor, grid: Tensor) -> Tensor:
        ctx.save_for_backward(images, grid)
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None]:
        images, grid = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None
        return _GridSampleInputGradient.apply(grad, images, grid), None


class _GridSampleInputGradient(torch.autograd.Function):
    """The input gradient of a bilinear grid sample (aten's kernel), differentiable in the output gradient."""

    @staticmethod
    def forward(ctx: Any, grad: Tensor, images: Tensor, grid: Tensor) -> Tensor:
        ctx.save_for_backward(grid)
        grad_images, _ = torch.ops.aten.grid_sampler_2d_backward(grad, images, grid, _BILINEAR, _ZEROS, True, [True, False])
        return grad_images

    @staticmethod
    def backward(ctx: Any, grad_grad_images: Tensor) -> tuple[Tensor | None, None, None]:
        (grid,) = ctx.saved_tensors
        # Linear in `grad` and independent of the images' values (bilinear weights depend on the grid only).
        grad_grad = _GridSample.apply(grad_grad_images, grid) if ctx.needs_input_grad[0] else None
        return grad_grad, None, None
