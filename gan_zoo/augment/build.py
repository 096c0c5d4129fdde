"""Build the augmentation of a model from its config: `build_augment` (a Hydra `_target_`).

Modes: `noaug` (no pipe), `fixed` (a pipe with constant p), `ada` (a pipe whose p is steered by an
AdaptiveAugment controller). The conf/augment/*.yaml files all carry the same keys, so a run can
switch with `model.aug.mode=...` as well as by choosing the file.
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

from gan_zoo.augment.adaptive import AdaptiveAugment
from gan_zoo.augment.pipe import AugmentPipe

MODES = ("noaug", "ada", "fixed")


class Augmentation(NamedTuple):
    pipe: AugmentPipe | None  # None: no augmentation
    controller: AdaptiveAugment | None  # None: p stays as configured


def build_augment(
    mode: str = "noaug",  # noaug | ada | fixed
    preset: str = "bgc",  # an ADA pipeline name (see presets.PRESETS)
    p: float = 0.0,  # initial p (ada) or the constant p (fixed)
    target: float = 0.6,  # ada: r_t target
    ada_kimg: float = 500.0,  # ada: kimg for p to move by 1
    interval: int = 4,  # ada: steps between adjustments
    overrides: Mapping[str, Any] | None = None,  # AugmentPipe arguments over the preset, e.g. {"rotate90": 0}
) -> Augmentation:
    if mode not in MODES:
        raise ValueError(f"unknown augmentation mode {mode!r}; choose one of: {', '.join(MODES)}")
    if mode == "noaug":
        return Augmentation(None, None)
    if mode == "fixed" and not p > 0:
        raise ValueError(f"augmentation mode 'fixed' needs a probability p > 0 (got {p}); set model.aug.p")
    pipe = AugmentPipe.from_preset(preset, p=p, **dict(overrides or {}))
    if mode == "fixed":
        return Augmentation(pipe, None)
    return Augmentation(pipe, AdaptiveAugment(pipe, target=target, ada_kimg=ada_kimg, interval=interval))


def augment_from_config(config: Mapping[str, Any] | str | None) -> Augmentation:
    """From a model's `aug` entry: None, a mode name, or a conf/augment mapping (its `_target_` is ignored)."""
    if config is None:
        return Augmentation(None, None)
    if isinstance(config, str):
        return build_augment(mode=config)
    kwargs = {k: v for k, v in dict(config).items() if k != "_target_"}
    return build_augment(**kwargs)
