"""What an official file becomes: a gan-zoo family, its constructor arguments and its state dict."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gan_zoo.errors import CheckpointError

IMPORTED_EXPERIMENT_PREFIX = "import:"  # the `experiment` recorded in a checkpoint made from an official file


@dataclass
class ImportedNetworks:
    family: str  # gan-zoo family name (model=<family>)
    model_target: str  # the GANModule class, as `_target_` in conf/model
    hyper_parameters: dict[str, Any]  # its constructor arguments, as a training config would give them
    state_dict: dict[str, torch.Tensor]  # official tensors under gan-zoo keys (G, D, G_ema, ...)
    source_format: str  # e.g. "nvlabs-pytorch-stylegan2"
    networks: tuple[str, ...] = ("G", "D", "G_ema")  # prefixes the file provided; each must load key for key
    notes: list[str] = field(default_factory=list)  # what the user should know (defaults assumed, parts absent)
    data: dict[str, Any] = field(default_factory=dict)  # what the file says of its training data (resolution, labels)
    record: dict[str, Any] = field(default_factory=dict)  # entries of the gan-zoo record the family reads back (StarGAN v2: domain_names)


def require(condition: bool, source: Path | str, message: str) -> None:
    """Refuse a file whose architecture gan-zoo does not have, with a sentence naming the setting."""
    if not condition:
        raise CheckpointError(f"{source}: {message}")


def imported_networks(
    family: str,
    model_target: str,
    hyper_parameters: dict[str, Any],
    state_dict: dict[str, torch.Tensor],
    source_format: str,
    networks: tuple[str, ...],
    notes: list[str],
    snapshot: dict[str, Any] | None = None,
) -> ImportedNetworks:
    """The import of a GAN file whose `data` is what G was built for (resolution, classes).

    `snapshot`: the dict a training_loop.py snapshot pickles (NVlabs, Projected GAN, StyleGAN-XL); its
    `training_set_kwargs` also name the data set's path, which the TF pickles do not record.
    """
    data: dict[str, Any] = {"resolution": hyper_parameters["resolution"], "num_classes": hyper_parameters["num_classes"]}
    if snapshot is not None:
        data["path"] = (snapshot.get("training_set_kwargs") or {}).get("path")
    return ImportedNetworks(
        family=family,
        model_target=model_target,
        hyper_parameters=hyper_parameters,
        state_dict=state_dict,
        source_format=source_format,
        networks=networks,
        notes=notes,
        data=data,
    )
