"""Callbacks with an `every_kimg` period: due each time cur_nimg crosses a multiple of it."""

from typing import Any

import lightning as L


def crossed(before_nimg: int, after_nimg: int, every_kimg: float | None) -> bool:
    if not every_kimg or every_kimg <= 0:
        return False
    period = every_kimg * 1000
    return int(after_nimg // period) > int(before_nimg // period)


class KimgPeriodicCallback(L.Callback):
    """Base of the periodic callbacks: `due(pl_module)` is true in on_train_batch_end after the batch
    in which cur_nimg crossed a multiple of `every_kimg` (never when it is null or 0).

    Before such a batch the module is asked to log its scalars at that step too (`request_log_row`), so
    that what the callback sends the loggers (images, metric values) and a checkpoint's moment have the
    scalars of the same step beside them.
    """

    def __init__(self, every_kimg: float | None) -> None:
        self.every_kimg = every_kimg
        self._nimg_before = 0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        self._nimg_before = int(pl_module.cur_nimg)
        images = batch["image"].shape[0] * trainer.world_size if isinstance(batch, dict) and "image" in batch else 0
        if hasattr(pl_module, "request_log_row") and crossed(self._nimg_before, self._nimg_before + images, self.every_kimg):
            pl_module.request_log_row()

    def due(self, pl_module: L.LightningModule) -> bool:
        return crossed(self._nimg_before, int(pl_module.cur_nimg), self.every_kimg)
