"""Bit-exact resume of SPADE (VAE, spectral norm, batch-norm statistics, lr decay) through the CLI:
2k images in one run == k, stop, resume to 2k."""

import pytest
import torch

pytestmark = pytest.mark.slow

COMMON = [
    "experiment=smoke/spade",
    "data.batch_size=4",
    "model.niter_kimg=0.02",
    "model.niter_decay_kimg=0.04",
    "trainer.log_every_n_steps=1",
    "callbacks.samples.every_kimg=0.02",
    "callbacks.triptych.every_kimg=0.02",
    "callbacks.checkpoint.every_kimg=null",
]


def test_stop_and_resume_equals_uninterrupted_run(tmp_path, cli):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    cli("train", *COMMON, "total_kimg=0.048", f"hydra.run.dir={whole}")
    cli("train", *COMMON, "total_kimg=0.024", f"hydra.run.dir={halves}")
    cli("train", *COMMON, "total_kimg=0.048", f"hydra.run.dir={halves}", "ckpt_path=last")
    a = torch.load(whole / "checkpoints/last.ckpt", weights_only=True)
    b = torch.load(halves / "checkpoints/last.ckpt", weights_only=True)
    assert a["gan_zoo"]["cur_nimg"] == b["gan_zoo"]["cur_nimg"] == 48
    for prefix in ("G.", "D.", "E.", "G_ema."):
        assert any(k.startswith(prefix) for k in a["state_dict"]), prefix
    assert any(k.endswith("weight_u") for k in a["state_dict"]) and any(k.endswith("running_var") for k in a["state_dict"])
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for opt_a, opt_b, initial in zip(a["optimizer_states"], b["optimizer_states"], (4e-4, 1.6e-3), strict=True):
        # the last step ran at 44 images, inside the decay: lr = initial * (1 - (0.044 - 0.02) / 0.04)
        assert opt_a["param_groups"][0]["lr"] == opt_b["param_groups"][0]["lr"] == pytest.approx(initial * 0.4)
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values(), strict=True):
            assert torch.equal(state_a["exp_avg"], state_b["exp_avg"]) and torch.equal(state_a["exp_avg_sq"], state_b["exp_avg_sq"])
