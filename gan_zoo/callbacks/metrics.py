"""Metrics during training: computed on G_ema every `every_kimg` and at the end, on every DDP rank.

Each evaluation runs `gan_zoo.metrics.MetricEvaluator` (the same code as `gan-zoo eval`): fakes and
reals sharded over the ranks, features gathered exactly, so every rank holds the same value. The
values go to the loggers as `metrics/<name>` with `progress/kimg`, their best as
`metrics/<name>_best`, and one JSON line per metric with its protocol card to
`<dirpath>/metrics.jsonl`; a KimgCheckpoint whose `monitor` names a value keeps `best.ckpt`.
Everything a metric needs (model support, real-image counts, weight files) is checked when
training starts, not hours later. The metric networks live here, never in the model checkpoint.
"""

import json
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from gan_zoo.callbacks.periodic import KimgPeriodicCallback
from gan_zoo.metrics import MetricEvaluator, MetricOptions, parse_metric


class MetricsCallback(KimgPeriodicCallback):
    def __init__(
        self,
        names: list[str] | None = None,  # metric names, e.g. [fid50k_full, kid50k_full]; empty: no metrics
        every_kimg: float | None = 500,  # kimg between evaluations; null: only at the end of training
        dirpath: str = ".",  # where metrics.jsonl is appended (the run's directory)
        at_end: bool = True,  # evaluate once more when training ends (unless just done)
        weights: dict[str, str | None] | None = None,  # explicit weight files by key (metrics.weights.WEIGHT_FILES; null: standard caches)
        weights_sha256: dict[str, str | None] | None = None,  # expected hashes replacing the reference ones (own conversions)
        cache_dir: str | None = None,  # real-statistics cache; null: $GAN_ZOO_CACHE/metrics or ~/.cache/gan_zoo/metrics
        batch_size: int = 64,  # images per extractor pass per rank (speed and memory only)
        sample_block: int = 32,  # samples per seeded block (part of the protocol: another value draws other fakes)
        num_workers: int = 0,  # loader workers for the real images
        seed: int = 0,  # seeds the fakes; the same every evaluation, so values are comparable over training
    ) -> None:
        super().__init__(every_kimg)
        self.metrics = [str(m) for m in (names or [])]
        for name in self.metrics:
            parse_metric(name)  # an unknown name fails when the config is built
        self.dirpath = Path(dirpath)
        self.at_end = at_end
        self.options = MetricOptions(
            weights=dict(weights or {}),
            weights_sha256=dict(weights_sha256 or {}),
            cache_dir=cache_dir,
            batch_size=batch_size,
            sample_block=sample_block,
            num_workers=num_workers,
            seed=seed,
        )
        self.best: dict[str, float] = {}
        self._evaluator: MetricEvaluator | None = None
        self._last_nimg: int | None = None

    def _dataset(self, trainer: L.Trainer) -> Any:
        datamodule = trainer.datamodule
        datamodule.setup("fit")
        return datamodule.dataset

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.metrics:
            return
        self._evaluator = MetricEvaluator(self.metrics, self.options)
        self._evaluator.check(pl_module, self._dataset(trainer), pl_module.device)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._evaluator is not None and self.due(pl_module):
            self.evaluate(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._evaluator is not None and self.at_end and self._last_nimg != int(pl_module.cur_nimg):
            self.evaluate(trainer, pl_module)

    def evaluate(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, float]:
        assert self._evaluator is not None
        kimg = int(pl_module.cur_nimg) / 1000
        results = self._evaluator.evaluate(pl_module, self._dataset(trainer))
        self._last_nimg = int(pl_module.cur_nimg)
        logged: dict[str, float] = {"progress/kimg": kimg}
        lines = []
        for result in results:
            higher = parse_metric(result.name).higher_is_better
            for key, value in result.values.items():
                if key.endswith("_std"):
                    logged[f"metrics/{key}"] = value
                    continue
                best = self.best.get(key)
                self.best[key] = value if best is None else (max(best, value) if higher else min(best, value))
                logged[f"metrics/{key}"] = value
                logged[f"metrics/{key}_best"] = self.best[key]
                for callback in trainer.callbacks:
                    if hasattr(callback, "offer"):
                        callback.offer(trainer, key, value)
            lines.append(
                {
                    "metric": result.name,
                    "values": result.values,
                    "kimg": kimg,
                    "seconds": round(result.seconds, 3),
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "card": result.card,
                }
            )
        if trainer.is_global_zero:
            self.dirpath.mkdir(parents=True, exist_ok=True)
            with (self.dirpath / "metrics.jsonl").open("a") as file:
                file.writelines(json.dumps(line) + "\n" for line in lines)
            for logger in trainer.loggers:
                logger.log_metrics(logged, step=int(pl_module.cur_nimg))  # images shown, the step of every logged row
            rank_zero_info("  ".join(f"{k.removeprefix('metrics/')} {v:.4g}" for k, v in logged.items() if not k.endswith("_best")))
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in logged.items()})
        return logged

    def state_dict(self) -> dict[str, Any]:
        return {"best": dict(self.best)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = dict(state_dict.get("best", {}))
