"""The bases of the periodic callbacks: `KimgPeriodicCallback` (due each time cur_nimg crosses a multiple
of `every_kimg`) and `ImageGridCallback`, image grids written as PNG against kimg and sent to the
loggers that take images (at the start of a new run, every `every_kimg` and at the end).
"""

from pathlib import Path
from typing import Any

import lightning as L
from torch import Tensor
from torchvision.io import write_png
from torchvision.utils import make_grid


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


class ImageGridCallback(KimgPeriodicCallback):
    """Base of the grid callbacks: a subclass says what images (`images`) and how many per row (`nrow`)."""

    prefix = "fakes"  # file name: <prefix>_kimg<kimg>.png
    log_key = "samples"  # the loggers' image key

    def __init__(self, dirpath: str, every_kimg: float | None, num_images: int) -> None:
        super().__init__(every_kimg)
        self.dirpath = Path(dirpath)
        self.num_images = num_images
        self._written_nimg: int | None = None

    def images(self, trainer: L.Trainer, pl_module: Any) -> Tensor:
        """uint8 [N, C, H, W] on the CPU, computed on every rank; only rank 0 writes them."""
        raise NotImplementedError

    def nrow(self, count: int) -> int:
        return int(count**0.5 + 0.5)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if int(pl_module.cur_nimg) == 0:
            self.write(trainer, pl_module)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.due(pl_module):
            self.write(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._written_nimg != int(pl_module.cur_nimg):  # not twice at the same kimg when the last step was due
            self.write(trainer, pl_module)

    def write(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._written_nimg = int(pl_module.cur_nimg)
        images = self.images(trainer, pl_module)
        if not trainer.is_global_zero:
            return
        grid = make_grid(images, nrow=self.nrow(len(images)), padding=0)
        kimg = int(pl_module.cur_nimg) / 1000
        path = self.dirpath / f"{self.prefix}_kimg{kimg:010.3f}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(grid, str(path))
        # Every logger's step is images shown, as for the scalars of the same step (GANModule.log_step).
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):  # W&B
                logger.log_image(key=self.log_key, images=[str(path)], step=int(pl_module.cur_nimg), caption=[f"kimg {kimg:.1f}"])
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
                logger.experiment.add_image(self.log_key, grid, global_step=int(pl_module.cur_nimg))
