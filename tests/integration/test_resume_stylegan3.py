"""Bit-exact resume of StyleGAN3-R through the CLI: 2k images in one run == k, stop, resume to 2k.

The state a StyleGAN3 run carries beyond StyleGAN2's: the synthesis layers' input-magnitude averages
and w_avg (moved only while drawing D's fakes), the D-input blur fading with the images shown (so
the second half must blur with the resumed count), and R1 crossing the stop (every 4 steps here).
"""

import pytest
import torch

pytestmark = pytest.mark.slow

COMMON = [
    "experiment=smoke/stylegan3",
    "data.batch_size=4",
    "model.channel_max=8",
    "model.synthesis.num_layers=4",
    "model.D_reg_interval=4",
    "model.loss.blur_fade_kimg=0.05",
    "trainer.log_every_n_steps=1",
    "callbacks.samples.every_kimg=0.016",
    "callbacks.checkpoint.every_kimg=null",
]


def test_stop_and_resume_equals_uninterrupted_run(tmp_path, cli):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    cli("train", *COMMON, "total_kimg=0.04", f"hydra.run.dir={whole}")
    cli("train", *COMMON, "total_kimg=0.02", f"hydra.run.dir={halves}")
    cli("train", *COMMON, "total_kimg=0.04", f"hydra.run.dir={halves}", "ckpt_path=last")
    a = torch.load(whole / "checkpoints/last.ckpt", weights_only=True)
    b = torch.load(halves / "checkpoints/last.ckpt", weights_only=True)
    assert a["gan_zoo"]["cur_nimg"] == b["gan_zoo"]["cur_nimg"] == 40
    magnitudes = [k for k in a["state_dict"] if k.startswith("G.synthesis.") and k.endswith("magnitude_ema")]
    assert magnitudes and all(float(a["state_dict"][k]) != 1.0 for k in magnitudes)  # the averages did move
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values(), strict=True):
            assert torch.equal(state_a["exp_avg"], state_b["exp_avg"]) and torch.equal(state_a["exp_avg_sq"], state_b["exp_avg_sq"])
