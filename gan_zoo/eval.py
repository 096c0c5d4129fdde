"""`gan-zoo eval ckpt=PATH metrics=[...] [data=...]`: metrics of a checkpoint, the callbacks' code.

The model is rebuilt from the checkpoint alone; the data set is `data=<name>` when given, else
the one recorded in the run's `.hydra/config.yaml` (two levels above `checkpoints/x.ckpt`). Prints a
table and appends one JSON line per metric to `metrics.jsonl` beside the checkpoint: values,
protocol card, checkpoint SHA-256, kimg, seed, sample counts, seconds and time.
"""

import json
import time
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from gan_zoo.checkpoints import pick_device
from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import ConfigError
from gan_zoo.metrics import MetricEvaluator, MetricOptions, MetricResult
from gan_zoo.task import report_user_errors
from gan_zoo.training.build import build_datamodule


def data_config(cfg: DictConfig, ckpt: Path, record: dict[str, Any] | None = None) -> DictConfig:
    """The eval's `data` when given, else the training run's (its saved Hydra config)."""
    if cfg.get("data") is not None:
        return cfg
    imported = (record or {}).get("imported_from")
    if imported:
        trained_on = imported.get("data") or {}
        raise ConfigError(
            f"{ckpt.name} holds networks of an official file ({imported['format']}), with no gan-zoo run to say its data set; pass data=<name> "
            f"with the data set it was trained on at {trained_on.get('resolution')} px (e.g. data=ffhq data.path=...)"
        )
    saved = ckpt.parent.parent / ".hydra" / "config.yaml"
    if not saved.is_file():
        raise ConfigError(f"no data set given and {saved} does not exist to say which one {ckpt.name} was trained on; pass data=<name> (gan-zoo list)")
    run_cfg = OmegaConf.load(saved)
    if run_cfg.get("data") is None:
        raise ConfigError(f"{saved} has no data section; pass data=<name> (gan-zoo list)")
    return run_cfg


def evaluate_checkpoint(cfg: DictConfig) -> list[dict[str, Any]]:
    if cfg.get("ckpt") in (None, "", "???"):
        raise ConfigError("pass ckpt=PATH: the gan-zoo checkpoint (e.g. outputs/train/<date>/checkpoints/last.ckpt) or official network file to evaluate")
    names = [str(m) for m in (cfg.metrics if OmegaConf.is_list(cfg.metrics) else [cfg.metrics])]
    if not names:
        raise ConfigError("metrics=[] names no metric; pass e.g. metrics=[fid50k_full,kid50k_full] (gan-zoo list shows them)")
    from gan_zoo.official.load import load_any_module, resolve_model_file, source_sha256

    ckpt = resolve_model_file(str(cfg.ckpt))
    device = pick_device(str(cfg.device))
    evaluator = MetricEvaluator(
        names,
        MetricOptions(
            weights=dict(cfg.weights or {}),
            weights_sha256=dict(cfg.weights_sha256 or {}),
            cache_dir=cfg.cache_dir,
            batch_size=int(cfg.batch_size),
            sample_block=int(cfg.sample_block),
            num_workers=int(cfg.num_workers),
            seed=int(cfg.seed),
            progress=True,
        ),
    )
    module, record = load_any_module(ckpt, device, _overrides(cfg))
    datamodule = build_datamodule(data_config(cfg, ckpt, record))
    datamodule.setup("validate")
    results = evaluator.evaluate(module, datamodule.dataset)
    common = {
        "checkpoint": str(ckpt),
        "checkpoint_sha256": source_sha256(ckpt),
        "kimg": record.get("cur_nimg", 0) / 1000,
        "seed": int(cfg.seed),
        "family": record.get("family"),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    lines = [_line(result, common) for result in results]
    output = Path(str(cfg.output)).expanduser() if cfg.get("output") else ckpt.parent / "metrics.jsonl"
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("a") as file:
        file.writelines(json.dumps(line) + "\n" for line in lines)
    print(format_table(results, f"gan-zoo eval: {ckpt} ({common['kimg']:.1f} kimg) -> {output}"))
    return lines


def _overrides(cfg: DictConfig) -> dict[str, Any]:
    """Architecture settings for an official file that does not say them (`+overrides.key=value`)."""
    return OmegaConf.to_container(cfg.overrides, resolve=True) if cfg.get("overrides") else {}  # type: ignore[return-value]


def _line(result: MetricResult, common: dict[str, Any]) -> dict[str, Any]:
    return {
        "metric": result.name,
        "value": result.value,
        "values": result.values,
        **common,
        "num_gen": result.card["num_gen"],
        "num_real": result.card.get("num_real"),
        "seconds": round(result.seconds, 3),
        "card": result.card,
    }


def format_table(results: list[MetricResult], title: str) -> str:
    lines = [title, f"{'metric':<32}{'value':>14}{'seconds':>10}"]
    for result in results:
        lines += [f"{key:<32}{value:>14.6g}{result.seconds:>10.1f}" for key, value in result.values.items()]
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="eval")
def main(cfg: DictConfig) -> None:
    with report_user_errors("eval"):
        evaluate_checkpoint(cfg)
