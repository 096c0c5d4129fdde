"""The TF-era NVlabs pickles read as data: a tuple (G, D, Gs) of TensorFlow `Network` objects.

PGGAN (`tfutil.Network`), StyleGAN and StyleGAN2 (`dnnlib.tflib.network.Network`) pickle each
network as the dict its `__getstate__` returns (tkarras/progressive_growing_of_gans `tfutil.py`,
NVlabs/stylegan and NVlabs/stylegan2 `dnnlib/tflib/network.py`):

* version 2 (PGGAN): name, static_kwargs, build_module_src, build_func_name, variables = every
  variable of the network as (local name, numpy array);
* versions 3 and 4 (StyleGAN, StyleGAN2): the same plus `components` (sub-networks such as
  `mapping` and `synthesis`, pickled the same way), and `variables` holds only the network's own.

The restricted unpickler keeps each `Network` as an inert record whose `.state` is that dict; the
module source is never run. Here the records become `TFNetwork`s: the build function's name, its
static kwargs and every variable under the name stylegan2-ada-pytorch's `legacy.py` gives it
(`<component>/<local name>`). The converters read them through `Variables` and `Settings`, which
remember what was read, so a file with a layer or a setting the converter does not know is refused
with a sentence instead of being imported without it (`Unsupported`; the converters leave out a D
that gan-zoo cannot hold, with a note, since generation and evaluation need only G and Gs).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_zoo.errors import CheckpointError
from gan_zoo.official.safe_pickle import ObjectRecord, plain

DNNLIB_NETWORK = "dnnlib.tflib.network.Network"  # StyleGAN, StyleGAN2 (and StyleGAN2-ADA's TF version)
TFUTIL_NETWORK = "tfutil.Network"  # PGGAN
# The state versions each class's __setstate__ accepts.
SUPPORTED_VERSIONS = {DNNLIB_NETWORK: (2, 3, 4), TFUTIL_NETWORK: (2,)}
ROLES = ("G", "D", "Gs")  # the order of the pickled tuple (training_loop.py: pickle.dump((G, D, Gs)))


@dataclass
class TFNetwork:
    role: str  # "G", "D" or "Gs": its place in the pickle, for messages
    build_func_name: str  # e.g. "G_style"; components have their own (e.g. "G_synthesis")
    static_kwargs: dict[str, Any]  # the constructor's keyword arguments, as the build function got them
    version: int  # Network state version
    variables: dict[str, np.ndarray]  # own and components' variables, "<component>/<local name>"
    components: dict[str, "TFNetwork"] = field(default_factory=dict)


def is_tf_pickle(data: Any, class_name: str) -> bool:
    """Whether `data` is the (G, D, Gs) tuple of TF Network records of `class_name`."""
    return isinstance(data, tuple) and len(data) == 3 and all(isinstance(net, ObjectRecord) and net.qualified_name == class_name for net in data)


def build_func_name(record: ObjectRecord) -> str:
    state = record.state if isinstance(record.state, dict) else {}
    return str(state.get("build_func_name", ""))


def read_network(record: ObjectRecord, role: str, source: Path) -> TFNetwork:
    """One pickled Network (and its components) as a TFNetwork; refused when its state is not one we know."""
    state = record.state
    if not isinstance(state, dict):
        raise CheckpointError(f"{source}: its {role} is a {record.qualified_name} without a pickled state; the file is incomplete")
    for key in ("version", "build_func_name", "variables"):
        if key not in state:
            raise CheckpointError(
                f"{source}: its {role} network state has no {key!r}; the official TF code always writes one, so the file is incomplete or was not written by it"
            )
    version = state["version"]
    supported = SUPPORTED_VERSIONS[record.qualified_name]
    if version not in supported:
        raise CheckpointError(
            f"{source}: its {role} has {record.qualified_name} state version {version}; gan-zoo reads the versions the official code writes: {list(supported)}"
        )
    variables: dict[str, np.ndarray] = {}
    for name, value in state["variables"]:
        if not isinstance(value, np.ndarray | np.generic | float | int):
            raise CheckpointError(f"{source}: variable {name!r} of its {role} is a {type(value).__name__}, not an array")
        variables[str(name)] = np.asarray(value)
    components: dict[str, TFNetwork] = {}
    for name, component in (state.get("components") or {}).items():
        if not isinstance(component, ObjectRecord):
            raise CheckpointError(f"{source}: component {name!r} of its {role} is not a TF Network")
        components[name] = read_network(component, f"{role}/{name}", source)
        variables.update({f"{name}/{key}": value for key, value in components[name].variables.items()})
    kwargs = plain(dict(state.get("static_kwargs") or {}))
    return TFNetwork(role, str(state["build_func_name"]), kwargs, int(version), variables, components)


def read_tf_pickle(data: tuple, source: Path) -> tuple[TFNetwork, TFNetwork, TFNetwork]:
    g, d, gs = (read_network(record, role, source) for record, role in zip(data, ROLES))
    return g, d, gs


class Unsupported(CheckpointError):
    """The file's network has a setting or layer gan-zoo's network does not have."""


class Variables:
    """A network's variables by TF name; remembers which were read so that unread ones can be refused."""

    def __init__(self, network: TFNetwork, source: Path) -> None:
        self.network, self.source = network, source
        self.read: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.network.variables

    def __call__(self, name: str) -> np.ndarray:
        if name not in self.network.variables:
            raise CheckpointError(
                f"{self.source}: its {self.network.role} ({self.network.build_func_name}) has no variable {name!r}, "
                "which the architecture its settings describe has; the file is incomplete or of another architecture"
            )
        self.read.add(name)
        return self.network.variables[name]

    def ignore(self, *names: str) -> None:
        """Variables that hold nothing gan-zoo's network keeps (e.g. D's `lod`)."""
        self.read.update(n for n in names if n in self.network.variables)

    def require_all_read(self, what: str) -> None:
        unread = sorted(set(self.network.variables) - self.read)
        if unread:
            raise Unsupported(
                f"{self.source}: its {self.network.role} has variables gan-zoo's {what} has no place for "
                f"({', '.join(unread[:5])}{', ...' if len(unread) > 5 else ''}): a layer this converter does not know"
            )


class Settings:
    """The static kwargs of a network, read as legacy.py's `kwarg()`: each with the build function's
    default. Only the top-level network's: G_style and G_main pass theirs on to their components, so
    a component's copy says nothing more."""

    def __init__(self, network: TFNetwork, source: Path) -> None:
        self.network, self.source = network, source
        self.kwargs: dict[str, Any] = dict(network.static_kwargs)
        self.known: set[str] = set()

    def __call__(self, name: str, default: Any = None) -> Any:
        self.known.add(name)
        return self.kwargs.get(name, default)

    def require(self, name: str, default: Any, allowed: Iterable[Any] | Callable[[Any], bool], why: str) -> Any:
        """The setting, refused with a sentence when gan-zoo's network does not have its value."""
        value = self(name, default)
        ok = allowed(value) if callable(allowed) else value in tuple(allowed)
        if not ok:
            raise Unsupported(f"{self.source}: its {self.network.role} ({self.network.build_func_name}) was built with {name}={value!r}; {why}")
        return value

    def ignore(self, *names: str) -> None:
        """Settings that change neither the weights nor the function (dtype, graph structure, ...)."""
        self.known.update(names)

    def unknown(self) -> list[str]:
        return sorted(set(self.kwargs) - self.known)


def discriminator_settings_for(net: TFNetwork, source: Path, build_func: str, family: str, generator: dict[str, Any]) -> Settings:
    """D's settings, refused (`Unsupported`, so the converter leaves D out) unless D is `build_func`'s and
    built for the data G was built for: gan-zoo's module builds both from one resolution, channel count
    and label count."""
    if net.build_func_name != build_func:
        raise Unsupported(f"{source}: its D is {net.build_func_name}; gan-zoo's {family} discriminator is {build_func}")
    s = Settings(net, source)
    require_same_data(s, generator, family)
    return s


def require_same_data(s: Settings, generator: dict[str, Any], family: str) -> None:
    """Refuse a D whose resolution, channels or labels are not G's (`generator`: the module arguments read from G)."""
    for name, value in (("resolution", generator["resolution"]), ("num_channels", generator["num_channels"]), ("label_size", generator["num_classes"])):
        s.require(name, value, (value,), f"gan-zoo's {family} builds G and D for the same data (G has {name}={value})")


def fmap_settings(s: Settings) -> dict[str, Any]:
    """The channel counts of PGGAN's and StyleGAN's G and D, with the defaults both official codes give
    their nf(stage) = min(fmap_base / 2**(stage * fmap_decay), fmap_max)."""
    return {"fmap_base": int(s("fmap_base", 8192)), "fmap_decay": float(s("fmap_decay", 1.0)), "fmap_max": int(s("fmap_max", 512))}


def networks_with_discriminator(convert_discriminator: Callable[[], None], notes: list[str]) -> tuple[str, ...]:
    """The networks an import provides: D too when `convert_discriminator` (which adds D's settings and
    tensors) accepts it. A D gan-zoo cannot hold is left out with a note rather than refusing the file,
    since generation and evaluation need only G and G_ema."""
    try:
        convert_discriminator()
    except Unsupported as error:
        notes.append(f"D is freshly initialised (generate and eval are unaffected; fine-tuning starts D anew): {error}")
        return ("G", "G_ema")
    return ("G", "D", "G_ema")


def tensor(value: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(value, dtype=np.float32, order="C"))  # a copy; 0-d stays 0-d


# TF layouts -> PyTorch layouts. TF stores dense weights [in, out] and conv2d filters
# [kh, kw, in, out]; torch wants [out, in] and [out, in, kh, kw]. Both apply the equalised-lr
# factor at run time (stored N(0, 1/lrmul^2) weights, bias x lrmul), so values copy unscaled.


def dense_weight(w: np.ndarray) -> torch.Tensor:
    return tensor(w.T)


def conv_weight(w: np.ndarray) -> torch.Tensor:
    return tensor(w.transpose(3, 2, 0, 1))


def flipped_conv_weight(w: np.ndarray) -> torch.Tensor:
    """The [kh, kw, in, out] filter of an up-sampling convolution that the official code correlates
    the other way round from gan-zoo's: a filter given to a transposed convolution unflipped acts as
    its 180-degree rotation would in a plain convolution of the up-sampled input. StyleGAN2: the TF
    op flips the filter, the official PyTorch op (gan-zoo's) does not, hence legacy.py's
    `[::-1, ::-1]` for Conv0_up. PGGAN and StyleGAN: the fused TF op does not flip, gan-zoo's
    up-convolution equals nearest up-sampling followed by a plain convolution."""
    return tensor(w[::-1, ::-1].transpose(3, 2, 0, 1))
