"""Checkpoint files, below every command and family: written whole, read without running code, rebuilt.

* `atomic_save`: Lightning's own writer streams into the final file name, so a crash or SIGKILL
  mid-write leaves a truncated `last.ckpt`. Here the bytes go to a temporary file in the same
  directory, are fsynced, and replace the target with `os.replace` (atomic on POSIX): a reader,
  or a second writer (DDP ranks of two runs sharing a metrics cache), only ever sees a whole file.
* `load_checkpoint_file`: `torch.load(weights_only=True)`, refusals worded for the user.
* `pick_device`: the device a command loads its module onto, from the user's `device=`.
* `module_from_checkpoint`: the trained module from a checkpoint already read, so generate, eval
  and the official-file loader read each file once. The architecture comes from the hyperparameters
  Lightning stores in every checkpoint, the class from the gan-zoo record's `model_target`.
"""

import os
import tempfile
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class

from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.models.base import foreign_arguments
from gan_zoo.training.checkpoint_version import upgrade_checkpoint


def atomic_save(payload: Any, path: str | os.PathLike) -> None:
    """torch.save `payload` to `path`, which holds either its previous contents or all of the new ones."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_checkpoint_file(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; check the path (ckpt_path=last picks the newest in the run directory)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:
        raise CheckpointError(
            f"checkpoint {path} cannot be read as a weights-only checkpoint ({error}); it may be truncated or not a gan-zoo checkpoint"
        ) from error


def pick_device(name: str) -> torch.device:
    """`device=auto|cpu|cuda[:N]`: auto takes CUDA when one is visible."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={name}, but no CUDA device is visible; use device=cpu or device=auto")
    return torch.device(name)


def load_module(path: str | os.PathLike, device: torch.device) -> tuple[L.LightningModule, dict[str, Any]]:
    """(the GANModule in eval mode on `device`, the checkpoint's gan-zoo record) from a checkpoint file alone."""
    path = Path(path).expanduser().resolve()
    return module_from_checkpoint(load_checkpoint_file(path), path, device)


def module_from_checkpoint(checkpoint: dict[str, Any], path: Path, device: torch.device) -> tuple[L.LightningModule, dict[str, Any]]:
    """load_module for a checkpoint already read from `path` (named in errors)."""
    record = checkpoint.get("gan_zoo")
    if record is None or "model_target" not in record or "hyper_parameters" not in checkpoint:
        raise CheckpointError(f"{path} is not a gan-zoo training checkpoint (no 'gan_zoo' record or hyperparameters)")
    try:
        module_class = get_class(record["model_target"])
    except Exception as error:
        raise CheckpointError(f"{path} was written by {record['model_target']}, which this gan-zoo version does not have ({error})") from error
    hparams = dict(checkpoint["hyper_parameters"])
    for key in foreign_arguments(module_class, hparams):  # older StyleGAN3 checkpoints also kept StyleGAN2's lr, auto, auto_gpus
        del hparams[key]
    try:
        module = module_class(**hparams)
    except TypeError as error:
        raise CheckpointError(
            f"{path}: its hyperparameters do not build {record['model_target']} of this gan-zoo version ({error}); use the gan-zoo version that trained it"
        ) from error
    upgrade_checkpoint(checkpoint, module)  # older formats store some tensors differently
    missing, unexpected = module.load_state_dict(checkpoint["state_dict"], strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not match the {record.get('family')} networks of this gan-zoo version "
            f"(missing {missing[:3]}..., unexpected {unexpected[:3]}...); use the gan-zoo version that trained it"
        )
    module.run_identity = {k: record.get(k) for k in ("experiment", "model_target")}
    module.restore_record(record)
    return module.to(device).eval(), record
