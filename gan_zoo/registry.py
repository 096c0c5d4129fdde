"""Registry of model families and metrics: `register_model`, `list_models`, `model_class`.

Model families register their GANModule subclass under the name used by `model=<name>`; the config
tree and the registry must agree (a test checks it). Metrics register their names when
`gan_zoo.metrics` is imported (`gan-zoo list` shows them).
"""

import importlib
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_MODELS: dict[str, type] = {}
_METRICS: dict[str, object] = {}

# Modules whose import registers something; imported lazily so `import gan_zoo` stays light.
_REGISTERING_MODULES = (
    "gan_zoo.models.pggan.module",
    "gan_zoo.models.stylegan.module",
    "gan_zoo.models.stylegan2.module",
    "gan_zoo.models.stylegan3.module",
    "gan_zoo.models.spade.module",
    "gan_zoo.models.stargan_v2.module",
    "gan_zoo.models.projected_gan.module",
    "gan_zoo.models.stylegan_xl.module",
    "gan_zoo.metrics",
)


def register_model(name: str) -> Callable[[type[T]], type[T]]:
    def decorator(cls: type[T]) -> type[T]:
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is registered twice ({_MODELS[name].__qualname__} and {cls.__qualname__})")
        _MODELS[name] = cls
        cls.family = name  # type: ignore[attr-defined]
        return cls

    return decorator


def register_metric(name: str, metric: object) -> None:
    _METRICS[name] = metric


def _load_all() -> None:
    for module in _REGISTERING_MODULES:
        importlib.import_module(module)


def list_models() -> list[str]:
    _load_all()
    return sorted(_MODELS)


def list_metrics() -> list[str]:
    _load_all()
    return sorted(_METRICS)


def model_class(name: str) -> type:
    _load_all()
    if name not in _MODELS:
        raise KeyError(f"no model family named {name!r}; registered: {', '.join(sorted(_MODELS))}")
    return _MODELS[name]
