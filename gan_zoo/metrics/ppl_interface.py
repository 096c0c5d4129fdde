"""What PPL needs from a GANModule: its G_ema split at W into mapping and synthesis.

Two ways to provide it, checked in this order:

1. Module hooks, for a family whose networks do not follow the convention below:

       ppl_z_dim: int                                     # length of z
       def ppl_mapping(self, z, labels) -> Tensor         # z [N, z_dim]; labels int64 [N] or None
           # -> ws [N, num_ws, w_dim] (or [N, w_dim]) from G_ema, no truncation
       def ppl_synthesis(self, ws) -> Tensor              # -> images [N, C, H, W] in [-1, 1] from G_ema

2. The StyleGAN2-ADA convention on `module.G_ema` (what gan-zoo's StyleGAN families implement):
   `G_ema.z_dim`, `G_ema.c_dim` (0: unconditional), `G_ema.mapping(z, c)` with one-hot c, and
   `G_ema.synthesis(ws, noise_mode="const")`.

Noise inputs must be the same for every image of one synthesis call, because both ends of a PPL
pair are synthesised in one call (NVIDIA: noise_mode='const'). As NVIDIA re-randomises the
`noise_const` buffers before every batch, the convention path fills every `*.noise_const` buffer of
`G_ema.synthesis` from the block's seeded generator before the call and puts the stored maps back
afterwards (the model is left as it was; 1 and N processes draw the same noise). A family with
neither interface (PGGAN, SPADE, StarGAN v2) is refused by name.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.errors import MetricNotApplicable


def _has_hooks(module: Any) -> bool:
    return all(hasattr(module, n) for n in ("ppl_z_dim", "ppl_mapping", "ppl_synthesis"))


def _has_split(module: Any) -> bool:
    g = getattr(module, "G_ema", None)
    return g is not None and hasattr(g, "z_dim") and callable(getattr(g, "mapping", None)) and callable(getattr(g, "synthesis", None))


def check_supports_ppl(module: Any, metric: str) -> None:
    if not (_has_hooks(module) or _has_split(module)):
        family = getattr(module, "family", type(module).__name__)
        raise MetricNotApplicable(
            f"metric {metric} needs a generator with a mapping/synthesis split (StyleGAN family), but model "
            f"'{family}' has none; drop {metric} from the metrics list (FID, KID, IS and P/R work for every model)"
        )


class PPLGenerator:
    """The module's G_ema seen through one of the two interfaces above."""

    def __init__(self, module: Any, metric: str) -> None:
        check_supports_ppl(module, metric)
        self.module = module
        self.hooks = _has_hooks(module)
        self.device: torch.device = module.device
        self.z_dim = int(module.ppl_z_dim if self.hooks else module.G_ema.z_dim)

    def mapping(self, z: Tensor, labels: Tensor | None) -> Tensor:
        if self.hooks:
            return self.module.ppl_mapping(z, labels)
        g = self.module.G_ema
        c_dim = int(getattr(g, "c_dim", 0) or 0)
        c = F.one_hot(labels, c_dim).float() if c_dim and labels is not None else None
        return g.mapping(z, c)

    def synthesis(self, ws: Tensor, noise_generator: torch.Generator | None = None) -> Tensor:
        """Images from ws; `noise_generator` (CPU) re-draws the constant noise maps for this call only."""
        if self.hooks:
            return self.module.ppl_synthesis(ws)
        g = self.module.G_ema
        holder = g.synthesis if isinstance(g.synthesis, torch.nn.Module) else g  # where the noise buffers live
        with redrawn_noise(holder, noise_generator):
            return g.synthesis(ws, noise_mode="const")


@contextlib.contextmanager
def redrawn_noise(network: torch.nn.Module, generator: torch.Generator | None) -> Iterator[None]:
    """Fill every `noise_const` buffer with N(0, 1) from `generator` (in named_buffers order), restore on exit."""
    if generator is None:
        yield
        return
    buffers = [buffer for name, buffer in network.named_buffers() if name.rsplit(".", 1)[-1] == "noise_const"]
    stored = [buffer.clone() for buffer in buffers]
    try:
        for buffer in buffers:
            buffer.copy_(torch.randn(buffer.shape, generator=generator, dtype=torch.float32).to(buffer))
        yield
    finally:
        for buffer, original in zip(buffers, stored, strict=True):
            buffer.copy_(original)
