"""The metric registry: what a metric name means (`MetricSpec`) and `@register_metric`, the one way a
metric joins gan-zoo (after NVlabs stylegan3 `metrics/metric_main.py`'s `register_metric`).

A metric kind is its compute function, decorated where it is defined, the function's name being the
kind (`fid`, `kid`, `ppl`, SPADE's `miou`, ...). The decorator says how the kind's names look (a
full-match regex and the parse of its match, since names carry counts: fid50k_full, fid2k, kid500),
how to check early that a module and data set can be evaluated, what goes on the protocol card, and
the reference names `gan-zoo list` shows. `MetricEvaluator` (runner) only dispatches to the kinds;
it gives them the shared machinery (extractors, real-statistics cache, DDP sharding, `network()` to
build their own networks once). The modules holding registrations are imported by
`gan_zoo.metrics.__init__`, so the callback, `gan-zoo eval` and `gan-zoo list` all see them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gan_zoo.errors import MetricError

Compute = Callable[[Any, "MetricSpec", Any, Any], tuple[dict[str, float], dict[str, Any]]]


@dataclass(frozen=True)
class MetricSpec:
    name: str  # as the user wrote it
    kind: str  # the registered kind that parsed it: fid, sfid, rfid, kid, pr, is, ppl, miou, ...
    num_gen: int  # generated samples (PPL: pairs)
    num_real: int | None  # real images: an exact count, None = all of them ("_full"), 0 = none
    k: int = 3  # precision/recall neighbourhood
    space: str = "w"  # PPL: interpolate in "z" (slerp) or "w" (lerp)
    sampling: str = "end"  # PPL: "full" (t ~ U(0,1)) or "end" (t = 0)
    crop: bool = False  # PPL: StyleGAN v1's face crop
    epsilon: float = 1e-4  # PPL step
    options: tuple[tuple[str, Any], ...] = ()  # a kind's own settings as (key, value) pairs
    num_real_is_cap: bool = False  # num_real is an upper bound: fewer reals are all used (pr50k3_full)

    @property
    def higher_is_better(self) -> bool:
        return metric_kind(self.kind).higher_is_better


def _no_check(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any, device: Any) -> None:
    return None


def _no_description(evaluator: Any, spec: MetricSpec, device: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class MetricKind:
    kind: str  # MetricSpec.kind of the names it parses, e.g. "miou"
    pattern: str  # full-match regex of its names, e.g. r"^miou(\d+)(k?)$"
    parse: Callable[[re.Match[str]], MetricSpec]  # the match of `pattern` -> the spec
    compute: Compute  # (evaluator, spec, module, dataset) -> (values, card extras)
    reference: str  # the protocol it follows, for the protocol card
    check: Callable[[Any, MetricSpec, Any, Any, Any], None] = _no_check  # (evaluator, spec, module, dataset, device): raise early
    describe: Callable[[Any, MetricSpec, Any], dict[str, Any]] = _no_description  # networks and weights, for the card
    higher_is_better: bool = False  # direction for best-value tracking and checkpoint monitoring
    examples: tuple[str, ...] = ()  # reference names, listed by `gan-zoo list`
    features: tuple[str, str] | None = None  # (reference extractor, layer) whose fake features it uses: shared between kinds
    real_side: str | None = None  # "stats" | "features": what of the reals it compares with (cached on disk); None: no cached reals


_KINDS: dict[str, MetricKind] = {}


def register_metric(
    pattern: str,  # full-match regex of the kind's names
    parse: Callable[[re.Match[str]], MetricSpec],  # the match -> the spec
    reference: str,  # the protocol it follows (paper, official file), for the protocol card
    check: Callable[[Any, MetricSpec, Any, Any, Any], None] = _no_check,
    describe: Callable[[Any, MetricSpec, Any], dict[str, Any]] = _no_description,
    higher_is_better: bool = False,
    examples: tuple[str, ...] = (),
    features: tuple[str, str] | None = None,
    real_side: str | None = None,
    kind: str | None = None,  # the kind's name when the function's cannot be it (`is` is a Python keyword)
) -> Callable[[Compute], Compute]:
    """Decorator: register the compute function as the metric kind of the same name."""

    def decorator(compute: Compute) -> Compute:
        name = kind or compute.__name__
        if name in _KINDS:
            raise ValueError(f"metric kind {name!r} is registered twice")
        _KINDS[name] = MetricKind(name, pattern, parse, compute, reference, check, describe, higher_is_better, examples, features, real_side)
        return compute

    return decorator


def metric_kind(kind: str) -> MetricKind:
    return _KINDS[kind]


def registered_examples() -> list[str]:
    return [example for kind in _KINDS.values() for example in kind.examples]


def parse_metric(name: str) -> MetricSpec:
    """The spec of a metric name, from the first registered kind whose pattern matches it."""
    name = str(name).strip()
    for kind in _KINDS.values():
        if m := re.match(kind.pattern, name):
            return kind.parse(m)
    raise MetricError(f"unknown metric name {name!r}; use e.g. {', '.join(registered_examples())} (gan-zoo list shows the registered names)")
