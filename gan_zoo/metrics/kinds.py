"""Extension point for metrics a model family brings (SPADE's mIoU, StarGAN v2's per-task FID/LPIPS).

The reference metrics (FID, KID, ... PPL) are parsed in `names` and computed in `runner`. A family
metric registers a `MetricKind`: how its names look, how to check that a module and data set can be
evaluated, and how to compute it with the evaluator's shared machinery (extractors, real-stats
cache, DDP sharding). Registration happens when the defining module is imported; the modules are
listed in `gan_zoo.metrics.__init__` so that `gan-zoo list`, the callback and `gan-zoo eval` see them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gan_zoo.metrics.names import MetricSpec


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
