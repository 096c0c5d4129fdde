"""SPADE: spatially-adaptive normalisation (Park et al. 2019, §3.1; NVlabs/SPADE
`models/networks/normalization.py`).

    out = norm(x) * (1 + gamma(segmap)) + beta(segmap)

`norm` is parameter-free; gamma and beta are per-pixel maps from a shared 3x3 conv (label channels
-> 128, ReLU) on the label map resized (nearest) to x. The official default norm is the synchronised
batch norm of vacancy/Synchronized-BatchNorm-PyTorch (`sync_batchnorm/batchnorm.py`), which the
official trainer runs over all GPUs of the global batch; `ParamFreeSyncBatchNorm` is its arithmetic
(see the class), with the statistics reduced over all processes under torch.distributed (CPU gloo and
CUDA alike, where nn.SyncBatchNorm needs CUDA). Its state-dict keys (running_mean, running_var,
num_batches_tracked) are the official ones.
"""

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.layers.precision import full_precision

PARAM_FREE_NORMS = ("syncbatch", "batch", "instance")


def _distributed_world() -> int:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size()
    return 1


class _SumOverProcesses(torch.autograd.Function):
    """Sum of a tensor over all processes, differentiable: each process's output is the sum of every
    input, so the gradient of an input is the sum of every process's output gradient.

    Written here rather than torch.distributed.nn.functional.all_reduce (deprecated in torch 2.x):
    this one is a plain blocking all-reduce in forward and backward, so no collective is left in flight
    when a process group is torn down.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        total = x.clone()
        torch.distributed.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        total = grad.contiguous().clone()
        torch.distributed.all_reduce(total)
        return total


class ParamFreeSyncBatchNorm(nn.BatchNorm2d):
    """Training mode: the official synchronised path over the global batch, in one process or several.

    * inverse std `clamp(biased_var, min=eps) ** -0.5`, not `(var + eps) ** -0.5`: the two differ most
      where a channel's variance v is below eps (1/sqrt(eps) against 1/sqrt(v + eps)), and the clamped
      variance passes no gradient.
    * running statistics `(1 - momentum) * old + momentum * new` with the unbiased variance (n - 1).
    * `num_batches_tracked` is never incremented (the official forward bypasses _BatchNorm.forward).
    Eval mode normalises with the running statistics and `+ eps` (F.batch_norm), as the official one.
    The official single-GPU run takes F.batch_norm in training too (`+ eps`); gan-zoo keeps one
    formula so that one process and N processes compute the same thing.

    In one process the forward runs those operations in that order (same values, bit for bit) and the
    backward is torch's fused batch-norm backward on the saved mean and inverse std, in place of
    autograd through a dozen full-size operations (same gradient up to float rounding).

    Reduced-precision activations (bf16 / fp16 under mixed precision) are normalised with statistics
    computed in fp32 and the result is cast back to their dtype, as torch's and cuDNN's batch norms do:
    in 8 mantissa bits the sum of squares minus sum x mean cancels (activations of mean 3 and std
    0.05 came out with a std of 15 instead of 1). fp32 inputs take exactly the path described above.
    """

    def __init__(
        self,
        num_features: int,  # channels C of the NCHW input
        eps: float = 1e-5,  # lower bound of the biased variance in training; added to the running variance in eval
        momentum: float = 0.1,  # running statistics: new = (1 - momentum) * old + momentum * batch
    ) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum, affine=False, track_running_stats=True)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, None, None, False, self.momentum, self.eps)
        world = _distributed_world()
        if world == 1:
            return _SyncBatchNormOneProcess.apply(x, self)
        n, c = x.shape[:2]
        flat = full_precision(x).reshape(n, c, -1)  # fp32 statistics for bf16 / fp16 activations (see the class)
        # Sums over batch, then pixels, in the official order (the rounding follows it).
        sums, square_sums = flat.sum(0).sum(-1), (flat**2).sum(0).sum(-1)
        if world > 1:
            # One differentiable all-reduce of [sum, sum of squares]; its backward sums every process's
            # gradient of the statistics, which is what the global batch's loss needs.
            stats = _SumOverProcesses.apply(torch.cat([sums, square_sums]))
            sums, square_sums = stats[:c], stats[c:]
        # gan-zoo's sampler gives every process the same number of images, so the count needs no reduction.
        size = n * flat.shape[2] * world
        if size < 2:
            raise ValueError(f"batch norm in training needs more than 1 value per channel, got input {list(x.shape)} on {world} process(es)")
        mean = sums / size
        sumvar = square_sums - sums * mean
        with torch.no_grad():
            self.running_mean.copy_((1 - self.momentum) * self.running_mean + self.momentum * mean)
            self.running_var.copy_((1 - self.momentum) * self.running_var + self.momentum * (sumvar / (size - 1)))
        inv_std = (sumvar / size).clamp(self.eps) ** -0.5
        return ((x - mean[None, :, None, None]) * inv_std[None, :, None, None]).to(x.dtype)


def _statistics(norm: ParamFreeSyncBatchNorm, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(mean, inverse std, whether the variance was clamped) of one process's batch by the synchronised
    formula, in its order of operations, in fp32 whatever x's dtype; updates the running statistics."""
    n, c = x.shape[:2]
    flat = full_precision(x).reshape(n, c, -1)
    sums, square_sums = flat.sum(0).sum(-1), (flat**2).sum(0).sum(-1)  # batch, then pixels: the official order
    size = n * flat.shape[2]
    if size < 2:
        raise ValueError(f"batch norm in training needs more than 1 value per channel, got input {list(x.shape)} on 1 process(es)")
    mean = sums / size
    sumvar = square_sums - sums * mean
    norm.running_mean.copy_((1 - norm.momentum) * norm.running_mean + norm.momentum * mean)
    norm.running_var.copy_((1 - norm.momentum) * norm.running_var + norm.momentum * (sumvar / (size - 1)))
    biased_var = sumvar / size
    return mean, biased_var.clamp(norm.eps) ** -0.5, biased_var < norm.eps


class _SyncBatchNormOneProcess(torch.autograd.Function):
    """ParamFreeSyncBatchNorm in one process: the official forward, torch's fused batch-norm backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, norm: ParamFreeSyncBatchNorm) -> Tensor:
        with torch.no_grad():
            mean, inv_std, clamped = _statistics(norm, x)
            out = (x - mean[None, :, None, None]).mul_(inv_std[None, :, None, None]).to(x.dtype)
        ctx.save_for_backward(x, out, mean, inv_std, clamped)
        ctx.eps = norm.eps
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        x, out, mean, inv_std, clamped = ctx.saved_tensors
        # (g - mean g - x_hat * mean(g * x_hat)) * inv_std, from the saved statistics; grad_scale = sum(g * x_hat).
        grad_x, grad_scale, _ = torch.ops.aten.native_batch_norm_backward(grad, x, None, None, None, mean, inv_std, True, ctx.eps, [True, True, False])
        # A clamped variance is a constant: those channels lose the variance term, so add it back.
        size = x.numel() // x.shape[1]
        restore = torch.where(clamped, grad_scale * inv_std / size, torch.zeros_like(inv_std))
        return grad_x.addcmul_(out, restore[None, :, None, None]), None


def param_free_norm(kind: str, channels: int) -> nn.Module:
    """The normalisation before the SPADE modulation: syncbatch (official), batch or instance."""
    if kind == "syncbatch":
        return ParamFreeSyncBatchNorm(channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=False)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    raise ValueError(f"param-free norm {kind!r} is not one of {', '.join(PARAM_FREE_NORMS)}")


class SPADE(nn.Module):
    def __init__(
        self,
        norm_nc: int,  # channels of the normalised activations
        label_nc: int,  # channels of the semantic input (one-hot labels + instance edges)
        hidden: int = 128,  # channels of the shared conv (official 128)
        kernel_size: int = 3,  # of the three convs (official 3: 'spade...3x3')
        norm: str = "syncbatch",  # param-free norm: syncbatch | batch | instance
    ) -> None:
        super().__init__()
        padding = kernel_size // 2
        self.param_free_norm = param_free_norm(norm, norm_nc)
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, hidden, kernel_size, padding=padding), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, norm_nc, kernel_size, padding=padding)
        self.mlp_beta = nn.Conv2d(hidden, norm_nc, kernel_size, padding=padding)

    def forward(self, x: Tensor, segmap: Tensor) -> Tensor:
        return self.modulate(x, self.mlp_shared(F.interpolate(segmap, size=x.shape[2:], mode="nearest")))

    def modulate(self, x: Tensor, actv: Tensor) -> Tensor:
        """norm(x) * (1 + gamma) + beta from `actv`, the shared conv's output on the label map at x's size."""
        normalized = self.param_free_norm(x)
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)


def shared_activations(layers: Sequence[SPADE], segmap: Tensor) -> list[Tensor]:
    """Each layer's `mlp_shared(segmap)`, for SPADE layers reading the same label map at the same size, as
    one convolution with their kernels stacked: the same values bit for bit (each output channel is
    computed alone either way), and the same parameter gradients bit for bit on one thread; on several,
    oneDNN splits the weight gradient's sums by blocks of output channels, which differ for the stacked
    conv, so they agree to float rounding (the label map takes no gradient). One pass over the input
    instead of one per layer."""
    convs = [layer.mlp_shared[0] for layer in layers]
    out = F.conv2d(segmap, torch.cat([c.weight for c in convs]), torch.cat([c.bias for c in convs]), padding=convs[0].padding)
    # Contiguous once here, rather than copied by each of the gamma and beta convolutions reading it.
    return [actv.contiguous() for actv in F.relu(out).split([c.out_channels for c in convs], dim=1)]
