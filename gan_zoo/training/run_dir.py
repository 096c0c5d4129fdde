"""The run directory of `gan-zoo train`: left as it was until the run is accepted, then its config and log.

Hydra writes nothing into it (conf/hydra/default.yaml: `output_subdir: null` and console-only job
logging); `RunDirectory.accept` writes, once every start-up check has passed:

* `.hydra/config.yaml`, `hydra.yaml` and `overrides.yaml`, as Hydra would, for a new run. A resume
  keeps the run's own files (they say how its checkpoints were made) and writes its config beside
  them, in `.hydra/resume-<n>/`;
* `train.log`, appended to: every log record of the run from its start (the settings, Lightning's
  messages, saved checkpoints), the progress bar as lines (`ProgressLines`), and the error or exit
  status that ended the run.

A run refused before that (a bad config, missing data, a directory that already holds checkpoints)
leaves the directory byte for byte as it was, and removes it when Hydra created it for this run.
"""

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
from hydra.experimental.callback import Callback as HydraCallback
from omegaconf import DictConfig, OmegaConf

from gan_zoo.errors import GanZooError

FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"  # Hydra's default job-log format
FILE_ONLY = logging.getLogger("gan_zoo.run_log")  # records for train.log alone: the terminal shows them otherwise
FILE_ONLY.propagate = False
FILE_ONLY.addHandler(logging.NullHandler())
FILE_ONLY.setLevel(logging.INFO)

# Lightning gives its loggers a handler of their own and stops their records from reaching the
# root logger when it is imported before logging is configured (as here, before Hydra's set-up).
LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")


@dataclass
class _Before:
    path: Path  # the run or sweep directory (absolute)
    outermost_new: Path | None  # the outermost directory Hydra will make for it; None if it existed
    entries: frozenset[str]  # names in it before (a sweep's earlier jobs)
    multirun_yaml: bytes | None  # a sweep directory's multirun.yaml before Hydra rewrites it


_before: dict[str, _Before] = {}  # "run" or "sweep" -> what was there before Hydra made or wrote anything


class NoteNewRunDirectory(HydraCallback):
    """Hydra callback: before Hydra creates the run (or sweep) directory, note what was there."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        _note("run", Path(str(config.hydra.run.dir)))

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        _note("sweep", Path(str(config.hydra.sweep.dir)))


def _note(kind: str, path: Path) -> None:
    _before.clear()
    path = path.absolute()
    outermost = next((p for p in reversed([path, *path.parents]) if not p.exists()), None)
    entries = frozenset(p.name for p in path.iterdir()) if path.is_dir() else frozenset()
    multirun = path / "multirun.yaml"
    _before[kind] = _Before(path, outermost, entries, multirun.read_bytes() if multirun.is_file() else None)


def _outermost_new(path: Path) -> Path | None:
    """The outermost directory made for this run, if Hydra made its directory; None if it was there before."""
    path = path.absolute()
    run, sweep = _before.get("run"), _before.get("sweep")
    if run is not None and run.path == path:
        return run.outermost_new
    if sweep is not None and path.parent == sweep.path and path.name not in sweep.entries:
        return path  # a new job directory of this sweep (the sweep's multirun.yaml: restore_sweep_dir_if_all_refused)
    return None


def _remove_empty_up_to(directory: Path, outermost: Path) -> None:
    while True:
        try:
            directory.rmdir()  # only ever an empty directory
        except OSError:
            return
        if directory == outermost:
            return
        directory = directory.parent


def restore_sweep_dir_if_all_refused() -> None:
    """A sweep whose jobs were all refused leaves its directory as it was: Hydra writes the sweep's
    `multirun.yaml` before any job starts, so put back the one that was there (or remove it), and
    remove the directories Hydra made for the sweep. A sweep with any accepted job keeps everything."""
    sweep = _before.get("sweep")
    if sweep is None or not sweep.path.is_dir():
        return
    if any(p.name not in sweep.entries and p.name != "multirun.yaml" for p in sweep.path.iterdir()):
        return
    multirun = sweep.path / "multirun.yaml"
    if sweep.multirun_yaml is None:
        multirun.unlink(missing_ok=True)
    else:
        multirun.write_bytes(sweep.multirun_yaml)
    if sweep.outermost_new is not None:
        _remove_empty_up_to(sweep.path, sweep.outermost_new)


class RunDirectory:
    """`with RunDirectory(path) as run_dir: ... run_dir.accept(cfg, resumed_from)`: see the module docstring.

    Only the main process writes (`is_main`); DDP workers of the same run pass False.
    """

    def __init__(self, path: Path, is_main: bool = True) -> None:
        self.path = Path(path)
        self.is_main = is_main
        self.config_dir: Path | None = None
        self._buffer: list[logging.LogRecord] = []
        self._handler: logging.Handler | None = None
        self._attached: list[logging.Logger] = []

    def __enter__(self) -> "RunDirectory":
        if self.is_main:
            self._handler = _Buffer(self._buffer)
            self._attach(self._handler)
        return self

    def accept(self, cfg: DictConfig, resumed_from: Path | None) -> None:
        """The run starts: write its config, open train.log with everything logged so far."""
        if not self.is_main:
            return
        self.config_dir = write_config(self.path, cfg, resuming=resumed_from is not None)
        self.path.mkdir(parents=True, exist_ok=True)
        file = logging.FileHandler(self.path / "train.log", mode="a", encoding="utf-8")
        file.setFormatter(logging.Formatter(FORMAT))
        for record in self._buffer:
            file.handle(record)
        self._buffer.clear()
        self._detach()
        self._handler = file
        self._attach(file)
        FILE_ONLY.addHandler(file)

    @property
    def accepted(self) -> bool:
        return self.config_dir is not None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any) -> None:
        if self.accepted and error is not None:
            _log_end(error)
        self._detach()
        if self._handler is not None:
            FILE_ONLY.removeHandler(self._handler)
            self._handler.close()
            self._handler = None
        if self.is_main and not self.accepted:
            self._remove_if_new()

    def _attach(self, handler: logging.Handler) -> None:
        self._attached = [logging.getLogger()] + [logging.getLogger(n) for n in LIGHTNING_LOGGERS if not logging.getLogger(n).propagate]
        for logger in self._attached:
            logger.addHandler(handler)

    def _detach(self) -> None:
        for logger in self._attached:
            if self._handler is not None:
                logger.removeHandler(self._handler)
        self._attached = []

    def _remove_if_new(self) -> None:
        """A refused run leaves no directory behind: remove the (still empty) ones Hydra made for it."""
        outermost = _outermost_new(self.path)
        if outermost is not None:
            _remove_empty_up_to(self.path.absolute(), outermost)


class _Buffer(logging.Handler):
    """Keeps the records of a run not yet accepted: they go to train.log if it is, nowhere if it is refused."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _log_end(error: BaseException) -> None:
    if isinstance(error, GanZooError):
        FILE_ONLY.error("gan-zoo train: error: %s", error)
    elif isinstance(error, SystemExit):
        if error.code not in (None, 0):
            FILE_ONLY.error("gan-zoo train: exited with status %s", error.code)
    elif isinstance(error, KeyboardInterrupt):
        FILE_ONLY.error("gan-zoo train: interrupted")
    else:
        FILE_ONLY.error("gan-zoo train: failed", exc_info=error)


def write_config(run_dir: Path, cfg: DictConfig, resuming: bool) -> Path:
    """The run's config files as Hydra writes them; a resume's go to `.hydra/resume-<n>/` when the run has its own."""
    config_dir = run_dir / ".hydra"
    if resuming and (config_dir / "config.yaml").is_file():
        n = 1
        while (config_dir / f"resume-{n}").exists():
            n += 1
        config_dir = config_dir / f"resume-{n}"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg), encoding="utf-8")
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        hydra = HydraConfig.instance().cfg
        (config_dir / "hydra.yaml").write_text(OmegaConf.to_yaml(hydra), encoding="utf-8")
        (config_dir / "overrides.yaml").write_text(OmegaConf.to_yaml(hydra.hydra.overrides.task), encoding="utf-8")  # type: ignore[union-attr]
    return config_dir


class ProgressLines(L.Callback):
    """The progress bar as lines in train.log: each tenth of the run, and each change of phase.

    A phase is the module's progress description without its running numbers (PGGAN's "8x8 fade 0.25"
    is phase "8x8 fade"; StyleGAN2's "p=0.012" one phase throughout).
    """

    def __init__(self, steps: int = 10) -> None:
        self.steps = steps
        self._phase: str | None = None
        self._next_nimg = 0
        self._start: tuple[float, int] = (0.0, 0)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        nimg = int(pl_module.cur_nimg)
        self._start = (time.perf_counter(), nimg)
        self._next_nimg = nimg
        self._phase = None

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if not trainer.is_global_zero:
            return
        nimg, total = int(pl_module.cur_nimg), int(pl_module.total_nimg)
        description = pl_module.progress_description()
        phase = re.sub(r"\s*\d+\.\d+", "", description).strip()
        if phase != self._phase:
            self._phase = phase
            if description:
                FILE_ONLY.info("%.1f kimg: %s", nimg / 1000, description)
        if nimg >= self._next_nimg or nimg >= total:
            seconds, start_nimg = time.perf_counter() - self._start[0], self._start[1]
            speed = f", {seconds / ((nimg - start_nimg) / 1000):.1f} s/kimg" if nimg > start_nimg else ""
            FILE_ONLY.info(
                "%.1f/%.1f kimg (%d%%)%s%s", nimg / 1000, total / 1000, min(100 * nimg // max(total, 1), 100), speed, f", {description}" if description else ""
            )
            self._next_nimg = (nimg // max(total // self.steps, 1) + 1) * max(total // self.steps, 1)
