"""The loggers of `gan-zoo train` (conf/logger), on one axis: every row's step is images shown.

GANModule.log_step sends the scalars, the grid callbacks the images and MetricsCallback the metric
values, each at step = cur_nimg and with `progress/kimg`; CSV and TensorBoard take that step as it
is. `WandbLogger` is Lightning's, with what a GAN run needs in W&B: `progress/kimg` as the x-axis of
every value, image and table; runs named after the experiment and the overrides and grouped by
sweep (`run_name_and_group`); the resolved config as a file of the run (`log_config`); the run
finished when training ends, so W&B's closing lines come out before the process exits, plain
when stderr is not a terminal. Nothing here imports wandb until a W&B run starts.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.fabric.utilities.logger import _add_prefix
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from omegaconf import DictConfig, OmegaConf

X_AXIS = "progress/kimg"


class WandbLogger(LightningWandbLogger):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self._wandb_init.get("anonymous") is None:
            del self._wandb_init["anonymous"]  # W&B warns about the setting whenever it is passed, even as None

    @property
    def experiment(self) -> Any:
        fresh = self._experiment is None
        run = super().experiment
        if fresh and getattr(run, "define_metric", None) is not None:
            # Defined after Lightning's "*" -> trainer/global_step, which the later definition replaces.
            run.define_metric(X_AXIS)
            run.define_metric("*", step_metric=X_AXIS, step_sync=True)
        return run

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """One W&B row; `step` is images shown (every gan-zoo caller passes it), so the row's x is step / 1000 kimg."""
        row = dict(_add_prefix(dict(metrics), self._prefix, self.LOGGER_JOIN_CHAR))
        if step is not None:
            row.setdefault(X_AXIS, step / 1000)
        self.experiment.log(row)

    @rank_zero_only
    def log_config(self, cfg: DictConfig) -> None:
        """The run's resolved config as `config_resolved.yaml` among the W&B run's files."""
        run = self.experiment
        path = Path(run.dir) / "config_resolved.yaml"
        path.write_text(OmegaConf.to_yaml(cfg, resolve=True), encoding="utf-8")
        run.save(str(path), base_path=run.dir, policy="now")

    @rank_zero_only
    def finalize(self, status: str) -> None:
        super().finalize(status)
        if self._experiment is not None:
            self._experiment.finish(exit_code=0 if status == "success" else 1)


def run_name_and_group(preset: str | None, family: str | None, overrides: list[str], sweep_dir: str | None) -> dict[str, str]:
    """W&B `name` (the experiment or model, then the overrides that are not that choice or the logger's)
    and, for a multirun job, `group` (the sweep directory, shared by the jobs of one sweep)."""
    skipped = ("experiment=", "model=", "logger=", "logger.")
    kept = [o for o in overrides if not o.lstrip("+~").startswith(skipped)]
    name = " ".join([preset or family or "gan-zoo", *kept])
    return {"name": name, "group": sweep_dir} if sweep_dir else {"name": name}
