"""Build the pieces of a run from the composed config: module, datamodule, loggers, callbacks.

Shared by `gan-zoo train`, `gan-zoo summary` and the benchmarks, so that all three see the same
networks for the same overrides.
"""

import inspect
import re
from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationKeyError

from gan_zoo.config_errors import dotted_keys, unknown_key
from gan_zoo.errors import ConfigError
from gan_zoo.models.base import GANModule


def preset_name(cfg: DictConfig) -> str | None:
    """The experiment preset chosen on the command line (e.g. "smoke/pggan"), None without one."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        choice = HydraConfig.get().runtime.choices.get("experiment")
        return None if choice in (None, "null") else str(choice)
    return cfg.get("experiment_name")


def _options(group: str) -> list[str]:
    from gan_zoo.config_dir import CONFIG_DIR

    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def build_module(cfg: DictConfig) -> GANModule:
    """The family's GANModule from `cfg.model`, configured with the run-level settings."""
    if cfg.get("model") is None:
        raise ConfigError(f"no model chosen: pass model=<name> (one of: {', '.join(_options('model'))}) or experiment=<preset> (gan-zoo list shows them)")
    kwargs = _model_settings(cfg)
    target = kwargs.pop("_target_")
    module_class = get_class(target)
    try:
        module = module_class(**kwargs)
    except TypeError as error:
        mistake = _unexpected_setting(error, cfg.model, module_class)
        if mistake is None:
            raise
        raise mistake from error
    batch_size = cfg.data.batch_size if cfg.get("data") is not None else 0
    module.configure_run(
        total_kimg=float(cfg.total_kimg),
        batch_size=int(batch_size),
        identity={"experiment": preset_name(cfg), "model_target": target},
        seed=int(cfg.get("seed", 0)),
    )
    return module


def _model_settings(cfg: DictConfig) -> dict[str, Any]:
    """`cfg.model` resolved; without `data=` its `${data.resolution}` and the like have nothing to point at."""
    try:
        return OmegaConf.to_container(cfg.model, resolve=True)  # type: ignore[return-value]
    except InterpolationKeyError as error:
        # Only a missing data group is worded here: a `${data...}` missing from a chosen data set is a bug of its config.
        if cfg.get("data") is not None or "data." not in str(error):
            raise
        raise ConfigError(
            f"no data set chosen: pass data=<name> (one of: {', '.join(_options('data'))}) or experiment=<preset> (gan-zoo list shows them)"
        ) from error


def _unexpected_setting(error: TypeError, model: DictConfig, module_class: type) -> ConfigError | None:
    """`+model.lrr=1` reaches a constructor as an unknown keyword argument: name the key and its neighbours.

    None when the argument is not in the model config (a bug, not a mistake in the command line).
    """
    found = re.search(r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'", str(error))
    if found is None:
        return None
    owner, key = found.groups()
    paths = [path for path in dotted_keys(model, depth=4) if path.rsplit(".", 1)[-1] == key]
    added = [override.lstrip("+").partition("=")[0].removeprefix("model.") for override in task_overrides() if override.startswith("+")]
    path = next((p for p in paths if p in added), paths[0] if paths else None)
    if path is None:
        return None
    parent_path = path.rpartition(".")[0]
    parent = OmegaConf.select(model, parent_path) if parent_path else model
    siblings = [str(k) for k in parent.keys() if k != key and not str(k).startswith("_")]
    if not parent_path:
        siblings += [name for name in inspect.signature(module_class).parameters if name not in siblings and name != key]
    where = f"model.{parent_path} ({owner})" if parent_path else f"model ({owner})"
    return ConfigError(unknown_key(f"model.{path}", siblings, [], where))


def task_overrides() -> list[str]:
    """The command line's overrides of this run ([] outside a Hydra app)."""
    from hydra.core.hydra_config import HydraConfig

    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def build_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    if cfg.get("data") is None:
        raise ConfigError(f"no data set chosen: pass data=<name> (one of: {', '.join(_options('data'))})")
    return instantiate(cfg.data, _convert_="all")


def build_trainer(cfg: DictConfig, **kwargs: Any) -> L.Trainer:
    """The Lightning Trainer of `cfg.trainer`; an accelerator this machine lacks is a ConfigError, not a traceback."""
    import torch
    from hydra.errors import InstantiationException
    from lightning.pytorch.utilities.exceptions import MisconfigurationException

    accelerator = str(cfg.trainer.get("accelerator", "auto"))
    has_gpu = torch.cuda.is_available() or (accelerator == "gpu" and torch.backends.mps.is_available())
    if accelerator in ("gpu", "cuda") and not has_gpu:
        raise ConfigError(
            f"trainer.accelerator={accelerator}, but this machine has no CUDA device; train on the CPU with trainer=cpu "
            "(or trainer=ddp_sim to try DDP with CPU processes)"
        )
    settings = trainer_settings(cfg)
    try:
        return instantiate(settings, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, MisconfigurationException):
            raise ConfigError(f"the trainer settings cannot work on this machine: {error.__cause__} (trainer=cpu trains on the CPU)") from error
        raise


def trainer_settings(cfg: DictConfig) -> dict[str, Any]:
    """`cfg.trainer` resolved, without gan-zoo's own keys (`threads`, applied by training.threads), for Lightning's Trainer."""
    settings: dict[str, Any] = OmegaConf.to_container(cfg.trainer, resolve=True)  # type: ignore[assignment]
    settings.pop("threads", None)
    return settings


def build_callbacks(cfg: DictConfig) -> list[L.Callback]:
    entries = cfg.get("callbacks") or {}
    return [instantiate(entry) for entry in entries.values() if entry is not None and "_target_" in entry]


def build_loggers(cfg: DictConfig, wandb_run_id: str | None = None) -> list[Any]:
    loggers = []
    for entry in (cfg.get("logger") or {}).values():
        if entry is None or "_target_" not in entry:
            continue
        overrides: dict[str, Any] = {}
        if entry["_target_"].endswith("WandbLogger") and wandb_run_id:
            overrides = {"id": wandb_run_id, "resume": "allow"}  # a resumed run continues its W&B run, under its name
        elif entry["_target_"].endswith("WandbLogger"):
            overrides = {key: value for key, value in _wandb_name_and_group(cfg).items() if entry.get(key) is None}
        loggers.append(instantiate(entry, **overrides))
    return loggers


def _wandb_name_and_group(cfg: DictConfig) -> dict[str, str]:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from gan_zoo.training.loggers import run_name_and_group

    sweep_dir = None
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        sweep_dir = str(HydraConfig.get().sweep.dir)
    target = str(cfg.model._target_).split(".") if cfg.get("model") is not None else None
    family = (target[2] if target[:2] == ["gan_zoo", "models"] else target[-1]) if target else None
    return run_name_and_group(preset_name(cfg), family, task_overrides(), sweep_dir)


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
