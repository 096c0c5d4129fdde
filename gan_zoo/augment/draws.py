"""Per-sample random numbers for one augmentation call.

Every number comes from the given `torch.Generator` or, without one, from torch's global RNG, which
GANModule saves and restores with each checkpoint: a resumed run draws exactly what the
uninterrupted run would have drawn. As GANModule does for its noise, numbers are drawn for the whole
global batch and this rank keeps its slice, so 1 process and N processes augment identically.
"""

import torch
from torch import Tensor


class Draws:
    def __init__(
        self,
        batch: int,  # this rank's images
        device: torch.device,  # where the numbers are drawn (the images' device)
        generator: torch.Generator | None = None,  # None: torch's global RNG
        rank: int = 0,  # this process's index in the global batch interleave
        world_size: int = 1,  # processes sharing the global batch
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
        self.batch, self.device, self.generator = batch, device, generator
        self.rank, self.world_size = rank, world_size

    def _mine(self, full: Tensor) -> Tensor:
        return full[self.rank :: self.world_size]

    def uniform(self, *shape: int) -> Tensor:
        """U[0, 1), shape [batch, *shape]."""
        full = torch.rand(self.batch * self.world_size, *shape, device=self.device, generator=self.generator)
        return self._mine(full)

    def normal(self, *shape: int) -> Tensor:
        """N(0, 1), shape [batch, *shape]."""
        full = torch.randn(self.batch * self.world_size, *shape, device=self.device, generator=self.generator)
        return self._mine(full)

    def integers(self, high: int, *shape: int) -> Tensor:
        """Uniform integers in [0, high), shape [batch, *shape]."""
        full = torch.randint(high, (self.batch * self.world_size, *shape), device=self.device, generator=self.generator)
        return self._mine(full)

    def chance(self, probability: float) -> Tensor:
        """Per-sample booleans, True with `probability` (>= 1 always, <= 0 never)."""
        return self.uniform() < probability
