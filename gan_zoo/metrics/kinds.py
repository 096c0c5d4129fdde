"""What a metric name means (`MetricSpec`), and the extension point for metrics a model family brings
(SPADE's mIoU, StarGAN v2's per-task FID/LPIPS).

The reference metrics (FID, KID, ... PPL) are parsed in `names` and computed in `runner`. A family
metric registers a `MetricKind`: how its names look, how to check that a module and data set can be
evaluated, and how to compute it with the evaluator's shared machinery (extractors, real-stats
cache, DDP sharding, `evaluator.network` to build its own networks once). Registration happens when
the defining module is imported; the modules are listed in `gan_zoo.metrics.__init__` so that
`gan-zoo list`, the callback and `gan-zoo eval` see them. The spec lives here, not in `names`: the
parser and the registered kinds both build specs, and a spec's direction asks the registry, so
`names` imports this module and never the reverse.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MetricSpec:
    name: str  # as the user wrote it
    kind: str  # fid, sfid, rfid, kid, pr, is, ppl, or a family kind (MetricKind.kind)
    num_gen: int  # generated samples (PPL: pairs)
    num_real: int | None  # real images: an exact count, None = all of them ("_full"), 0 = none
    k: int = 3  # precision/recall neighbourhood
    space: str = "w"  # PPL: interpolate in "z" (slerp) or "w" (lerp)
    sampling: str = "end"  # PPL: "full" (t ~ U(0,1)) or "end" (t = 0)
    crop: bool = False  # PPL: StyleGAN v1's face crop
    epsilon: float = 1e-4  # PPL step
    options: tuple[tuple[str, Any], ...] = ()  # family kinds: their own settings as (key, value) pairs

    @property
    def higher_is_better(self) -> bool:
        kind = family_kind(self.kind)
        return kind.higher_is_better if kind is not None else self.kind in ("is", "pr")


@dataclass(frozen=True)
class MetricKind:
    kind: str  # MetricSpec.kind of the names it parses, e.g. "miou"
    pattern: str  # full-match regex of its names, e.g. r"^miou(\d+)(k?)$"
    parse: Callable[[re.Match[str]], MetricSpec]  # the match of `pattern` -> the spec
    check: Callable[[Any, MetricSpec, Any, Any, Any], None]  # (evaluator, spec, module, dataset, device): raise early on what would fail
    compute: Callable[[Any, MetricSpec, Any, Any], tuple[dict[str, float], dict[str, Any]]]  # (evaluator, spec, module, dataset) -> (values, card extras)
    reference: str  # the protocol it follows, for the protocol card
    describe: Callable[[Any, MetricSpec, Any], dict[str, Any]] = lambda evaluator, spec, device: {}  # networks and weights, for the card
    higher_is_better: bool = False  # direction for best-value tracking and checkpoint monitoring
    examples: tuple[str, ...] = ()  # reference names registered for `gan-zoo list`


_KINDS: dict[str, MetricKind] = {}


def register_kind(kind: MetricKind) -> None:
    if kind.kind in _KINDS and _KINDS[kind.kind] is not kind:
        raise ValueError(f"metric kind {kind.kind!r} is registered twice")
    _KINDS[kind.kind] = kind


def family_kind(kind: str) -> MetricKind | None:
    """The registered family metric kind named `kind`; None for the reference kinds."""
    return _KINDS.get(kind)


def parse_family_metric(name: str) -> MetricSpec | None:
    for kind in _KINDS.values():
        if m := re.match(kind.pattern, name):
            return kind.parse(m)
    return None


def family_examples() -> list[str]:
    return [example for kind in _KINDS.values() for example in kind.examples]
