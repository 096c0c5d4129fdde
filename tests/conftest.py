"""Shared test helpers: running the real CLI in a subprocess."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def gan_zoo_executable() -> str:
    candidate = Path(sys.executable).parent / "gan-zoo"
    return str(candidate) if candidate.exists() else shutil.which("gan-zoo") or "gan-zoo"


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env.pop("GAN_ZOO_COMMAND", None)
    result = subprocess.run([gan_zoo_executable(), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)
    if check and result.returncode != 0:
        raise AssertionError(f"gan-zoo {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


@pytest.fixture
def cli():
    return run_cli


SINGLE_THREAD_SMOKE = ("smoke/spade", "smoke/stargan_v2")  # smoke runs whose learned behaviour tests check


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """`smoke_run("smoke/spade")` -> the run directory of that smoke experiment, trained once per session.

    The output-contract test and each family's end-to-end tests read the same run, so every smoke
    preset is trained once however many tests look at it. Tests must not write into the run folder.
    The runs whose learned behaviour tests judge train on one thread: with several, the float
    reductions (so the few-kimg trajectory) depend on the machine's thread count, and one thread
    makes the trained model the same on every run of the suite.
    """
    runs: dict[str, Path] = {}

    def train(experiment: str) -> Path:
        if experiment in runs:
            return runs[experiment]
        root = tmp_path_factory.mktemp(experiment.replace("/", "_"))
        env = {"OMP_NUM_THREADS": "1"} if experiment in SINGLE_THREAD_SMOKE else None
        run_cli("train", f"experiment={experiment}", f"hydra.run.dir={root / 'run'}", cwd=root, env=env)
        runs[experiment] = root / "run"
        return runs[experiment]

    return train
