"""Write files in the authors' released formats, from networks the tests build (no official code).

NVlabs' PyTorch pickles (`torch_utils.persistence`): every network object is pickled as a call of
`torch_utils.persistence._reconstruct_persistent_obj(meta)` with meta = {type, version, module_src,
class_name, state}; state is the module's `__dict__` (`_parameters`, `_buffers`, `_modules`,
`_non_persistent_buffers_set`, `_init_kwargs`, ...); submodules are nested the same way; kwargs
are `dnnlib.util.EasyDict`s. The globals are written under those names by registering stand-in
modules in `sys.modules` only while pickling.

Projected GAN and StyleGAN-XL also pickle plain nn.Module objects (their FastGAN generator and the
projected discriminator): a class global, then the object's `__dict__`. `official_module` writes a
network that way, or as persistence records, module by module.
"""

import collections
import contextlib
import pickle
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn


def _reconstruct_persistent_obj(meta: dict) -> Any:  # never called: the reader replaces it
    raise AssertionError("the official persistence hook must never run")


class EasyDict(dict):
    pass


@contextlib.contextmanager
def stand_in_modules(members: dict[str, dict[str, Any] | None]) -> Iterator[None]:
    """While inside, `sys.modules[name]` is a module holding `members[name]`, each object renamed to
    `name.attr`, so pickle writes it as that global; the real modules (if any) are restored after."""
    saved = {name: sys.modules.get(name) for name in members}
    try:
        for name, attributes in members.items():
            module = types.ModuleType(name)
            for attr, value in (attributes or {}).items():
                value.__module__ = name
                value.__qualname__ = attr
                setattr(module, attr, value)
            sys.modules[name] = module
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def official_globals() -> contextlib.AbstractContextManager[None]:
    """Make pickle write our stand-ins as `torch_utils.persistence...` and `dnnlib.util.EasyDict`."""
    return stand_in_modules(
        {
            "torch_utils": None,
            "torch_utils.persistence": {"_reconstruct_persistent_obj": _reconstruct_persistent_obj},
            "dnnlib": None,
            "dnnlib.util": {"EasyDict": EasyDict},
        }
    )


def easy(value: Any) -> Any:
    if isinstance(value, dict):
        return EasyDict({k: easy(v) for k, v in value.items()})
    return value


class PersistentObject:
    """Pickles as an NVlabs persistence record of `class_name` with `state`."""

    def __init__(self, class_name: str, module_src: str, state: dict[str, Any]) -> None:
        self.meta = {"type": "class", "version": 6, "module_src": module_src, "class_name": class_name, "state": state}

    def __reduce__(self) -> tuple:
        return (_reconstruct_persistent_obj, (self.meta,))


def persistent_module(
    module: nn.Module, class_name: str, module_src: str, init_kwargs: dict[str, Any] | None = None, child_class_names: dict[str, str] | None = None
) -> PersistentObject:
    """`module`'s tree as persistence records (parameters, persistent buffers, children)."""
    non_persistent = set(module._non_persistent_buffers_set)
    children = collections.OrderedDict()
    for name, child in module.named_children():
        child_name = (child_class_names or {}).get(type(child).__name__, type(child).__name__)
        children[name] = persistent_module(child, child_name, module_src, child_class_names=child_class_names)
    state = {
        "training": False,
        "_parameters": collections.OrderedDict(
            (k, nn.Parameter(v.detach().clone(), requires_grad=False)) for k, v in module._parameters.items() if v is not None
        ),
        "_buffers": collections.OrderedDict((k, v.detach().clone()) for k, v in module._buffers.items() if v is not None),
        "_non_persistent_buffers_set": non_persistent,
        "_modules": children,
        "_init_args": (),
        "_init_kwargs": easy(init_kwargs or {}),
    }
    return PersistentObject(class_name, module_src, state)


def write_pickle(path: Path, data: Any) -> Path:
    with official_globals(), path.open("wb") as file:
        pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL)
    return path


class Crafted:
    """Pickles as a call of `target(*args)`: what a malicious file does."""

    def __init__(self, target: Any, *args: Any) -> None:
        self.target, self.args = target, args

    def __reduce__(self) -> tuple:
        return (self.target, self.args)


# ---- plain nn.Module objects and per-module records (Projected GAN, StyleGAN-XL) ----------------------


@dataclass(frozen=True)
class OfficialClass:
    """How one module of a test network is written: the official class, and what its object holds."""

    name: str  # qualified class name of a plain module ("pg_modules.networks_fastgan.Generator"); the class name of a record
    module_src: str | None = None  # set: an NVlabs persistence record with this source; None: a plain pickled object
    init_kwargs: dict[str, Any] | None = None  # persistence records: `_init_kwargs`
    attributes: dict[str, Any] | None = None  # the object's other `__dict__` entries (z_dim, layer_names, ...)


_stand_ins: dict[str, type] = {}


def _stand_in(qualified_name: str) -> type:
    """A class that pickles under `qualified_name` without that module existing here."""
    if qualified_name not in _stand_ins:
        _stand_ins[qualified_name] = type(qualified_name.rpartition(".")[2], (), {"official_name": qualified_name})
    return _stand_ins[qualified_name]


class _OfficialPickler(pickle._Pickler):  # the Python pickler: its save_global can be overridden
    def save_global(self, obj: Any, name: str | None = None) -> None:
        official = obj.__dict__.get("official_name") if isinstance(obj, type) else None
        if official is None:
            super().save_global(obj, name)
            return
        module, _, class_name = official.rpartition(".")
        self.write(pickle.GLOBAL + f"{module}\n{class_name}\n".encode())
        self.memoize(obj)


def official_module(module: nn.Module, describe: Callable[[str, nn.Module], OfficialClass], path: str = "") -> Any:
    """`module`'s tree as the official code pickles it: each sub-module (dotted `path`) as `describe` says,
    with its parameters, persistent buffers and children (the official state-dict names)."""
    spec = describe(path, module)
    children = collections.OrderedDict((name, official_module(child, describe, f"{path}.{name}" if path else name)) for name, child in module.named_children())
    state: dict[str, Any] = {
        "training": False,
        "_parameters": collections.OrderedDict(
            (k, nn.Parameter(v.detach().clone(), requires_grad=False)) for k, v in module._parameters.items() if v is not None
        ),
        "_buffers": collections.OrderedDict((k, v.detach().clone()) for k, v in module._buffers.items() if v is not None),
        "_non_persistent_buffers_set": set(module._non_persistent_buffers_set),
        "_modules": children,
        **(spec.attributes or {}),
    }
    if spec.module_src is not None:
        return PersistentObject(spec.name, spec.module_src, {**state, "_init_args": (), "_init_kwargs": easy(spec.init_kwargs or {})})
    obj = _stand_in(spec.name).__new__(_stand_in(spec.name))
    obj.__dict__.update(state)
    return obj


def write_official_pickle(path: Path, data: Any) -> Path:
    """Like write_pickle, for data holding `official_module` objects of plain classes too."""
    with official_globals(), path.open("wb") as file:
        _OfficialPickler(file, protocol=4).dump(data)
    return path
