"""Bit-exact resume through the CLI, for every family: 2k images in one run == k, stop, resume to 2k.

One case per family of the config tree (conf/model/*.yaml, the model registry; a family without a
case fails `test_every_family_has_a_resume_case`). A case's stop falls where the family carries state
across it: PGGAN's fade-ins and Adam resets, ADA's mid-interval sign sums, lazy R1 / path-length
steps, SPADE's lr decay and batch-norm statistics, StarGAN v2's lambda_ds and four Adam states,
StyleGAN3's magnitude averages and D blur, Projected GAN's and StyleGAN-XL's diffaugment draws.
Each case checks every tensor of the state dict, every Adam moment and the logged losses row by row.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

pytestmark = pytest.mark.slow

CONF_MODELS = Path(__file__).resolve().parents[2] / "conf" / "model"


@dataclass(frozen=True)
class ResumeCase:
    overrides: list[str]  # the run's settings (an experiment and what makes it small)
    total_images: int  # images of the uninterrupted run; the first half stops at half of them
    prefixes: tuple[str, ...]  # state-dict key prefixes that must be there (the networks, their averages, ...)
    logged: tuple[str, ...] = ()  # CSV columns equal row by row (losses, kimg, ...)
    lazily_logged: tuple[str, ...] = ()  # columns compared where both runs logged a value (phases on an interval)
    rows: int | None = None  # expected number of CSV rows (None: at least one)
    check: Callable[[dict[str, Any]], None] | None = None  # family-specific checks on the final checkpoint


def _ada_moved(ckpt: dict[str, Any]) -> None:
    assert float(ckpt["state_dict"]["augment_pipe.p"]) > 0  # ADA did adjust p


def _w_avg_moved(ckpt: dict[str, Any]) -> None:
    assert ckpt["state_dict"]["G.mapping.w_avg"].abs().sum() > 0


def _spade_lr_decayed(ckpt: dict[str, Any]) -> None:
    assert any(k.endswith("weight_u") for k in ckpt["state_dict"]) and any(k.endswith("running_var") for k in ckpt["state_dict"])
    for opt, initial in zip(ckpt["optimizer_states"], (4e-4, 1.6e-3), strict=True):
        # the last step ran at 44 images, inside the decay: lr = initial * (1 - (0.044 - 0.02) / 0.04)
        assert opt["param_groups"][0]["lr"] == pytest.approx(initial * 0.4)


def _stargan_state(ckpt: dict[str, Any]) -> None:
    assert ckpt["gan_zoo"]["domain_names"] == ["circle", "cross"]
    assert len(ckpt["optimizer_states"]) == 4


def _magnitudes_moved(ckpt: dict[str, Any]) -> None:
    magnitudes = [k for k in ckpt["state_dict"] if k.startswith("G.synthesis.") and k.endswith("magnitude_ema")]
    assert magnitudes and all(float(ckpt["state_dict"][k]) != 1.0 for k in magnitudes)  # the averages did move


CASES = {
    # 16x16 with 0.3+0.3 kimg phases: the stop at 0.7 kimg falls inside the 8x8 stable phase after a
    # fade, and the second half crosses the 16x16 fade-in, a minibatch change and an Adam reset.
    # Conditional (AC-GAN): G's fake classes are drawn from the global RNG, which the resume restores.
    "pggan": ResumeCase(
        [
            "experiment=smoke/pggan",
            "model.conditional=true",
            "data.resolution=16",
            "model.schedule.lod_training_kimg=0.3",
            "model.schedule.lod_transition_kimg=0.3",
            "++model.schedule.minibatch_dict={16:16}",
            "callbacks.samples.every_kimg=0.5",
        ],
        total_images=1400,
        prefixes=("G.", "D.", "G_ema."),
        logged=("progress/kimg", "loss/D_main", "loss/G_main"),
    ),
    # 12 steps of 8 images cross the 8x8 fade-in; the stop after 5 falls between schedule evaluations.
    "stylegan": ResumeCase(
        [
            "experiment=smoke/stylegan",
            "data.resolution=8",
            "data.batch_size=8",
            "model.schedule.lod_initial_resolution=4",
            "model.schedule.lod_training_kimg=0.024",
            "model.schedule.lod_transition_kimg=0.024",
            "callbacks.samples.every_kimg=null",
        ],
        total_images=96,
        prefixes=("G.", "D.", "G_ema.", "G.mapping.w_avg"),
        logged=("progress/kimg", "loss/D_main", "loss/G_main"),
        check=_w_avg_moved,
    ),
    # 16x16, 8 images per step: the stop after step 22 falls between two ADA adjustments (every 4
    # steps, so the sign sums are mid-interval), after an R1 step (every 16) and a path-length step
    # (every 4); the second half crosses both regularisers again. ada_kimg is tiny so that p moves.
    # Conditional: every phase draws its fakes' classes from the global RNG.
    "stylegan2": ResumeCase(
        [
            "experiment=smoke/stylegan2",
            "model.conditional=true",
            "data.resolution=16",
            "data.batch_size=8",
            "model.aug=ada",
            "model.augment.ada_kimg=1",
            "model.augment.target=0.1",
            "callbacks.samples.every_kimg=0.1",
        ],
        total_images=352,
        prefixes=("G.", "D.", "G_ema.", "augment_pipe.p", "ada.", "pl_mean"),
        logged=("progress/kimg", "loss/D_main", "loss/G_main", "scores/real", "aug/p", "aug/rt"),
        # The logger repeats values of phases that did not run in a step from earlier rows in an
        # uninterrupted run but leaves them empty after a resume.
        lazily_logged=("loss/G_reg", "loss/D_reg", "loss/r1_penalty", "pl/mean"),
        rows=44,
        check=_ada_moved,
    ),
    # StyleGAN3-R: the synthesis layers' magnitude averages and w_avg (moved only while drawing D's
    # fakes), the D-input blur fading with the images shown, and R1 crossing the stop (every 4 steps).
    "stylegan3": ResumeCase(
        [
            "experiment=smoke/stylegan3",
            "data.batch_size=4",
            "model.channel_max=8",
            "model.synthesis.num_layers=4",
            "model.D_reg_interval=4",
            "model.loss.blur_fade_kimg=0.05",
            "callbacks.samples.every_kimg=0.016",
        ],
        total_images=40,
        prefixes=("G.", "D.", "G_ema."),
        logged=("progress/kimg", "loss/D_main", "loss/G_main"),
        check=_magnitudes_moved,
    ),
    # VAE, spectral norm, batch-norm statistics, and the stop inside the lr decay.
    "spade": ResumeCase(
        [
            "experiment=smoke/spade",
            "data.batch_size=4",
            "model.niter_kimg=0.02",
            "model.niter_decay_kimg=0.04",
            "callbacks.samples.every_kimg=0.02",
            "callbacks.triptych.every_kimg=0.02",
        ],
        total_images=48,
        prefixes=("G.", "D.", "E.", "G_ema."),
        logged=("progress/kimg",),
        check=_spade_lr_decayed,
    ),
    # G, F, E, D, the EMA copies of G, F and E, the four Adam states, the RNG (latents), the data
    # stream (per-item draws) and lambda_ds (from cur_nimg), which moves every step of this run.
    "stargan_v2": ResumeCase(
        [
            "experiment=smoke/stargan_v2",
            "data.dataset.num_images=512",
            "data.dataset.val_images=256",
            "model.loss.ds_kimg=0.064",
            "callbacks.samples.every_kimg=0.016",
        ],
        total_images=48,
        prefixes=("G.", "F.", "E.", "D.", "G_ema.", "F_ema.", "E_ema."),
        logged=("progress/kimg", "loss/D_latent", "loss/D_reference", "loss/G_latent", "loss/G_reference", "loss/lambda_ds", "loss/ds_latent"),
        rows=6,
        check=_stargan_state,
    ),
    # FastGAN-lite G against the projected D on a random frozen EfficientNet: diffaugment draws and
    # the frozen random projections must continue identically.
    "projected_gan": ResumeCase(
        ["experiment=smoke/projected_gan", "callbacks.samples.every_kimg=0.012"],
        total_images=24,
        prefixes=("G.", "D.", "G_ema."),
        logged=("progress/kimg", "loss/D_main", "loss/G_main"),
    ),
    # The 16 px stem with class guidance; path length starts in the first half, the D blur fades over both.
    "stylegan_xl": ResumeCase(
        ["experiment=smoke/stylegan_xl", "model.loss.pl_start_kimg=0.008", "callbacks.samples.every_kimg=0.012"],
        total_images=24,
        prefixes=("G.", "D.", "G_ema."),
        logged=("progress/kimg", "loss/D_main", "loss/G_main"),
    ),
}

COMMON = ["trainer.log_every_n_steps=1", "callbacks.checkpoint.every_kimg=null"]


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    rows = []
    for metrics in sorted(run_dir.glob("csv/version_*/metrics.csv")):
        with metrics.open() as file:
            rows += list(csv.DictReader(file))
    return rows


def test_every_family_has_a_resume_case():
    assert sorted(CASES) == sorted(p.stem for p in CONF_MODELS.glob("*.yaml"))


@pytest.mark.parametrize("family", sorted(CASES))
def test_stop_and_resume_equals_uninterrupted_run(family, tmp_path, cli):
    case = CASES[family]
    settings = [*case.overrides, *COMMON]
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    kimg, half_kimg = case.total_images / 1000, case.total_images / 2000
    cli("train", *settings, f"total_kimg={kimg}", f"hydra.run.dir={whole}")
    cli("train", *settings, f"total_kimg={half_kimg}", f"hydra.run.dir={halves}")
    cli("train", *settings, f"total_kimg={kimg}", f"hydra.run.dir={halves}", "ckpt_path=last")

    a = torch.load(whole / "checkpoints/last.ckpt", weights_only=True)
    b = torch.load(halves / "checkpoints/last.ckpt", weights_only=True)
    assert a["gan_zoo"]["family"] == family
    assert a["gan_zoo"]["cur_nimg"] == b["gan_zoo"]["cur_nimg"] >= case.total_images
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for prefix in case.prefixes:
        assert any(k.startswith(prefix) for k in a["state_dict"]), prefix
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    assert len(a["optimizer_states"]) == len(b["optimizer_states"]) > 0
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        assert opt_a["param_groups"][0]["lr"] == opt_b["param_groups"][0]["lr"]
        assert opt_a["state"], "the optimizer never stepped"
        for state_a, state_b in zip(opt_a["state"].values(), opt_b["state"].values(), strict=True):
            assert torch.equal(state_a["exp_avg"], state_b["exp_avg"]) and torch.equal(state_a["exp_avg_sq"], state_b["exp_avg_sq"])
    if case.check:
        case.check(a)

    rows_a, rows_b = read_rows(whole), read_rows(halves)
    assert len(rows_a) == len(rows_b) >= 1
    if case.rows is not None:
        assert len(rows_a) == case.rows
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        for key in case.logged:
            assert row_a[key] == row_b[key], key
        for key in case.lazily_logged:
            if row_a[key] and row_b[key]:
                assert row_a[key] == row_b[key], key


def test_resume_refuses_other_preset_and_new_run_refuses_existing_checkpoints(tmp_path, cli):
    settings = [*CASES["pggan"].overrides, *COMMON]
    run = tmp_path / "run"
    cli("train", *settings, "total_kimg=0.1", f"hydra.run.dir={run}")
    again = cli("train", *settings, "total_kimg=0.2", f"hydra.run.dir={run}", check=False)
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
