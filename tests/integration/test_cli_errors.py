"""Nothing lost, nothing spoilt: a refused run leaves its directory as it was, train.log holds the run,
and every bad override is one line on stderr with exit status 2."""

import hashlib
from pathlib import Path

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf

from gan_zoo.data.errors import DataError

pytestmark = pytest.mark.slow

TINY = [
    "experiment=smoke/pggan",
    "data.resolution=8",
    "total_kimg=0.032",
    "callbacks.samples.every_kimg=null",
    "callbacks.checkpoint.every_kimg=null",
    "logger=none",
]


def snapshot(directory: Path) -> dict[str, str]:
    """Every path under `directory`, with the SHA-256 of each file's bytes ("dir" for a folder)."""
    return {str(p.relative_to(directory)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.rglob("*"))}


def assert_one_line_error(result, command: str, *expected: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"gan-zoo {command}: error: "), result.stderr
    assert "Traceback" not in result.stderr and "HYDRA_FULL_ERROR" not in result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def test_refused_train_leaves_the_run_directory_byte_for_byte(cli_in_process, tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints/last.ckpt").write_bytes(b"the run's checkpoint")
    (run / ".hydra").mkdir()
    (run / ".hydra/config.yaml").write_text("data:\n  resolution: 32\nseed: 0\n")
    (run / "train.log").write_text("the run's log\n")
    before = snapshot(run)
    refused = cli_in_process("train", "experiment=smoke/pggan", "data.resolution=16", "seed=5", f"hydra.run.dir={run}", cwd=tmp_path, check=False)
    assert_one_line_error(refused, "train", "already holds", "ckpt_path=last")
    assert snapshot(run) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=pggan", "data=ffhq", "trainer=cpu"],  # missing data
        ["data=shapes"],  # no model
        ["experiment=smoke/pggan", "model.resolution=64"],  # model and data disagree
    ],
)
def test_run_refused_at_start_up_leaves_no_run_directory(cli_in_process, tmp_path, overrides):
    refused = cli_in_process("train", *overrides, cwd=tmp_path, env={"GAN_ZOO_DATA": str(tmp_path / "data")}, check=False)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert list(tmp_path.iterdir()) == []  # no outputs/train/<time>/, not even outputs/


def test_refused_sweep_leaves_no_sweep_directory_and_an_old_sweep_as_it_was(cli_in_process, tmp_path):
    missing = ["-m", "model=pggan", "data=folder", f"data.dataset.path={tmp_path / 'nowhere'}", "trainer=cpu", "seed=1,2"]
    refused = cli_in_process("train", *missing, f"hydra.sweep.dir={tmp_path / 'sweeps/new'}", cwd=tmp_path, check=False)
    assert refused.returncode == 2 and "nowhere" in refused.stderr
    assert list(tmp_path.iterdir()) == []  # neither the sweep folder nor its multirun.yaml
    old = tmp_path / "old_sweep"
    (old / "0").mkdir(parents=True)
    (old / "0/train.log").write_text("an earlier job\n")
    (old / "multirun.yaml").write_text("the earlier sweep's config\n")
    before = snapshot(old)
    refused = cli_in_process("train", *missing, f"hydra.sweep.dir={old}", cwd=tmp_path, check=False)
    assert refused.returncode == 2
    assert snapshot(old) == before


def test_train_log_holds_the_run_and_a_resume_keeps_the_run_config(cli_in_process, tmp_path):
    run = tmp_path / "run"
    cli_in_process("train", *TINY, f"hydra.run.dir={run}", cwd=tmp_path)
    log = (run / "train.log").read_text()
    assert "smoke/pggan on ShapesDataset" in log and "overrides: experiment=smoke/pggan" in log
    assert "kimg (100%)" in log and "4x4" in log  # the progress bar's lines and the phase
    assert f"saved {run / 'checkpoints/last.ckpt'}" in log and "done: 0.032 kimg" in log
    config = (run / ".hydra/config.yaml").read_bytes()
    assert OmegaConf.load(run / ".hydra/config.yaml").total_kimg == 0.032
    assert OmegaConf.load(run / ".hydra/overrides.yaml")[0] == "experiment=smoke/pggan"

    cli_in_process("train", *TINY, "total_kimg=0.064", f"hydra.run.dir={run}", "ckpt_path=last", cwd=tmp_path)
    assert (run / ".hydra/config.yaml").read_bytes() == config  # the run's own config stays
    assert OmegaConf.load(run / ".hydra/resume-1/config.yaml").total_kimg == 0.064
    assert "ckpt_path=last" in OmegaConf.load(run / ".hydra/resume-1/overrides.yaml")
    resumed = (run / "train.log").read_text()
    assert resumed.startswith(log) and "resuming" in resumed[len(log) :] and "resume-1" in resumed[len(log) :]
    assert torch.load(run / "checkpoints/last.ckpt", weights_only=True)["gan_zoo"]["cur_nimg"] >= 64


def test_train_log_ends_with_the_error_of_a_failed_run(cli_in_process, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise DataError("image 7 of the data set cannot be read")

    monkeypatch.setattr(L.Trainer, "fit", fail)
    run = tmp_path / "run"
    failed = cli_in_process("train", *TINY, f"hydra.run.dir={run}", cwd=tmp_path, check=False)
    assert_one_line_error(failed, "train", "image 7 of the data set cannot be read")
    log = (run / "train.log").read_text().splitlines()
    assert any("smoke/pggan on ShapesDataset" in line for line in log)
    assert log[-1].endswith("gan-zoo train: error: image 7 of the data set cannot be read") and "[ERROR]" in log[-1]


BAD_OVERRIDES = [
    (["train", "model=stylegan4"], ["model=stylegan4", "did you mean", "model=stylegan2"]),
    (["train", "experiment=smok/pggan"], ["did you mean", "experiment=smoke/pggan"]),
    (["train", "experiment=smoke/pggan", "model.lrr=1"], ["model.lrr", "'lrr'", "resolution"]),
    (["train", "experiment=smoke/pggan", "+model.lrr=1"], ["model.lrr", "PGGANModule"]),
    # keys added inside a node of settings are refused by name, not ignored
    (["train", "experiment=smoke/pggan", "+model.loss.wgan_lamda=1"], ["model.loss.wgan_lamda", "did you mean model.loss.wgan_lambda"]),
    (["train", "experiment=smoke/stylegan2", "+model.ema.half_life=1"], ["model.ema.half_life", "did you mean model.ema.half_life_kimg"]),
    (["train", "experiment=smoke/stargan_v2", "+model.loss.lambda_styl=1"], ["model.loss.lambda_styl", "lambda_sty"]),
    (["train", "experiment=smoke/pggan", "+model.generator.fmap_maxx=1"], ["did you mean model.generator.fmap_max"]),
    (["train", "experiment=smoke/pggan", "trainer.acelerator=cpu"], ["did you mean trainer.accelerator"]),
    (["train", "experiment=smoke/pggan", "seedd=1"], ["did you mean seed"]),
    (["train", "experiment=smoke/pggan", "+seed=1"], ["seed is already set", "leave out the +"]),
    (["train", "experiment=smoke/pggan", "model.schedule.lr_base=[1"], ["cannot read the override 'model.schedule.lr_base=[1'"]),
    (["train", "-m", "experiment=smoke/pggan", "seed=1,2", "model.lrr=1"], ["model.lrr"]),
    (["summary", "model=stylegan4"], ["did you mean", "model=stylegan2"]),
    # no data=: worded as a missing model= is, not as the model's ${data.resolution} that has nothing to point at
    (["train", "model=pggan"], ["no data set chosen", "data=<name>", "shapes", "experiment=<preset>"]),
    (["summary", "model=pggan"], ["no data set chosen", "data=<name>", "shapes", "experiment=<preset>"]),
    # backbone_weights declares the known backbones (so <name>=PATH needs no +): another name is listed against them
    (["summary", "experiment=paper/projected_gan_fastgan_lite256", "model.backbone_weights.resnet50=w.pth"], ["its keys: tf_efficientnet_lite0"]),
    (
        ["summary", "experiment=paper/stylegan_xl_imagenet16", "model.discriminator.backbone_weights.deit_base_distilled_patch16=w.pth"],
        ["did you mean model.discriminator.backbone_weights.deit_base_distilled_patch16_224"],
    ),
    (["summary", "experiment=smoke/pggan", "+model.lrr=1"], ["model.lrr", "PGGANModule"]),
    (["eval", "ckpt=x.ckpt", "metricz=[fid50k_full]"], ["did you mean metrics"]),
    (["eval", "ckpt=x.ckpt", "data=shapess"], ["did you mean", "data=shapes"]),
    (["generate", "ckpt=x.ckpt", "truncaton=0.5"], ["did you mean truncation"]),
    (["import", "src=x.pkl", "out=y.ckpt", "overwrit=true"], ["did you mean overwrite"]),
    (["data", "check", "data=shapez"], ["did you mean data=shapes"]),
    (["data", "stats", "data=shapes", "metrcs=[fid50k_full]"], ["did you mean metrics"]),
    (["data", "prepare", "sourc=x"], ["did you mean source"]),
]


@pytest.mark.parametrize(("args", "expected"), BAD_OVERRIDES, ids=[" ".join(a) for a, _ in BAD_OVERRIDES])
def test_bad_override_is_one_line_and_exit_2(cli_in_process, tmp_path, args, expected):
    result = cli_in_process(*args, cwd=tmp_path, check=False)
    command = " ".join(args[:2]) if args[0] == "data" else args[0]
    assert_one_line_error(result, command, *expected)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="the machine has a CUDA device")
@pytest.mark.parametrize("trainer", ["trainer=gpu", "trainer=ddp", "trainer.accelerator=cuda"])
def test_gpu_trainer_without_cuda_says_which_trainer_to_use(cli_in_process, tmp_path, trainer):
    result = cli_in_process("train", *TINY, trainer, cwd=tmp_path, check=False)
    assert_one_line_error(result, "train", "no CUDA device", "trainer=cpu", "trainer=ddp_sim")
    assert list(tmp_path.iterdir()) == []


def test_console_script_words_a_bad_override_as_one_line(cli, tmp_path):
    assert_one_line_error(cli("train", "model=stylegan4", cwd=tmp_path, check=False), "train", "did you mean")
