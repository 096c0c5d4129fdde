"""A progress bar in kimg, with seconds per kimg and the family's phase (e.g. PGGAN's resolution).

While it is shown, what is logged to the terminal (saved checkpoints, metric values) is written
above it through tqdm, one message a line, never glued to the bar.
"""

import logging
import sys
import time
from collections import deque
from contextlib import ExitStack
from typing import Any

import lightning as L
from lightning.pytorch.callbacks.progress import ProgressBar
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

# The root logger (gan-zoo's messages through Hydra's console handler) and Lightning's, which have terminal
# handlers of their own when Lightning is imported before logging is configured.
TERMINAL_LOGGERS = ("", "lightning.pytorch", "lightning.fabric")


class KimgProgressBar(ProgressBar):
    def __init__(
        self,
        refresh_kimg: float = 0.0,  # kimg between bar refreshes; 0 refreshes every step
    ) -> None:
        super().__init__()
        self.refresh_kimg = refresh_kimg
        self._enabled = True
        self._bar: tqdm | None = None
        self._last_refresh_nimg = 0
        self._recent: deque[tuple[float, int]] = deque(maxlen=20)  # (time, nimg) of recent steps: s/kimg is current speed, not the run average
        self._redirect = ExitStack()

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    @property
    def is_enabled(self) -> bool:
        return self._enabled and self.trainer.is_global_zero

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.is_enabled:
            return
        total = pl_module.total_nimg / 1000
        self._bar = tqdm(
            total=total,
            initial=int(pl_module.cur_nimg) / 1000,
            unit="kimg",
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} kimg [{elapsed}<{remaining}{postfix}]",
        )
        self._recent.clear()
        self._recent.append((time.perf_counter(), int(pl_module.cur_nimg)))
        self._last_refresh_nimg = int(pl_module.cur_nimg)
        self._redirect.enter_context(logging_redirect_tqdm(_terminal_loggers(), tqdm_class=tqdm))

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._bar is None:
            return
        nimg = int(pl_module.cur_nimg)
        if (nimg - self._last_refresh_nimg) / 1000 < self.refresh_kimg:
            return
        self._recent.append((time.perf_counter(), nimg))
        elapsed = self._recent[-1][0] - self._recent[0][0]
        done_kimg = (nimg - self._recent[0][1]) / 1000
        postfix = {"s/kimg": f"{elapsed / done_kimg:.1f}" if done_kimg > 0 else "-"}
        phase = pl_module.progress_description()
        if phase:
            postfix["phase"] = phase
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(min(nimg, pl_module.total_nimg) / 1000 - self._bar.n)
        self._last_refresh_nimg = nimg

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._redirect.close()


def _terminal_loggers() -> list[logging.Logger]:
    """The loggers among TERMINAL_LOGGERS that write to the terminal themselves (a propagating one has no handler)."""
    terminal = (sys.stdout, sys.stderr)
    loggers = [logging.getLogger(name) for name in TERMINAL_LOGGERS]
    return [logger for logger in loggers if any(type(h) is logging.StreamHandler and getattr(h, "stream", None) in terminal for h in logger.handlers)]
