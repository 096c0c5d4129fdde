"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), mean and std over splits.

Class probabilities are the softmax of the Inception logits without the fc bias (NVIDIA's
`no_output_bias=True`, torch-fidelity's `logits_unbiased`). Splits are consecutive blocks of the
samples in their (global, fixed) order, as NVIDIA does; torch-fidelity shuffles first by default.
"""

import torch
from torch import Tensor


def inception_score(logits: Tensor, splits: int = 10) -> tuple[float, float]:
    n = len(logits)
    if n < splits:
        raise ValueError(f"the Inception Score with {splits} splits needs at least {splits} samples, got {n}")
    logits = logits.double()
    p, log_p = logits.softmax(dim=1), logits.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        part, log_part = p[i * n // splits : (i + 1) * n // splits], log_p[i * n // splits : (i + 1) * n // splits]
        kl = (part * (log_part - part.mean(0, keepdim=True).log())).sum(1).mean()
        scores.append(kl.exp())
    values = torch.stack(scores)
    return float(values.mean()), float(values.std(unbiased=False))
