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

import torch
import torch.nn.functional as F
from torch import Tensor, nn

PARAM_FREE_NORMS = ("syncbatch", "batch", "instance")


def _distributed_world() -> int:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size()
    return 1


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
        n, c = x.shape[:2]
        flat = x.reshape(n, c, -1)
        # Sums over batch, then pixels, in the official order (the rounding follows it).
        sums, square_sums = flat.sum(0).sum(-1), (flat**2).sum(0).sum(-1)
        world = _distributed_world()
        if world > 1:
            from torch.distributed.nn.functional import all_reduce

            # One differentiable all-reduce of [sum, sum of squares]; its backward sums every process's
            # gradient of the statistics, which is what the global batch's loss needs.
            stats = all_reduce(torch.cat([sums, square_sums]))
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
        return (x - mean[None, :, None, None]) * inv_std[None, :, None, None]


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
        normalized = self.param_free_norm(x)
        actv = self.mlp_shared(F.interpolate(segmap, size=x.shape[2:], mode="nearest"))
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)
