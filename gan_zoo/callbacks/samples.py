"""Sample grids from G_ema with fixed latents, written as PNG and sent to the loggers that take images."""

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torchvision.utils import make_grid
from torchvision.io import write_png

from gan_zoo.callbacks.kimg_schedule import crossed


class SampleGrid(L.Callback):
    def __init__(
        self,
        dirpath: str,  # directory of the PNG grids (the run's samples/)
        every_kimg: float | None = 100,  # kimg between grids; null: only at start and end
        num_images: int = 64,  # images per grid
        seed: int = 0,  # first latent seed; the grid uses seeds seed .. seed+num_images-1 every time
    ) -> None:
        self.dirpath = Path(dirpath)
        self.every_kimg = every_kimg
        self.num_images = num_images
        self.seed = seed
        self._nimg_before = 0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if int(pl_module.cur_nimg) == 0:
            self._write(trainer, pl_module)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        self._nimg_before = int(pl_module.cur_nimg)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if crossed(self._nimg_before, int(pl_module.cur_nimg), self.every_kimg):
            self._write(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, pl_module)

    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        seeds = list(range(self.seed, self.seed + self.num_images))
        # Sampling must not move the training RNG, or a run with grids would differ from one without.
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            images = pl_module.sample(seeds).cpu()
        if not trainer.is_global_zero:
            return
        grid = make_grid(images, nrow=int(len(seeds) ** 0.5 + 0.5), padding=0)
        kimg = int(pl_module.cur_nimg) / 1000
        path = self.dirpath / f"fakes_kimg{kimg:010.3f}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(grid, str(path))
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):  # W&B
                logger.log_image(key="samples", images=[str(path)], step=trainer.global_step, caption=[f"kimg {kimg:.1f}"])
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
                logger.experiment.add_image("samples", grid, global_step=int(pl_module.cur_nimg))
