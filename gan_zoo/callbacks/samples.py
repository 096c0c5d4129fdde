"""Image grids written as PNG against kimg and sent to the loggers that take images: `ImageGridCallback`
(at the start of a new run, every `every_kimg` and at the end) and `SampleGrid`, G_ema's images of
fixed seeds."""

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torchvision.io import write_png
from torchvision.utils import make_grid

from gan_zoo.callbacks.kimg_schedule import KimgPeriodicCallback


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


class SampleGrid(ImageGridCallback):
    def __init__(
        self,
        dirpath: str,  # directory of the PNG grids (the run's samples/)
        every_kimg: float | None = 100,  # kimg between grids; null: only at start and end
        num_images: int = 64,  # images per grid
        seed: int = 0,  # first latent seed; the grid uses seeds seed .. seed+num_images-1 every time
    ) -> None:
        super().__init__(dirpath, every_kimg, num_images)
        self.seed = seed

    def images(self, trainer: L.Trainer, pl_module: Any) -> Tensor:
        seeds = list(range(self.seed, self.seed + self.num_images))
        # Sampling must not move the training RNG, or a run with grids would differ from one without.
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            return pl_module.sample(seeds).cpu()
