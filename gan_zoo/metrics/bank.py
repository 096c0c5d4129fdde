"""FeatureBank: per-sample features gathered from every DDP rank, in global sample order.

A torchmetrics `Metric` with two "cat" list states, the features and each sample's global index.
torchmetrics' sync all-gathers both from every rank (uneven counts included); `compute()` then
sorts by index. So the bank holds the same matrix, in the same row order, whatever the number of
processes, and every statistic computed from it (mean and covariance in float64, KID subsets,
P/R radii, IS splits) is the same on 1 or N processes: the reduction is exact, not an average of
per-rank results and not a sum whose rounding depends on the sharding.
"""

import torch
from torch import Tensor
from torchmetrics import Metric


class FeatureBank(Metric):
    full_state_update = False
    features: list[Tensor]
    index: list[Tensor]

    def __init__(
        self,
        dim: int,  # feature length (every rank must agree, even one that holds no samples)
        dtype: torch.dtype = torch.float32,  # storage dtype; float16 halves memory where the protocol allows it (P/R)
    ) -> None:
        super().__init__()
        self.dim = dim
        self.store_dtype = dtype
        self.add_state("features", default=[], dist_reduce_fx="cat")
        self.add_state("index", default=[], dist_reduce_fx="cat")

    def update(self, features: Tensor, index: Tensor) -> None:
        assert features.ndim == 2 and features.shape[1] == self.dim, f"expected [N, {self.dim}] features, got {tuple(features.shape)}"
        assert index.shape == (features.shape[0],), "one global index per feature row"
        self.features.append(features.detach().to(self.store_dtype))
        self.index.append(index.detach().to(device=features.device, dtype=torch.long))

    def _ensure_nonempty(self) -> None:
        # A rank with no samples still takes part in the all-gather, with an empty [0, dim] tensor.
        if isinstance(self.features, list) and not self.features:
            self.features.append(torch.zeros(0, self.dim, dtype=self.store_dtype, device=self.device))
            self.index.append(torch.zeros(0, dtype=torch.long, device=self.device))

    def sync(self, *args, **kwargs) -> None:  # type: ignore[override]
        self._ensure_nonempty()
        super().sync(*args, **kwargs)

    def compute(self) -> Tensor:
        self._ensure_nonempty()
        features = torch.cat(self.features) if isinstance(self.features, list) else self.features
        index = torch.cat(self.index) if isinstance(self.index, list) else self.index
        order = torch.argsort(index)
        index = index[order]
        if index.numel() and (index[1:] == index[:-1]).any():
            raise RuntimeError("FeatureBank: a sample index was added twice (the shards overlap)")
        return features[order].cpu()
