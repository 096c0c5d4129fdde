"""Rebuild a trained GANModule from a gan-zoo checkpoint alone (no config, no data set)."""

from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class

from gan_zoo.errors import CheckpointError
from gan_zoo.models.base import GANModule
from gan_zoo.training.checkpoint_io import load_checkpoint_file
from gan_zoo.training.checkpoint_version import upgrade_checkpoint


def load_module(path: str | Path, device: torch.device) -> tuple[GANModule, dict[str, Any]]:
    """(the module in eval mode on `device`, the checkpoint's gan-zoo record).

    The architecture comes from the hyperparameters Lightning stores in every checkpoint, the class
    from the record's `model_target`, so any checkpoint of any run can be used from any directory.
    """
    path = Path(path).expanduser().resolve()
    return module_from_checkpoint(load_checkpoint_file(path), path, device)


def module_from_checkpoint(checkpoint: dict[str, Any], path: Path, device: torch.device) -> tuple[GANModule, dict[str, Any]]:
    """load_module for a checkpoint already read from `path` (named in errors)."""
    record = checkpoint.get("gan_zoo")
    if record is None or "model_target" not in record or "hyper_parameters" not in checkpoint:
        raise CheckpointError(f"{path} is not a gan-zoo training checkpoint (no 'gan_zoo' record or hyperparameters)")
    try:
        module_class = get_class(record["model_target"])
    except Exception as error:
        raise CheckpointError(f"{path} was written by {record['model_target']}, which this gan-zoo version does not have ({error})") from error
    module: GANModule = module_class(**checkpoint["hyper_parameters"])
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
