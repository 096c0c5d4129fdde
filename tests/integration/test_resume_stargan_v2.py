"""Bit-exact resume of StarGAN v2 through the CLI: 2k iterations in one run == k, stop, resume to 2k.

Covers what a resumed run must restore: G, F, E, D, the EMA copies of G, F and E, the four Adam
states, the RNG (latents), the data stream (per-item draws) and lambda_ds (from cur_nimg).
"""

import csv
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

COMMON = [
    "experiment=smoke/stargan_v2",
    "data.dataset.num_images=512",
    "data.dataset.val_images=256",
    "model.loss.ds_kimg=0.064",  # lambda_ds moves every step of this short run
    "trainer.log_every_n_steps=1",
    "callbacks.samples.every_kimg=0.016",
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
    cli("train", *COMMON, "total_kimg=0.048", f"hydra.run.dir={whole}")
    cli("train", *COMMON, "total_kimg=0.024", f"hydra.run.dir={halves}")
    cli("train", *COMMON, "total_kimg=0.048", f"hydra.run.dir={halves}", "ckpt_path=last")

    a = torch.load(whole / "checkpoints/last.ckpt", weights_only=True)
    b = torch.load(halves / "checkpoints/last.ckpt", weights_only=True)
    assert a["gan_zoo"]["cur_nimg"] == b["gan_zoo"]["cur_nimg"] == 48
    assert a["gan_zoo"]["domain_names"] == ["circle", "cross"]
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for prefix in ("G.", "F.", "E.", "D.", "G_ema.", "F_ema.", "E_ema."):
        assert any(k.startswith(prefix) for k in a["state_dict"]), prefix
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    assert len(a["optimizer_states"]) == 4
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values(), strict=True):
            assert torch.equal(state_a["exp_avg"], state_b["exp_avg"]) and torch.equal(state_a["exp_avg_sq"], state_b["exp_avg_sq"])

    rows_a, rows_b = read_rows(whole), read_rows(halves)
    assert len(rows_a) == len(rows_b) == 6
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        for key in ("progress/kimg", "loss/D_latent", "loss/D_reference", "loss/G_latent", "loss/G_reference", "loss/lambda_ds", "loss/ds_latent"):
            assert row_a[key] == row_b[key], key
    assert float(rows_a[-1]["loss/lambda_ds"]) == pytest.approx(1 - 40 / 64)  # the value of the 6th iteration
