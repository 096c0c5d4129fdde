"""Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN manifolds.

Each set's manifold is the union of balls around its samples with radius = distance to the k-th
nearest other sample (`kthvalue(k + 1)`: the +1 skips the sample itself). Precision: the share of
fake samples inside the real manifold; recall: the share of real samples inside the fake manifold.
Distances are computed in row blocks (`batch`), so memory is batch x N, never N x N.
The StyleGAN3 protocol rounds the features to float16 first (`feature_dtype`); torch-fidelity keeps float32.
"""

import torch
from torch import Tensor


def _radii(features: Tensor, k: int, batch: int) -> Tensor:
    return torch.cat([torch.cdist(rows, features).kthvalue(k + 1, dim=1).values for rows in features.split(batch)])


def _coverage(probes: Tensor, manifold: Tensor, radii: Tensor, batch: int) -> float:
    inside = [(torch.cdist(rows, manifold) <= radii.unsqueeze(0)).any(dim=1) for rows in probes.split(batch)]
    return float(torch.cat(inside).double().mean())


def precision_recall(fake: Tensor, real: Tensor, k: int = 3, batch: int = 10000, feature_dtype: torch.dtype = torch.float16) -> tuple[float, float]:
    if min(len(fake), len(real)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples per set, got {len(fake)} fake and {len(real)} real")
    fake, real = fake.to(feature_dtype).float(), real.to(feature_dtype).float()
    precision = _coverage(fake, real, _radii(real, k, batch), batch)
    recall = _coverage(real, fake, _radii(fake, k, batch), batch)
    return precision, recall
