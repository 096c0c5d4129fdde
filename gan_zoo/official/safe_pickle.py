"""Read the authors' pickles without executing anything they contain.

NVlabs' network pickles (stylegan2-ada-pytorch, stylegan3, Projected GAN, StyleGAN-XL) rebuild
their networks by `exec`-ing Python source stored in the file (`torch_utils.persistence`), and the
TF-era pickles (PGGAN, StyleGAN, StyleGAN2) name `dnnlib.tflib.network.Network`. A plain
`pickle.load` of a crafted file runs whatever it names. This unpickler resolves only:

* tensor, storage and array reconstruction (the real functions, storages re-read with
  `torch.load(weights_only=True)`),
* NVlabs' persistence hook, replaced by one that returns a `PersistentRecord` (class name and state;
  the source is kept as text and never executed),
* classes of the modules a network file legitimately names (torch.nn, timm, the official
  repositories' own packages, EasyDict): each becomes an inert `ObjectRecord` holding its state;
  none of their code runs,
* functions those modules name, and dill's rebuilders of functions, code objects, cells and types
  (StyleGAN-XL's `training_loop.py` writes its snapshots with dill 0.3.4, and its discriminator holds
  forward hooks and bound methods, `feature_networks/vit.py`): each becomes an inert `OpaqueRecord`,
  never called,

and refuses every other global with an error that names it.
"""

import collections
import importlib
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_zoo.errors import CheckpointError


class ObjectRecord:
    """An object of a class named by the pickle, kept as data: its class name, args and state."""

    module_name: str = ""  # set on the per-class subclass
    class_name: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs, self.state = args, kwargs, None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    @property
    def qualified_name(self) -> str:
        return f"{self.module_name}.{self.class_name}"

    def __repr__(self) -> str:
        return f"<record of {self.qualified_name}>"


class PersistentRecord:
    """An NVlabs `persistent_class` object: class name, its module's source (text only) and state."""

    def __init__(self, meta: dict[str, Any]) -> None:
        self.class_name: str = str(meta.get("class_name"))
        self.module_src: str = str(meta.get("module_src", ""))
        self.version = meta.get("version")
        self.state: dict[str, Any] = dict(meta.get("state") or {})

    @property
    def init_kwargs(self) -> dict[str, Any]:
        return plain(self.state.get("_init_kwargs", {}))

    def __repr__(self) -> str:
        return f"<persistent record {self.class_name}>"


class EasyDictRecord(dict):
    """dnnlib.EasyDict read as a plain dict with attribute access."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error


# Module prefixes whose classes may appear in network files; they become inert records.
RECORDED_MODULE_PREFIXES = (
    "torch.nn.",
    "torch.ao.nn.",
    "timm.",
    "torch_utils.",
    "training.",
    "pg_modules.",
    "feature_networks.",
    "dnnlib.tflib.",
    "tfutil",
    "networks",
    "core.",
    "models.",
)


class OpaqueRecord:
    """A function, code object, cell or module attribute the pickle names, kept as its name: calling it
    (a REDUCE in the file) gives another inert record, so nothing the file names ever runs."""

    def __init__(self, name: str, args: tuple = ()) -> None:
        self.name, self.args, self.state = name, args, None

    def __call__(self, *args: Any, **kwargs: Any) -> "OpaqueRecord":
        return OpaqueRecord(f"{self.name}(...)", args)

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<opaque {self.name}>"


# dill's module and the one it rebuilds functions with (dill 0.3.4: _create_function, _create_code,
# _create_cell, _load_type, _get_attr, _import_module).
DILL_MODULES = ("dill", "dill._dill")
# torch >= 1.13 wraps load_state_dict pre-hooks (e.g. spectral norm's) in this class.
WRAPPED_HOOK = ("torch.nn.modules.module", "_WrappedHook")


def _load_storage_from_bytes(data: bytes) -> Any:
    # What torch's own `torch.storage._load_from_bytes` does, but weights-only.
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def _reconstruct_persistent(meta: dict[str, Any]) -> PersistentRecord:
    return PersistentRecord(meta)


def _copyreg_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    # protocol-0/1 pickles of plain objects; only our own record types may be built this way
    if isinstance(cls, type) and issubclass(cls, ObjectRecord | EasyDictRecord | collections.OrderedDict):
        obj = cls.__new__(cls)
        if state is not None and isinstance(obj, dict):
            obj.update(state)
        return obj
    raise pickle.UnpicklingError(f"copyreg._reconstructor of {cls!r} is not allowed")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("copyreg", "_reconstructor"): _copyreg_reconstructor,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
    ("torch.storage", "_load_from_bytes"): _load_storage_from_bytes,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("torch.nn.parameter", "Parameter"): torch.nn.Parameter,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent,
    ("dnnlib.util", "EasyDict"): EasyDictRecord,
    ("dnnlib", "EasyDict"): EasyDictRecord,
    ("easydict", "EasyDict"): EasyDictRecord,
}
_multiarray = importlib.import_module("numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray")
for _numpy_core in ("numpy.core.multiarray", "numpy._core.multiarray"):  # numpy 1 and numpy 2 pickles
    _ALLOWED[(_numpy_core, "_reconstruct")] = _multiarray._reconstruct
    _ALLOWED[(_numpy_core, "scalar")] = _multiarray.scalar
_numeric = importlib.import_module("numpy._core.numeric" if hasattr(np, "_core") else "numpy.core.numeric")
for _numpy_core in ("numpy.core.numeric", "numpy._core.numeric"):  # arrays pickled with protocol 5
    _ALLOWED[(_numpy_core, "_frombuffer")] = _numeric._frombuffer
_ALLOWED[("numpy", "ndarray")] = np.ndarray
_ALLOWED[("numpy", "dtype")] = np.dtype
for _name in ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool"):
    _ALLOWED[("torch", f"{_name}Storage")] = getattr(torch, f"{_name}Storage")
for _dtype in ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"):
    _ALLOWED[("torch", _dtype)] = getattr(torch, _dtype)

_record_classes: dict[tuple[str, str], type] = {}


def _record_class(module: str, name: str) -> type:
    key = (module, name)
    if key not in _record_classes:
        _record_classes[key] = type(name, (ObjectRecord,), {"module_name": module, "class_name": name})
    return _record_classes[key]


class RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if (module.startswith(RECORDED_MODULE_PREFIXES) and name[:1].isupper()) or (module, name) == WRAPPED_HOOK:
            return _record_class(module, name)  # a class: kept as an inert record
        if module in DILL_MODULES or module.startswith(RECORDED_MODULE_PREFIXES):
            return OpaqueRecord(f"{module}.{name}")  # a function or attribute: kept as its name, never called
        raise CheckpointError(
            f"{self.source} names {module}.{name}, which gan-zoo does not load from a network file: only tensors, "
            "arrays, NVlabs persistence records and network classes (kept as data, never run) are allowed; "
            "the file is not an official network file or was crafted to run code"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise CheckpointError(f"{self.source} is a torch.save archive, not a pickle; it is read with torch.load(weights_only=True)")


def load_pickle(path: str | os.PathLike) -> Any:
    """The pickle at `path`, with every object of a non-allowed class kept as an inert record."""
    path = Path(path)
    with path.open("rb") as file:
        try:
            return RestrictedUnpickler(file, str(path)).load()
        except CheckpointError:
            raise
        except Exception as error:
            raise CheckpointError(f"{path} cannot be read as a network pickle ({type(error).__name__}: {error})") from error


def plain(value: Any) -> Any:
    """EasyDicts and OrderedDicts as dicts, recursively (for init kwargs)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(plain(v) for v in value)
    return value


def module_state_dict(record: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """The state dict an nn.Module pickled as `record` would return (parameters, persistent buffers)."""
    state = record.state if isinstance(record, PersistentRecord | ObjectRecord) else None
    if not isinstance(state, dict):
        raise CheckpointError(f"{record!r} holds no module state")
    result: dict[str, torch.Tensor] = {}
    for name, tensor in (state.get("_parameters") or {}).items():
        if tensor is not None:
            result[prefix + name] = tensor.detach() if isinstance(tensor, torch.Tensor) else torch.as_tensor(tensor)
    non_persistent = set(state.get("_non_persistent_buffers_set") or ())
    for name, tensor in (state.get("_buffers") or {}).items():
        if tensor is not None and name not in non_persistent:
            result[prefix + name] = tensor
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            result.update(module_state_dict(child, f"{prefix}{name}."))
    return result


def class_name_of(record: Any) -> str:
    if isinstance(record, PersistentRecord):
        return record.class_name
    if isinstance(record, ObjectRecord):
        return record.qualified_name
    return type(record).__name__
