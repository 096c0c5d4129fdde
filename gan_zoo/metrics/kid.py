"""Kernel Inception Distance (Bińkowski et al. 2018) as the StyleGAN/ADA protocol computes it.

Unbiased MMD² with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³, averaged over
`num_subsets` random subsets of m = min(n_fake, n_real, max_subset_size) samples of each set
(kid50k_full: 100 subsets of 1000). Subsets are drawn with numpy `RandomState(seed)`, per subset
first the fake then the real indices, without replacement: torch-fidelity's order, so its value is
reproduced with the same seed (NVIDIA draws from numpy's global RNG, unseeded).
"""

import numpy as np
import torch
from torch import Tensor


def _mmd2_unbiased(x: Tensor, y: Tensor) -> float:
    m, d = x.shape
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / (m * m))


def kernel_inception_distance(fake: Tensor, real: Tensor, num_subsets: int = 100, max_subset_size: int = 1000, seed: int = 2020) -> tuple[float, float]:
    """(mean, std) of the subset MMD² estimates, in float64."""
    m = min(len(fake), len(real), max_subset_size)
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(fake)} fake and {len(real)} real")
    rng = np.random.RandomState(seed)
    fake, real = fake.double(), real.double()
    values = []
    for _ in range(num_subsets):
        f = fake[torch.from_numpy(rng.choice(len(fake), m, replace=False))]
        r = real[torch.from_numpy(rng.choice(len(real), m, replace=False))]
        values.append(_mmd2_unbiased(f, r))
    return float(np.mean(values)), float(np.std(values))
