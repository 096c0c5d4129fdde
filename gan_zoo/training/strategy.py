"""DDP without DistributedDataParallel's reducer: GANModule averages gradients itself.

A GAN step runs several forward/backward passes (D main, D reg, G main, G reg) through different
sub-networks, leaving parameters unused in each; DistributedDataParallel expects one backward per
forward and needs `find_unused_parameters=True` (an extra graph traversal per backward) and still
all-reduces the whole model each time. Like the NVlabs training loop, we keep Lightning's process
group, launcher and rank handling, skip the wrapper, and let `GANModule` all-reduce exactly the
gradients of the optimizer it is about to step (one flattened collective per phase).
benchmarks/ddp.py compares it with `ddp_find_unused_parameters_true`.
"""

import torch
from lightning.pytorch.strategies import DDPStrategy
from torch import nn


class GANDDPStrategy(DDPStrategy):
    strategy_name = "gan_ddp"

    def _setup_model(self, model: nn.Module) -> nn.Module:
        # Same initial weights on every rank even if a family draws its init from a rank-dependent RNG.
        for tensor in [*model.parameters(), *model.buffers()]:
            torch.distributed.broadcast(tensor.data, src=0)
        return model

    def _register_ddp_hooks(self) -> None:
        """No DistributedDataParallel wrapper, so no communication hooks to register."""
