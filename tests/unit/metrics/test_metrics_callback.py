"""MetricsCallback: built from the default callbacks config, logs values with kimg and best, feeds best.ckpt."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from gan_zoo.callbacks import KimgCheckpoint, MetricsCallback
from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.metrics import MetricError
from tests.unit.metrics_support import LinearStyleModule, pixel_distance, shapes


class _Logger:
    def __init__(self) -> None:
        self.logged: list[tuple[dict, int]] = []

    def log_metrics(self, metrics: dict, step: int) -> None:
        self.logged.append((dict(metrics), step))


def test_default_config_builds_a_callback_that_computes_nothing(tmp_path):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(
            "train",
            overrides=["experiment=smoke/pggan", f"paths.output_dir={tmp_path}", "callbacks.metrics.names=[fid50k_full]", "callbacks.metrics.every_kimg=2"],
        )
    callback = instantiate(cfg.callbacks.metrics)
    assert isinstance(callback, MetricsCallback) and callback.metrics == ["fid50k_full"] and callback.every_kimg == 2
    with pytest.raises(MetricError, match="unknown metric name 'fid'"):
        MetricsCallback(names=["fid"])


def test_values_best_jsonl_and_best_checkpoint(tmp_path, monkeypatch):
    module = LinearStyleModule()
    module.register_buffer("cur_nimg", torch.tensor(1000))
    callback = MetricsCallback(names=["ppl2_wend20"], every_kimg=1, dirpath=str(tmp_path), batch_size=10)
    checkpoint = KimgCheckpoint(dirpath=str(tmp_path / "checkpoints"), monitor="ppl2_wend20", mode="min")
    saved: list[Path] = []
    monkeypatch.setattr(checkpoint, "_save", lambda trainer, path: saved.append(path))
    logger = _Logger()
    trainer = SimpleNamespace(
        datamodule=SimpleNamespace(setup=lambda stage: None, dataset=shapes(8)),
        callbacks=[callback, checkpoint],
        loggers=[logger],
        is_global_zero=True,
        global_step=7,
        callback_metrics={},
    )
    from gan_zoo.metrics import MetricEvaluator

    callback._evaluator = MetricEvaluator(callback.metrics, callback.options, distance=pixel_distance)
    first = callback.evaluate(trainer, module)
    module.cur_nimg.fill_(2000)
    module.G_ema.A.mul_(2)  # a worse generator: PPL x4
    second = callback.evaluate(trainer, module)
    assert second["metrics/ppl2_wend20"] == pytest.approx(4 * first["metrics/ppl2_wend20"], rel=1e-2)
    assert second["metrics/ppl2_wend20_best"] == first["metrics/ppl2_wend20"] and second["progress/kimg"] == 2.0
    assert saved == [tmp_path / "checkpoints" / "best.ckpt"] and checkpoint.best_value == first["metrics/ppl2_wend20"]
    assert [step for _, step in logger.logged] == [1000, 2000]  # images shown, the step of every logged row
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["kimg"] for line in lines] == [1.0, 2.0] and lines[0]["card"]["metric"] == "ppl2_wend20"
    assert callback.state_dict() == {"best": {"ppl2_wend20": first["metrics/ppl2_wend20"]}}
