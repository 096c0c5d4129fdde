"""The StyleGAN2 module's link to gan_zoo.augment: build the pipe (and the ADA controller) from
`model.aug` (the mode) and `model.augment` (the settings of a conf/augment file).

The augment package is imported only when a mode other than `noaug` is chosen, so plain StyleGAN2
runs do not depend on it.
"""

from typing import Any

from torch import nn

from gan_zoo.errors import ConfigError

MODES = ("noaug", "ada", "fixed")


def build_augmentation(mode: str, settings: dict[str, Any] | None) -> tuple[nn.Module | None, nn.Module | None]:
    """(AugmentPipe or None, AdaptiveAugment or None) for model.aug=`mode`."""
    if mode not in MODES:
        raise ConfigError(f"model.aug={mode} is not an augmentation mode; choose one of: {', '.join(MODES)}")
    if mode == "noaug":
        return None, None
    kwargs = {k: v for k, v in (settings or {}).items() if k not in ("_target_", "mode")}
    if mode == "fixed" and not float(kwargs.get("p") or 0) > 0:
        raise ConfigError(f"model.aug=fixed needs a constant probability model.augment.p > 0 (got {kwargs.get('p')}); e.g. model.augment.p=0.2")
    from gan_zoo.augment import build_augment  # noqa: PLC0415 - only runs that augment need the package

    pipe, controller = build_augment(mode=mode, **kwargs)
    return pipe, controller
