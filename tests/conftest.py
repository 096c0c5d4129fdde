"""Shared test helpers: running the real CLI in a subprocess."""

import os
import shutil
import subprocess
import sys
import tempfile
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
_BACKGROUND: dict[str, tuple[subprocess.Popen, Path]] = {}


def _start_background_smoke(experiment: str, root: Path) -> None:
    """Train `experiment` on one thread in a background process (logs beside the run)."""
    folder = root / experiment.replace("/", "_")
    folder.mkdir(parents=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    env.pop("GAN_ZOO_COMMAND", None)
    with (folder / "train.log").open("w") as log:
        process = subprocess.Popen([gan_zoo_executable(), "train", f"experiment={experiment}", f"hydra.run.dir={folder / 'run'}"],
                                   cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=env)
    _BACKGROUND[experiment] = (process, folder)


def pytest_collection_modifyitems(session, config, items) -> None:
    # The single-thread smoke runs start as soon as a test that reads them is collected: each uses
    # one core, so they train alongside the first tests instead of one after the other.
    if any("smoke_run" in getattr(item, "fixturenames", ()) for item in items):
        root = Path(tempfile.mkdtemp(prefix="gan_zoo_smoke_"))
        for experiment in SINGLE_THREAD_SMOKE:
            _start_background_smoke(experiment, root)


def pytest_unconfigure(config) -> None:
    for process, folder in _BACKGROUND.values():
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(folder.parent, ignore_errors=True)


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
        if experiment in _BACKGROUND:
            process, folder = _BACKGROUND[experiment]
            if process.wait(timeout=1200) != 0:
                raise AssertionError(f"gan-zoo train experiment={experiment} failed ({process.returncode}):\n"
                                     f"{(folder / 'train.log').read_text()[-5000:]}")
            runs[experiment] = folder / "run"
        else:
            root = tmp_path_factory.mktemp(experiment.replace("/", "_"))
            run_cli("train", f"experiment={experiment}", f"hydra.run.dir={root / 'run'}", cwd=root)
            runs[experiment] = root / "run"
        return runs[experiment]

    return train
