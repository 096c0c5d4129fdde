"""AdaptiveAugment: steers an AugmentPipe's p by the overfitting heuristic r_t = E[sign(D(real))].

Every `interval` steps: p += sign(r_t - target) * (global_batch * interval) / (ada_kimg * 1000),
clamped at 0, so p can travel from 0 to 1 in `ada_kimg` thousand images (ADA paper §2.3).

The running sums are integer buffers (exact, immune to dtype casts, restored on resume). Under DDP,
all-reduce `stats()` (or pass `reduce=`) so that every rank applies the same adjustment.
The controller steers the pipe but does not own it: the model registers the pipe itself, so its `p`
is saved once, under the model's name for it.
"""

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gan_zoo.augment.pipe import AugmentPipe


class AdaptiveAugment(nn.Module):
    def __init__(
        self,
        pipe: AugmentPipe,  # the pipe whose p is adjusted (registered by the model, not here)
        target: float = 0.6,  # r_t target; above it D is deemed to overfit and p rises
        ada_kimg: float = 500.0,  # kimg over which p may move by 1 (ADA: 500; 100 when fine-tuning)
        interval: int = 4,  # steps between adjustments
    ) -> None:
        super().__init__()
        if not isinstance(pipe, AugmentPipe):
            raise TypeError(f"AdaptiveAugment steers an AugmentPipe, got {type(pipe).__name__}")
        if ada_kimg <= 0 or interval < 1:
            raise ValueError(f"AdaptiveAugment needs ada_kimg > 0 and interval >= 1, got {ada_kimg} and {interval}")
        self.__dict__["pipe"] = pipe  # a plain reference: nn.Module would otherwise register it twice
        self.target = float(target)
        self.ada_kimg = float(ada_kimg)
        self.interval = int(interval)
        self.register_buffer("sign_sum", torch.zeros((), dtype=torch.long))  # sum of sign(D(real)) since the last update
        self.register_buffer("count", torch.zeros((), dtype=torch.long))  # logits summed since the last update
        self.register_buffer("rt", torch.zeros(()))  # r_t of the last update (for logging)

    @property
    def p(self) -> Tensor:
        return self.pipe.p

    @torch.no_grad()
    def accumulate(self, real_logits: Tensor) -> None:
        """Add this rank's D(real) outputs (any shape; one sign per element)."""
        self.sign_sum += torch.sign(real_logits.detach()).sum().long().to(self.sign_sum.device)
        self.count += real_logits.numel()

    def stats(self) -> Tensor:
        """[sign_sum, count] as one int64 tensor, for an all-reduce (sum) across ranks."""
        return torch.stack([self.sign_sum, self.count])

    def due(self, step: int) -> bool:
        """Whether step `step` (0-based, counted before it runs) is an adjustment step: every `interval`."""
        return step % self.interval == 0

    @torch.no_grad()
    def update(
        self,
        global_batch: int,  # images per step over all ranks
        interval_steps: int | None = None,  # steps since the last update; None: `interval`
        reduce: Callable[[Tensor], Tensor] | None = None,  # e.g. an all-reduce sum of stats() across ranks
    ) -> float | None:
        """Adjust p from the accumulated signs and reset them; returns r_t (None when nothing was accumulated)."""
        stats = self.stats()
        if reduce is not None:
            stats = reduce(stats)
        sign_sum, count = (int(v) for v in stats.tolist())
        self.sign_sum.zero_()
        self.count.zero_()
        if count == 0:
            return None
        rt = sign_sum / count
        steps = self.interval if interval_steps is None else int(interval_steps)
        speed = global_batch * steps / (self.ada_kimg * 1000)
        direction = (rt > self.target) - (rt < self.target)
        self.pipe.p.add_(direction * speed).clamp_(min=0.0)
        self.rt.fill_(rt)
        return rt

    def extra_repr(self) -> str:
        return f"target={self.target}, ada_kimg={self.ada_kimg}, interval={self.interval}"
