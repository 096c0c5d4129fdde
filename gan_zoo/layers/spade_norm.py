"""SPADE: spatially-adaptive normalisation (Park et al. 2019, SPECS.md §4.2).

    out = norm(x) * (1 + gamma(segmap)) + beta(segmap)

`norm` is parameter-free; gamma and beta are per-pixel maps from a shared 3x3 conv (label channels
-> 128, ReLU) on the label map resized (nearest) to x. The official default norm is a synchronised
batch norm; `ParamFreeSyncBatchNorm` is a BatchNorm2d that, under torch.distributed with more than
one process, reduces its statistics over all processes with a differentiable all-reduce (CPU gloo
and CUDA alike, where nn.SyncBatchNorm needs CUDA), and is a plain batch norm otherwise. Its
state-dict keys (running_mean, running_var, num_batches_tracked) are the official ones.
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
    def __init__(
        self,
        num_features: int,  # channels C of the NCHW input
        eps: float = 1e-5,  # added to the variance
        momentum: float = 0.1,  # running statistics: new = (1 - momentum) * old + momentum * batch
    ) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum, affine=False, track_running_stats=True)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or _distributed_world() == 1:
            return super().forward(x)
        from torch.distributed.nn.functional import all_reduce

        count = torch.tensor([x.numel() // x.shape[1]], dtype=x.dtype, device=x.device)
        # One all-reduce of [sum, sum of squares, count]; its backward sums every process's gradient
        # of the statistics, which is what the global batch's loss needs.
        stats = all_reduce(torch.cat([x.sum((0, 2, 3)), x.square().sum((0, 2, 3)), count]))
        total = stats[-1]
        mean = stats[: x.shape[1]] / total
        var = (stats[x.shape[1] : -1] / total - mean.square()).clamp_min(0)
        with torch.no_grad():
            self.num_batches_tracked += 1
            self.running_mean.lerp_(mean.detach(), self.momentum)
            self.running_var.lerp_(var.detach() * total / (total - 1).clamp_min(1), self.momentum)
        return (x - mean[None, :, None, None]) * torch.rsqrt(var[None, :, None, None] + self.eps)


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
