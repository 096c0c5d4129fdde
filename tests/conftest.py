"""Shared test helpers: running the real CLI in a subprocess, and the xdist set-up.

The suite runs on two pytest-xdist workers by default (`addopts` in pyproject.toml). Most of its
time is single-threaded (Python start-up and imports of every `gan-zoo` subprocess), so two workers
halve it; each worker and every process it starts uses one intra-op thread, so the two workers
never ask for more threads than two cores have (oversubscribed torch threads spin and slow
everything down several-fold).
"""

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parent.parent

if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the CLI subprocesses
    import torch

    torch.set_num_threads(1)


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


def run_cli_in_process(*args: str, cwd: Path | None = None, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """`gan-zoo ARGS` through the same dispatcher and Hydra app, but in this process.

    For commands that compose configs, build networks or stop at an error without training
    (summary, list, --help, --cfg job, refused inputs): each subprocess costs about 10 s of imports
    (torch, Lightning) on the 2-core CI machine, most of such a test's time. Runs that train use
    `run_cli`, and so does the test of the console script itself.
    """
    from gan_zoo import cli as dispatcher

    stdout, stderr = io.StringIO(), io.StringIO()
    import torch

    saved_env, saved_argv, saved_cwd = dict(os.environ), list(sys.argv), os.getcwd()
    saved_threads = torch.get_num_threads()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)  # as the CLI subprocesses (OMP_NUM_THREADS=1), so values computed both ways agree
    os.environ.update(env or {})
    os.environ.pop("GAN_ZOO_COMMAND", None)
    returncode = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        sys.argv = ["gan-zoo", *args]
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            dispatcher.main(list(args))
    except SystemExit as exit_:
        returncode = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        torch.set_num_threads(saved_threads)
        os.environ.clear()
        os.environ.update(saved_env)
    result = subprocess.CompletedProcess(["gan-zoo", *args], returncode, stdout.getvalue(), stderr.getvalue())
    if check and returncode != 0:
        raise AssertionError(f"gan-zoo {' '.join(args)} failed ({returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    return result


@pytest.fixture(autouse=True)
def _signal_handlers_unchanged():
    """Every test leaves the process's Ctrl-C / SIGTERM handlers as it found them: a handler left behind
    (a fit that did not give its own back) changes what a later test in the same worker sees."""
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    after = {signum: signal.getsignal(signum) for signum in before}
    for signum, handler in before.items():
        signal.signal(signum, handler)
    changed = {signal.Signals(signum).name: after[signum] for signum in before if after[signum] != before[signum]}
    assert not changed, f"the test left signal handlers changed: {changed}"


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_in_process():
    return run_cli_in_process


SINGLE_THREAD_SMOKE = ("smoke/spade", "smoke/stargan_v2")  # smoke runs whose learned behaviour tests check


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """`smoke_run("smoke/spade")` -> the run directory of that smoke experiment, trained once per session.

    The output-contract test and each family's end-to-end tests read the same run, so every smoke
    preset is trained once however many tests look at it, whichever xdist worker asks first (the
    others wait on a file lock in the folder all workers share). Tests must not write into the run
    folder. The runs whose learned behaviour tests judge train on one thread: with several, the
    float reductions (so the few-kimg trajectory) depend on the machine's thread count, and one
    thread makes the trained model the same on every run of the suite.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # basetemp/popen-gwN under xdist

    def train(experiment: str) -> Path:
        root = shared / f"smoke_{experiment.replace('/', '_')}"
        run, done = root / "run", root / "trained"
        with FileLock(str(root) + ".lock"):
            if not done.exists():
                shutil.rmtree(root, ignore_errors=True)  # a worker that failed half-way left a partial run
                root.mkdir(parents=True)
                env = {"OMP_NUM_THREADS": "1"} if experiment in SINGLE_THREAD_SMOKE else None
                run_cli("train", f"experiment={experiment}", f"hydra.run.dir={run}", cwd=root, env=env)
                done.touch()
        return run

    return train
