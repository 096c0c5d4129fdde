"""Spectral norm as the official code applies it: `torch.nn.utils.spectral_norm`, whose `weight_orig`
parameter and `weight_u`/`weight_v` buffers are the official state-dict names.

`fused_backward` (the generator's large ResBlk convs): the same forward, power iteration and weight,
bit for bit, with the gradient of W / sigma(W) written out, g / sigma - <g, W> / sigma^2 * u v^T,
in three passes over the weight instead of autograd's six (same gradient up to float rounding).
"""

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm


class _WeightOverSigma(torch.autograd.Function):
    """W / (u^T W v) for fixed u, v (the power iteration's vectors), with W's rows along dim 0."""

    @staticmethod
    def forward(ctx: Any, weight: Tensor, u: Tensor, v: Tensor) -> Tensor:
        sigma = torch.dot(u, torch.mv(weight.reshape(weight.shape[0], -1), v))
        ctx.save_for_backward(weight, u, v, sigma)
        return weight / sigma

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        weight, u, v, sigma = ctx.saved_tensors
        inner = torch.dot(grad.reshape(-1), weight.reshape(-1))
        grad_mat = grad.reshape(weight.shape[0], -1) - torch.outer(u * (inner / sigma), v)
        return grad_mat.div_(sigma).view_as(weight), None, None


class _FusedBackwardSpectralNorm(SpectralNorm):
    def compute_weight(self, module: nn.Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        if do_power_iteration:  # torch's power iteration, in place on the buffers, then copies (see SpectralNorm)
            weight_mat = self.reshape_weight_to_matrix(weight)
            with torch.no_grad():
                for _ in range(self.n_power_iterations):
                    v = F.normalize(torch.mv(weight_mat.t(), u), dim=0, eps=self.eps, out=v)
                    u = F.normalize(torch.mv(weight_mat, v), dim=0, eps=self.eps, out=u)
                if self.n_power_iterations > 0:
                    u = u.clone(memory_format=torch.contiguous_format)
                    v = v.clone(memory_format=torch.contiguous_format)
        return _WeightOverSigma.apply(weight, u, v)


def maybe_spectral(layer: nn.Module, enabled: bool, fused_backward: bool = False) -> nn.Module:
    if not enabled:
        return layer
    layer = spectral_norm(layer)
    if fused_backward:
        for hook in layer._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm):
                assert hook.dim == 0, "the fused backward reads the weight's rows along dim 0 (Conv2d, Linear)"
                hook.__class__ = _FusedBackwardSpectralNorm  # the same object: its state-dict hooks keep working
    return layer
