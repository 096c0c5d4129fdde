"""How many CPU threads torch uses in each process of a run (`trainer.threads`).

Two processes that each use torch's default (every core) on the same cores slow each other down many
times over (OpenMP threads spinning against each other), so a run divides the cores it may use among
the processes it runs at once: its DDP ranks on this machine and the parallel jobs of a joblib
multirun. Data-loader workers take one thread each (torch sets that in every worker).
"""

import os
from typing import Any

import torch
from omegaconf import DictConfig, ListConfig

from gan_zoo.errors import ConfigError

THREADS_ENV = "OMP_NUM_THREADS"  # set by the user or a scheduler: the default then keeps it


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity (taskset, a container's cpuset), not the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_process(cores: int, processes: int) -> int:
    """The cores shared evenly among the processes running at once, at least one thread each."""
    return max(1, cores // max(1, processes))


def local_ranks(trainer: DictConfig | dict[str, Any]) -> int:
    """Training processes this trainer config starts on this machine (Lightning's `devices`)."""
    devices = trainer.get("devices", 1)
    accelerator = str(trainer.get("accelerator", "auto"))
    gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    if devices in (None, "auto", -1, "-1"):
        return max(1, torch.cuda.device_count()) if gpu else 1
    if isinstance(devices, list | tuple | ListConfig):
        return max(1, len(devices))
    if isinstance(devices, str) and "," in devices:  # "0,1": device indices
        return max(1, len([d for d in devices.split(",") if d.strip()]))
    return max(1, int(devices))


def parallel_jobs(cores: int) -> int:
    """Jobs a joblib multirun runs at once beside this one (1 outside such a multirun)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return 1
    hydra = HydraConfig.get()
    if hydra.mode != RunMode.MULTIRUN or "joblib" not in str(hydra.launcher.get("_target_", "")):
        return 1
    n_jobs = hydra.launcher.get("n_jobs")
    if n_jobs is None:
        return 1
    n_jobs = int(n_jobs)
    return max(1, cores + 1 + n_jobs if n_jobs < 0 else n_jobs)  # joblib: -1 = one job per core, -2 = all but one


def choose_threads(setting: int | None, trainer: DictConfig | dict[str, Any]) -> tuple[int, str]:
    """(threads per process, why): `trainer.threads` if set; else $OMP_NUM_THREADS if set; else the usable
    cores divided among this run's DDP ranks and parallel multirun jobs."""
    if setting is not None:
        if int(setting) < 1:
            raise ConfigError(f"trainer.threads={setting}: give a positive thread count per process, or null to divide the cores among the processes")
        return int(setting), "trainer.threads"
    explicit = os.environ.get(THREADS_ENV, "").strip()
    if explicit.isdigit() and int(explicit) >= 1:
        return int(explicit), f"${THREADS_ENV}"
    cores = usable_cores()
    ranks, jobs = local_ranks(trainer), parallel_jobs(cores)
    return threads_per_process(cores, ranks * jobs), f"{cores} usable cores / ({ranks} ranks x {jobs} parallel jobs)"


def apply_threads(trainer: DictConfig | dict[str, Any]) -> tuple[int, str]:
    """Set torch's intra-op threads from `trainer.threads`; also exported as $OMP_NUM_THREADS, so that the
    processes this one starts (DDP ranks) keep the count and Lightning does not choose another."""
    threads, why = choose_threads(trainer.get("threads"), trainer)
    torch.set_num_threads(threads)
    os.environ[THREADS_ENV] = str(threads)
    return threads, why
