"""Building blocks of SPADE's networks (NVlabs/SPADE `models/networks/architecture.py`,
`base_network.py`): the SPADE ResnetBlock, spectral norm as the official code applies it, and the
official weight initialisation.

Spectral norm is `torch.nn.utils.spectral_norm`, whose `weight_orig` parameter and `weight_u`/`weight_v`
buffers are the official state-dict names. `fused_backward` (the generator's large ResBlk convs): the
same forward, power iteration and weight, bit for bit, with the gradient of W / sigma(W) written out,
g / sigma - <g, W> / sigma^2 * u v^T, in three passes over the weight instead of autograd's six (same
gradient up to float rounding).
"""

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm

from gan_zoo.layers.spade_norm import SPADE, shared_activations


class SPADEResnetBlock(nn.Module):
    """Two SPADE -> lrelu -> 3x3 conv stages and a shortcut that is learned (SPADE -> 1x1 conv, no bias)
    when the channel count changes."""

    def __init__(
        self,
        fin: int,  # input channels
        fout: int,  # output channels
        semantic_nc: int,  # channels of the semantic input the SPADE layers read
        spectral: bool = True,  # spectral norm on conv_0, conv_1, conv_s (official 'spectral...')
        norm: str = "syncbatch",  # SPADE's param-free norm: syncbatch | batch | instance
        spade_hidden: int = 128,  # channels of SPADE's shared conv
        spade_kernel: int = 3,  # kernel of SPADE's convs
    ) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        # Registered in the official order (convs, then norms), so the state dict lists its keys as the official one does.
        self.conv_0 = maybe_spectral(nn.Conv2d(fin, fmiddle, 3, padding=1), spectral, fused_backward=True)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmiddle, fout, 3, padding=1), spectral, fused_backward=True)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, bias=False), spectral, fused_backward=True)
        spade = {"label_nc": semantic_nc, "hidden": spade_hidden, "kernel_size": spade_kernel, "norm": norm}
        self.norm_0 = SPADE(fin, **spade)
        self.norm_1 = SPADE(fmiddle, **spade)
        if self.learned_shortcut:
            self.norm_s = SPADE(fin, **spade)

    def forward(self, x: Tensor, seg: Tensor) -> Tensor:
        """x: [N, fin, H, W]; seg: the semantic input at (H, W) or any other size (resized nearest)."""
        if seg.shape[2:] != x.shape[2:]:
            seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
        # Every SPADE of the block reads the label map at x's size: their shared convs run as one.
        if self.learned_shortcut:
            actv_s, actv_0, actv_1 = shared_activations([self.norm_s, self.norm_0, self.norm_1], seg)
            x_s = self.conv_s(self.norm_s.modulate(x, actv_s))
        else:
            (actv_0, actv_1), x_s = shared_activations([self.norm_0, self.norm_1], seg), x
        dx = self.conv_0(F.leaky_relu(self.norm_0.modulate(x, actv_0), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1.modulate(dx, actv_1), 0.2))
        return x_s + dx


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


def init_weights(network: nn.Module, gain: float = 0.02) -> None:
    """The official initialisation (`base_network.py`): xavier_normal with gain 0.02 on every conv and
    linear weight (the spectral-norm `weight_orig`), zero biases, affine batch-norm weights N(1, 0.02)."""
    for module in network.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.xavier_normal_(getattr(module, "weight_orig", module.weight).data, gain=gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias.data)
        elif isinstance(module, nn.BatchNorm2d) and module.weight is not None:
            nn.init.normal_(module.weight.data, 1.0, gain)
            nn.init.zeros_(module.bias.data)
