"""SIGTERM leaves a loadable last.ckpt; W&B offline keeps its run id; the wheel works outside the checkout."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO, gan_zoo_executable, run_cli

pytestmark = pytest.mark.slow

QUICK = ["experiment=smoke/pggan", "data.resolution=16", "callbacks.samples.every_kimg=null"]


def test_sigterm_during_training_leaves_a_loadable_last_ckpt_and_resumes(tmp_path):
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "GAN_ZOO_COMMAND"}
    process = subprocess.Popen(
        [gan_zoo_executable(), "train", *QUICK, "total_kimg=1000", "trainer.log_every_n_steps=1", f"hydra.run.dir={run}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    metrics = run / "csv/version_0/metrics.csv"
    deadline = time.time() + 300
    while time.time() < deadline and not (metrics.is_file() and metrics.read_text().count("\n") > 3):
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, output[-2000:]
    checkpoint = torch.load(run / "checkpoints/last.ckpt", weights_only=True)
    assert 0 < checkpoint["gan_zoo"]["cur_nimg"] < 1_000_000
    assert not list((run / "checkpoints").glob(".*.tmp"))
    resumed = run_cli("train", *QUICK, f"total_kimg={checkpoint['gan_zoo']['cur_nimg'] / 1000 + 0.1}", f"hydra.run.dir={run}", "ckpt_path=last", cwd=tmp_path)
    assert resumed.returncode == 0


def test_wandb_offline_run_keeps_its_id_across_resume_and_csv_runs_never_import_wandb(tmp_path):
    run = tmp_path / "run"
    env = {"WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "WANDB_SILENT": "true"}
    run_cli("train", *QUICK, "total_kimg=0.1", "logger=wandb", f"hydra.run.dir={run}", cwd=tmp_path, env=env)
    first = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["gan_zoo"]["wandb_run_id"]
    run_cli("train", *QUICK, "total_kimg=0.2", "logger=wandb", f"hydra.run.dir={run}", "ckpt_path=last", cwd=tmp_path, env=env)
    second = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["gan_zoo"]["wandb_run_id"]
    assert first == second
    assert any(first in p.name for p in run.rglob("offline-run-*"))

    overrides = [*QUICK, "total_kimg=0.05", "callbacks=none", "logger=many", "paths.output_dir=" + str(tmp_path / "probe")]
    probe = (
        "import sys\n"
        "from hydra import compose, initialize_config_dir\n"
        "from gan_zoo.config_dir import CONFIG_DIR\n"
        "from gan_zoo.train import train\n"
        "with initialize_config_dir(config_dir=CONFIG_DIR, version_base='1.3'):\n"
        f"    cfg = compose('train', overrides={overrides!r})\n"
        "train(cfg)\n"
        "assert 'wandb' not in sys.modules, 'wandb was imported'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.stdout.strip().endswith("ok"), result.stderr[-3000:]


def test_built_wheel_trains_the_smoke_experiment_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-w", str(dist), "-q"], check=True, timeout=300)
    wheel = next(dist.glob("gan_zoo-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The fresh environment gets the wheel itself; its dependencies come from this environment
    # through a .pth file, so the test does not reinstall torch (and needs no network).
    site = next((venv / "lib").glob("python*/site-packages"))
    here = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "torch").is_dir())
    (site / "zz_dependencies.pth").write_text(here + "\n")
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, timeout=300)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("GAN_ZOO_COMMAND", "PYTHONPATH")}
    # A short stretch of the quick-start run: what matters is that the installed wheel finds its
    # config tree and trains outside the checkout, not how far it trains (test_cli trains it fully).
    result = subprocess.run(
        [str(venv / "bin/gan-zoo"), "train", "experiment=smoke/pggan", "total_kimg=0.5", "hydra.run.dir=run"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (outside / "run/checkpoints/last.ckpt").is_file() and list((outside / "run/samples").glob("*.png"))
    conf = subprocess.run(
        [str(venv / "bin/python"), "-c", "import gan_zoo.config_dir as c; print(c.CONFIG_DIR)"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert conf.startswith(str(venv)), conf
