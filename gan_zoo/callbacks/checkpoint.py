"""Checkpoints by images shown, `last.ckpt` at the end and on SIGTERM/SIGINT.

Lightning's ModelCheckpoint counts steps or epochs; GAN schedules count images (and PGGAN changes
the batch size on the way), so periods here are in kimg. Files go through the trainer, hence through
`AtomicCheckpointIO`: a crash never leaves a half-written checkpoint.
"""

import signal
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from gan_zoo.callbacks.periodic import KimgPeriodicCallback


class KimgCheckpoint(KimgPeriodicCallback):
    def __init__(
        self,
        dirpath: str,  # directory of the checkpoints (the run's checkpoints/)
        every_kimg: float | None = 500,  # kimg between periodic checkpoints; null: only last.ckpt
        keep_last: int | None = None,  # periodic checkpoints kept (oldest deleted first); null keeps all
        monitor: str | None = None,  # a metric value (e.g. fid50k_full, pr50k3_full_recall) whose best is kept as best.ckpt; null: none
        mode: str = "min",  # min: lower is better (FID, KID, PPL); max: higher is better (IS, precision, recall)
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"callbacks.checkpoint.mode={mode!r}: use min or max")
        super().__init__(every_kimg)
        self.dirpath = Path(dirpath)
        self.keep_last = keep_last
        self.monitor = monitor
        self.mode = mode
        self.best_value: float | None = None
        self.stop_signal: int | None = None
        self._previous_handlers: dict[int, Any] = {}

    # A first SIGINT/SIGTERM asks for a clean stop at the end of the current step; a second SIGINT
    # interrupts at once (Python's default), for a user who really wants out.
    def _request_stop(self, signum: int, frame: Any) -> None:
        if self.stop_signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.stop_signal = signum
        rank_zero_info(f"\nreceived {signal.Signals(signum).name}: saving last.ckpt at the end of this step, then stopping")
        previous = self._previous_handlers.get(signum)
        if signum == signal.SIGTERM and callable(previous):
            previous(signum, frame)  # Lightning's handler forwards SIGTERM to DDP children

    # Installed once Lightning has installed its own (its SIGTERM handler, which stops DDP children, is
    # the previous one we chain to) and given back before Lightning gives back the handlers it found, on
    # both ways out of the loop: a fit, finished or failed, leaves the process's handlers as they were, so
    # its next Ctrl-C (a notebook's, a script's) interrupts again.
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous_handlers[signum] = signal.signal(signum, self._request_stop)
            except ValueError:  # not the main thread (e.g. a notebook worker): keep the defaults
                pass

    def _restore_signal_handlers(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)
        self._previous_handlers = {}

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.due(pl_module):
            self._save(trainer, self.dirpath / f"kimg{int(pl_module.cur_nimg) / 1000:010.3f}.ckpt")
            self._prune()
        if self.stop_signal is not None or getattr(trainer, "received_sigterm", False):
            trainer.should_stop = True

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._save(trainer, self.dirpath / "last.ckpt")
        self._restore_signal_handlers()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._restore_signal_handlers()
        # Lightning stops DDP ranks with SIGTERMException at the start of a step: the state is whole.
        if isinstance(exception, SIGTERMException):
            self._save(trainer, self.dirpath / "last.ckpt")

    def offer(self, trainer: L.Trainer, name: str, value: float) -> None:
        """A metric value just computed (by MetricsCallback); writes best.ckpt when it is the monitored one and improved."""
        if name != self.monitor:
            return
        if self.best_value is None or (value < self.best_value if self.mode == "min" else value > self.best_value):
            self.best_value = value
            self._save(trainer, self.dirpath / "best.ckpt")

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_value = state_dict.get("best_value")

    def _save(self, trainer: L.Trainer, path: Path) -> None:
        trainer.save_checkpoint(path, weights_only=False)  # full training state, for exact resume
        rank_zero_info(f"saved {path}")

    def _prune(self) -> None:
        if self.keep_last is None or not self.dirpath.is_dir():
            return
        periodic = sorted(self.dirpath.glob("kimg*.ckpt"))
        for old in periodic[: max(len(periodic) - self.keep_last, 0)]:
            old.unlink(missing_ok=True)
