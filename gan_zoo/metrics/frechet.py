"""Fréchet distance between Gaussians fitted to two feature sets (FID, sFID, rFID).

    d² = |mu1 - mu2|² + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2))

Statistics in float64. tr(sqrt(S1 S2)) is the sum of the square roots of the eigenvalues of
S1 S2, as torch-fidelity and torchmetrics compute it (`eigvals(S1 @ S2)`), but taken from the
symmetric matrix sqrt(S1) S2 sqrt(S1), which has the same eigenvalues: `eigh` is several times
faster than the non-symmetric `eigvals` and has no complex round-off from the near-zero
eigenvalues of a rank-deficient covariance. With fewer samples n than dimensions d, the n x n
matrix X S2 Xᵀ (X the centred samples) has the same non-zero eigenvalues again and costs far less.
No scipy `sqrtm`, whose `disp` argument SciPy 1.18 removes.

The StyleGAN/ADA protocol uses the population covariance (divide by N, `ddof=0`); torch-fidelity,
torchmetrics, pytorch-fid and TTUR use N-1 (`ddof=1`). The difference shrinks like 1/N.
"""

import torch
from torch import Tensor


def mean_cov(features: Tensor, ddof: int = 0, chunk: int = 8192) -> tuple[Tensor, Tensor]:
    """(mean [d], covariance [d, d]) in float64 from [N, d] features, accumulated in fixed chunks."""
    n, d = features.shape
    if n <= ddof:
        raise ValueError(f"a covariance with ddof={ddof} needs more than {ddof} samples, got {n}")
    total = torch.zeros(d, dtype=torch.float64)
    outer = torch.zeros(d, d, dtype=torch.float64)
    for start in range(0, n, chunk):
        x = features[start : start + chunk].double()
        total += x.sum(0)
        outer += x.T @ x
    mean = total / n
    cov = (outer - n * torch.outer(mean, mean)) / (n - ddof)
    return mean, cov


def _sum_sqrt_eigenvalues(symmetric: Tensor) -> Tensor:
    symmetric = (symmetric + symmetric.T) / 2  # exact symmetry for eigvalsh
    return torch.linalg.eigvalsh(symmetric).clamp_min(0).sqrt().sum()


def trace_sqrt_product(sigma1: Tensor, sigma2: Tensor) -> Tensor:
    values, vectors = torch.linalg.eigh((sigma1 + sigma1.T) / 2)
    root = (vectors * values.clamp_min(0).sqrt()) @ vectors.T
    return _sum_sqrt_eigenvalues(root @ sigma2 @ root)


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    mu1, mu2, sigma1, sigma2 = mu1.double(), mu2.double(), sigma1.double(), sigma2.double()
    value = (mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt_product(sigma1, sigma2)
    return float(value)


def frechet_distance_to_features(features: Tensor, mu2: Tensor, sigma2: Tensor, ddof: int = 0) -> float:
    """Fréchet distance between the Gaussian of `features` [n, d] and (mu2, sigma2)."""
    n, d = features.shape
    if n > d:
        mu1, sigma1 = mean_cov(features, ddof)
        return frechet_distance(mu1, sigma1, mu2, sigma2)
    if n <= ddof:
        raise ValueError(f"a covariance with ddof={ddof} needs more than {ddof} samples, got {n}")
    x = features.double()
    mu1 = x.mean(0)
    centred = (x - mu1) / (n - ddof) ** 0.5  # sigma1 = centredᵀ centred
    mu2, sigma2 = mu2.double(), sigma2.double()
    trace_sqrt = _sum_sqrt_eigenvalues(centred @ sigma2 @ centred.T)
    value = (mu1 - mu2).square().sum() + centred.square().sum() + sigma2.trace() - 2 * trace_sqrt
    return float(value)
