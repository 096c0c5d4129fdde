"""Build the pieces of a run from the composed config: module, datamodule, loggers, callbacks.

Shared by `gan-zoo train`, `gan-zoo summary` and the benchmarks, so that all three see the same
networks for the same overrides.
"""

from pathlib import Path
from typing import Any

import lightning as L
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

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
    kwargs: dict[str, Any] = OmegaConf.to_container(cfg.model, resolve=True)  # type: ignore[assignment]
    target = kwargs.pop("_target_")
    module_class = get_class(target)
    module = module_class(**kwargs)
    batch_size = cfg.data.batch_size if cfg.get("data") is not None else 0
    module.configure_run(
        total_kimg=float(cfg.total_kimg),
        batch_size=int(batch_size),
        identity={"experiment": preset_name(cfg), "model_target": target},
        seed=int(cfg.get("seed", 0)),
    )
    return module


def build_datamodule(cfg: DictConfig) -> L.LightningDataModule:
    if cfg.get("data") is None:
        raise ConfigError(f"no data set chosen: pass data=<name> (one of: {', '.join(_options('data'))})")
    return instantiate(cfg.data, _convert_="all")


def build_callbacks(cfg: DictConfig) -> list[L.Callback]:
    entries = cfg.get("callbacks") or {}
    return [instantiate(entry) for entry in entries.values() if entry is not None and "_target_" in entry]


def build_loggers(cfg: DictConfig, wandb_run_id: str | None = None) -> list[Any]:
    loggers = []
    for name, entry in (cfg.get("logger") or {}).items():
        if entry is None or "_target_" not in entry:
            continue
        overrides: dict[str, Any] = {}
        if wandb_run_id and entry["_target_"].endswith("WandbLogger"):
            overrides = {"id": wandb_run_id, "resume": "allow"}  # a resumed run continues its W&B run
        loggers.append(instantiate(entry, **overrides))
    return loggers


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def absolute(path: str | Path) -> Path:
    return Path(path).expanduser().resolve()
