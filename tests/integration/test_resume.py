"""Bit-exact resume through the CLI: 2k kimg in one run == k kimg, stop, resume to 2k kimg."""

import csv
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

# 16x16 with 0.3+0.3 kimg phases: the stop at 0.7 kimg falls inside the 8x8 stable phase after a
# fade, and the second half crosses the 16x16 fade-in, a minibatch change and an Adam reset.
COMMON = [
    "experiment=smoke/pggan",
    "data.resolution=16",
    "model.schedule.lod_training_kimg=0.3",
    "model.schedule.lod_transition_kimg=0.3",
    "++model.schedule.minibatch_dict={16:16}",
    "trainer.log_every_n_steps=1",
    "callbacks.samples.every_kimg=0.5",
    "callbacks.checkpoint.every_kimg=null",
]


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    rows = []
    for metrics in sorted(run_dir.glob("csv/version_*/metrics.csv")):
        with metrics.open() as file:
            rows += list(csv.DictReader(file))
    return rows


def test_stop_and_resume_equals_uninterrupted_run(tmp_path, cli):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    cli("train", *COMMON, "total_kimg=1.4", f"hydra.run.dir={whole}")
    cli("train", *COMMON, "total_kimg=0.7", f"hydra.run.dir={halves}")
    cli("train", *COMMON, "total_kimg=1.4", f"hydra.run.dir={halves}", "ckpt_path=last")

    a = torch.load(whole / "checkpoints/last.ckpt", weights_only=True)
    b = torch.load(halves / "checkpoints/last.ckpt", weights_only=True)
    assert a["gan_zoo"]["cur_nimg"] == b["gan_zoo"]["cur_nimg"] >= 1400
    for prefix in ("G.", "D.", "G_ema."):
        keys = [k for k in a["state_dict"] if k.startswith(prefix)]
        assert keys
        for key in keys:
            assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values(), strict=True):
            assert torch.equal(state_a["exp_avg"], state_b["exp_avg"])

    rows_a, rows_b = read_rows(whole), read_rows(halves)
    assert len(rows_a) == len(rows_b) > 30
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        assert row_a["progress/kimg"] == row_b["progress/kimg"]
        assert row_a["loss/D_main"] == row_b["loss/D_main"] and row_a["loss/G_main"] == row_b["loss/G_main"]


def test_resume_refuses_other_preset_and_new_run_refuses_existing_checkpoints(tmp_path, cli):
    run = tmp_path / "run"
    cli("train", *COMMON, "total_kimg=0.1", f"hydra.run.dir={run}")
    again = cli("train", *COMMON, "total_kimg=0.2", f"hydra.run.dir={run}", check=False)
    assert again.returncode == 2
    assert "already holds" in again.stderr and "ckpt_path=last" in again.stderr
    other = cli(
        "train",
        "model=pggan",
        "data=shapes",
        "trainer=cpu",
        "data.resolution=16",
        "model.generator.fmap_max=64",
        "model.discriminator.fmap_max=64",
        "total_kimg=0.2",
        f"hydra.run.dir={run}",
        "ckpt_path=last",
        check=False,
    )
    assert other.returncode == 2
    assert "smoke/pggan" in other.stderr and "experiment None" in other.stderr
