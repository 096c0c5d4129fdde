"""`gan-zoo train`: compose the config, build module/data/loggers/callbacks, fit, keep last.ckpt."""

import logging
import signal
import sys
from pathlib import Path
from typing import Any

import hydra
import lightning as L
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import ConfigError
from gan_zoo.task import report_user_errors
from gan_zoo.training.build import build_callbacks, build_datamodule, build_loggers, build_module, build_trainer, preset_name, resolved_config, task_overrides
from gan_zoo.training.checkpoint_io import AtomicCheckpointIO
from gan_zoo.training.init_weights import initialize_from
from gan_zoo.training.quiet import quiet_libraries
from gan_zoo.training.resume import check_checkpoint_matches, resolve_ckpt_path
from gan_zoo.training.run_dir import ProgressLines, RunDirectory
from gan_zoo.training.threads import apply_threads

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, Any]:
    output_dir = Path(cfg.paths.output_dir)
    with quiet_libraries(), RunDirectory(output_dir, is_main=rank_zero_only.rank == 0) as run_dir:
        return _train(cfg, output_dir, run_dir)


def _train(cfg: DictConfig, output_dir: Path, run_dir: RunDirectory) -> dict[str, Any]:
    ckpt_path = resolve_ckpt_path(cfg.get("ckpt_path"), output_dir / "checkpoints")
    threads = apply_threads(cfg.trainer)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = build_module(cfg)
    datamodule = build_datamodule(cfg)
    record = check_checkpoint_matches(ckpt_path, module) if ckpt_path else {}
    if cfg.get("init_ckpt") and not ckpt_path:
        initialize_from(module, str(cfg.init_ckpt))
    elif cfg.get("init_ckpt"):
        log.info("resuming %s: its networks already started from init_ckpt=%s", ckpt_path, cfg.init_ckpt)
    model_resolution = cfg.model.get("resolution")
    if model_resolution is not None and model_resolution != datamodule.resolution:
        raise ConfigError(
            f"model.resolution={model_resolution} does not match data.resolution={datamodule.resolution}; "
            "leave model.resolution at ${data.resolution} or prepare the data at the model's resolution"
        )
    datamodule.setup("fit")  # validate the data now, before any process or logger starts
    missing = module.provides_required - datamodule.provides
    if missing:
        raise ConfigError(
            f"model {module.family} needs batch keys {sorted(missing)}, which data set {type(datamodule.dataset).__name__} "
            f"does not provide (it provides {sorted(datamodule.provides)}); choose a data set with them"
        )
    if record.get("cur_nimg", 0) >= module.total_nimg:
        log.info("%s is already at %.3f kimg >= total_kimg=%s; nothing to train", ckpt_path, record["cur_nimg"] / 1000, cfg.total_kimg)
        return {"cur_nimg": record["cur_nimg"], "stopped_by_signal": None, "trainer": None}
    loggers = build_loggers(cfg, record.get("wandb_run_id"))
    callbacks = [*build_callbacks(cfg), ProgressLines()]
    trainer = build_trainer(cfg, callbacks=callbacks, logger=loggers or False, plugins=[AtomicCheckpointIO()])
    run_dir.accept(cfg, ckpt_path)
    if run_dir.is_main:
        _log_start(cfg, module, datamodule, output_dir, ckpt_path, record, run_dir)
        log.info("torch threads per process: %d (%s)", *threads)
    for logger in loggers:
        logger.log_hyperparams(resolved_config(cfg))
        if hasattr(logger, "log_config"):  # W&B: the resolved config as a file of the run
            logger.log_config(cfg)
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(ckpt_path) if ckpt_path else None)
    except SIGTERMException:
        # Lightning ends a SIGTERM'd fit with this SystemExit (status 0); last.ckpt is already written.
        stop = int(signal.SIGTERM)
    else:
        stop = next((c.stop_signal for c in trainer.callbacks if getattr(c, "stop_signal", None)), None)
    # kimg to 3 decimals, as the checkpoint names (kimg000000.208): a run of a few batches shows its real length.
    if run_dir.is_main and stop:
        log.info("stopped by %s at %.3f kimg; continue with ckpt_path=last", signal.Signals(stop).name, int(module.cur_nimg) / 1000)
    elif run_dir.is_main:
        log.info("done: %.3f kimg in %s", int(module.cur_nimg) / 1000, output_dir)
    return {"cur_nimg": int(module.cur_nimg), "stopped_by_signal": stop, "trainer": trainer}


def _log_start(cfg: DictConfig, module: Any, datamodule: Any, output_dir: Path, ckpt_path: Path | None, record: dict[str, Any], run_dir: RunDirectory) -> None:
    """What the run is, in two lines: the terminal and train.log begin with them."""
    what = preset_name(cfg) or f"model {module.family}"
    data = f"{type(datamodule.dataset).__name__} at {getattr(datamodule.dataset, 'path', None) or '(embedded)'}, {datamodule.resolution} px"
    log.info("%s on %s: %s kimg, batch %s, seed %s -> %s", what, data, cfg.total_kimg, cfg.data.batch_size, cfg.seed, output_dir)
    overrides = " ".join(task_overrides()) or "none"
    if ckpt_path is not None:
        log.info(
            "resuming %s at %.3f kimg with overrides %s (this resume's config: %s)", ckpt_path, record.get("cur_nimg", 0) / 1000, overrides, run_dir.config_dir
        )
    else:
        log.info("overrides: %s", overrides)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def main(cfg: DictConfig) -> None:
    with report_user_errors("train"):
        result = train(cfg)
    if result["stopped_by_signal"]:
        sys.exit(128 + int(result["stopped_by_signal"]))
