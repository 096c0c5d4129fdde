"""`trainer.threads`: torch's CPU threads per process, by default the usable cores divided among the
processes a run starts (DDP ranks, parallel multirun jobs), and a run logs the count it chose."""

import os
from types import SimpleNamespace

import pytest
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import OmegaConf

from gan_zoo.errors import ConfigError
from gan_zoo.training import threads as threads_module
from gan_zoo.training.threads import apply_threads, choose_threads, local_ranks, parallel_jobs, threads_per_process

TINY = [
    "experiment=smoke/pggan",
    "data.resolution=8",
    "total_kimg=0.032",
    "callbacks.samples.every_kimg=null",
    "callbacks.checkpoint.every_kimg=null",
    "logger=none",
]


def test_cores_are_shared_evenly_with_at_least_one_thread_each():
    assert [threads_per_process(cores, processes) for cores, processes in ((2, 1), (2, 2), (8, 3), (1, 4), (16, 0))] == [2, 1, 2, 1, 16]


def test_local_ranks_follow_lightnings_devices():
    assert local_ranks(OmegaConf.create({"accelerator": "cpu", "devices": 2})) == 2
    assert local_ranks({"accelerator": "cpu", "devices": "auto"}) == 1
    assert local_ranks(OmegaConf.create({"accelerator": "gpu", "devices": [0, 1, 2]})) == 3
    assert local_ranks({"accelerator": "gpu", "devices": "0,1"}) == 2
    assert local_ranks({"accelerator": "cpu"}) == 1


def test_joblib_multirun_jobs_share_the_cores(monkeypatch):
    assert parallel_jobs(8) == 1  # outside Hydra
    launcher = OmegaConf.create({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher", "n_jobs": 2})
    monkeypatch.setattr(HydraConfig, "initialized", staticmethod(lambda: True))
    monkeypatch.setattr(HydraConfig, "get", staticmethod(lambda: SimpleNamespace(mode=RunMode.MULTIRUN, launcher=launcher)))
    assert parallel_jobs(8) == 2
    launcher.n_jobs = -1  # joblib: one job per core
    assert parallel_jobs(8) == 8
    launcher._target_ = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"  # one job after another
    assert parallel_jobs(8) == 1


def test_the_setting_wins_then_the_environment_then_the_cores_per_process(monkeypatch):
    monkeypatch.setattr(threads_module, "usable_cores", lambda: 8)
    ddp = OmegaConf.create({"accelerator": "cpu", "devices": 2, "threads": None})
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert choose_threads(5, ddp) == (5, "trainer.threads")
    assert choose_threads(None, ddp) == (3, "$OMP_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert choose_threads(None, ddp)[0] == 4
    assert choose_threads(None, {"accelerator": "cpu", "devices": 1})[0] == 8
    with pytest.raises(ConfigError, match="trainer.threads=0"):
        choose_threads(0, ddp)


def test_apply_sets_torch_and_the_environment_for_the_processes_it_starts(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # monkeypatch restores it afterwards
    before = torch.get_num_threads()
    try:
        assert apply_threads(OmegaConf.create({"threads": 2})) == (2, "trainer.threads")
        assert torch.get_num_threads() == 2 and os.environ["OMP_NUM_THREADS"] == "2"
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_a_run_logs_the_thread_count_it_chose(cli_in_process, tmp_path):
    run = tmp_path / "run"
    cli_in_process("train", *TINY, "trainer.threads=1", f"hydra.run.dir={run}", cwd=tmp_path)
    assert "torch threads per process: 1 (trainer.threads)" in (run / "train.log").read_text()
