"""StarGAN v2 loss terms as small pure functions (clovaai/stargan-v2 `core/solver.py`).

Adversarial: non-saturating BCE-with-logits; R1 on reals: 0.5 · mean over the batch of ‖∇ₓD(x)‖²;
style reconstruction, cycle consistency and diversity sensitivity are mean absolute differences.
The diversity weight decays linearly from its initial value to 0 over `ds_nimg` images.
"""

import torch
import torch.nn.functional as F
from torch import Tensor


def adversarial_loss(logits: Tensor, target: float) -> Tensor:
    """BCE with logits against a constant target (1: real, 0: fake), averaged over the batch."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def mean_abs(a: Tensor, b: Tensor) -> Tensor:
    """L1 distance averaged over every element: style reconstruction, cycle and diversity terms."""
    return (a - b).abs().mean()


def lambda_ds_at(initial: float, nimg: int, ds_nimg: int) -> float:
    """Diversity weight after `nimg` training images: initial · max(0, 1 − nimg / ds_nimg).

    The official loop subtracts initial / ds_iter after each iteration; in images that is this line,
    computed from the progress counter so a resumed run continues at the right value.
    """
    if ds_nimg <= 0:
        return 0.0
    return float(initial) * max(0.0, 1.0 - nimg / ds_nimg)
