"""Bit-exact resume of StyleGAN2 with ADA through the CLI: 2k kimg in one run == k, stop, resume to 2k.

16x16, 8 images per step: the stop after step 22 falls between two ADA adjustments (every 4 steps,
so the sign sums are mid-interval), after an R1 step (every 16) and a path-length step (every 4);
the second half crosses both regularisers again. ada_kimg is tiny so that p really moves.
"""

import csv
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

COMMON = [
    "experiment=smoke/stylegan2",
    "data.resolution=16",
    "data.batch_size=8",
    "model.aug=ada",
    "model.augment.ada_kimg=1",
    "model.augment.target=0.1",
    "trainer.log_every_n_steps=1",
    "callbacks.samples.every_kimg=0.1",
    "callbacks.checkpoint.every_kimg=null",
]


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    rows = []
    for metrics in sorted(run_dir.glob("csv/version_*/metrics.csv")):
        with metrics.open() as file:
            rows += list(csv.DictReader(file))
    return rows


def test_stop_and_resume_with_ada_equals_uninterrupted_run(tmp_path, cli):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    cli("train", *COMMON, "total_kimg=0.352", f"hydra.run.dir={whole}")
    cli("train", *COMMON, "total_kimg=0.176", f"hydra.run.dir={halves}")
    cli("train", *COMMON, "total_kimg=0.352", f"hydra.run.dir={halves}", "ckpt_path=last")

    a = torch.load(whole / "checkpoints/last.ckpt", weights_only=True)
    b = torch.load(halves / "checkpoints/last.ckpt", weights_only=True)
    assert a["gan_zoo"]["cur_nimg"] == b["gan_zoo"]["cur_nimg"] == 352
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for prefix in ("G.", "D.", "G_ema.", "augment_pipe.p", "ada.", "pl_mean"):
        assert any(k.startswith(prefix) for k in a["state_dict"]), prefix
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    assert float(a["state_dict"]["augment_pipe.p"]) > 0  # ADA did adjust p
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values(), strict=True):
            assert torch.equal(state_a["exp_avg"], state_b["exp_avg"]) and torch.equal(state_a["exp_avg_sq"], state_b["exp_avg_sq"])

    rows_a, rows_b = read_rows(whole), read_rows(halves)
    assert len(rows_a) == len(rows_b) == 44
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        for key in ("progress/kimg", "loss/D_main", "loss/G_main", "scores/real", "aug/p", "aug/rt"):
            assert row_a[key] == row_b[key], key
        # Values of phases that did not run in a step are repeated from earlier rows by the logger in
        # an uninterrupted run but left empty after a resume; compare the ones both rows carry.
        for key in ("loss/G_reg", "loss/D_reg", "loss/r1_penalty", "pl/mean"):
            if row_a[key] and row_b[key]:
                assert row_a[key] == row_b[key], key
