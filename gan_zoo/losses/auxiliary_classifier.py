"""AC-GAN auxiliary-classifier loss (Odena et al. 2017) as used by conditional PGGAN.

PGGAN's discriminator predicts label logits next to its score; both G and D add the softmax cross
entropy between those logits and the (one-hot or soft) labels, weighted by `cond_weight` = 1.
"""

import torch


def auxiliary_classifier_loss(label_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Softmax cross entropy per sample between logits [N, K] and label distributions [N, K]."""
    if label_logits.shape != labels.shape:
        raise ValueError(f"label logits {tuple(label_logits.shape)} and labels {tuple(labels.shape)} differ in shape")
    return -(labels * torch.log_softmax(label_logits, dim=1)).sum(dim=1)
