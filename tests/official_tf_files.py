"""Write the TF-era NVlabs pickles (PGGAN, StyleGAN, StyleGAN2) from numpy arrays (no official code).

Each released file is `pickle.dump((G, D, Gs))` of TensorFlow `Network` objects, which pickle as
the dict their `__getstate__` returns (tkarras/progressive_growing_of_gans `tfutil.py`: version 2;
NVlabs/stylegan and stylegan2 `dnnlib/tflib/network.py`: versions 3 and 4 with `components`).
A stand-in class whose `__getstate__` returns that dict is written under the official module and
class name by registering stand-in modules in `sys.modules` only while pickling.
"""

import contextlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from tests.official_files import stand_in_modules

DNNLIB = "dnnlib.tflib.network"  # StyleGAN, StyleGAN2
TFUTIL = "tfutil"  # PGGAN
SOURCE_THAT_MUST_NOT_RUN = "open('EXECUTED', 'w')\n"  # stand-in for build_module_src: read as text only


class _StandInNetwork:
    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    def __getstate__(self) -> dict[str, Any]:
        return self._state


_CLASSES = {module: type("Network", (_StandInNetwork,), {"__module__": module, "__qualname__": "Network"}) for module in (DNNLIB, TFUTIL)}


def tf_globals() -> contextlib.AbstractContextManager[None]:
    return stand_in_modules({"dnnlib": None, "dnnlib.tflib": None, DNNLIB: {"Network": _CLASSES[DNNLIB]}, TFUTIL: {"Network": _CLASSES[TFUTIL]}})


def tf_network(
    module: str,
    name: str,
    build_func_name: str,
    static_kwargs: dict[str, Any],
    variables: dict[str, Any],
    components: dict[str, Any] | None = None,
    version: int | None = None,
) -> _StandInNetwork:
    """A Network of `module` ("dnnlib.tflib.network" or "tfutil") pickled as its __getstate__ dict."""
    state: dict[str, Any] = {
        "version": version if version is not None else (2 if module == TFUTIL else 4),
        "name": name,
        "static_kwargs": dict(static_kwargs),
        "build_module_src": SOURCE_THAT_MUST_NOT_RUN,
        "build_func_name": build_func_name,
        "variables": [(k, np.asarray(v, dtype=np.float32)) for k, v in variables.items()],
    }
    if module == DNNLIB:
        state["components"] = dict(components or {})
    return _CLASSES[module](state)


def write_tf_pickle(path: Path, networks: tuple[Any, Any, Any]) -> Path:
    """(G, D, Gs) as the official training loops pickle them: `pickle.HIGHEST_PROTOCOL` of the Python 3.6
    they ran on, 4 (protocol 5 would pickle the arrays through numpy's `_frombuffer`)."""
    with tf_globals(), path.open("wb") as file:
        pickle.dump(tuple(networks), file, protocol=4)
    return path
