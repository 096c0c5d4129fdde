"""Label map / generated / real grids for label-conditioned families (SPADE): one row per evaluation
item, written as PNG beside the sample grids and sent to the loggers that take images."""

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torchvision.io import write_png
from torchvision.utils import make_grid

from gan_zoo.callbacks.kimg_schedule import crossed
from gan_zoo.metrics.ppl import block_generator
from gan_zoo.metrics.streams import to_uint8


def label_palette(count: int) -> Tensor:
    """[count, 3] uint8 colours: the PASCAL VOC bit-interleaved palette (label 0 black, neighbours distinct)."""
    colours = np.zeros((count, 3), dtype=np.uint8)
    for label in range(count):
        value, r, g, b = label, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        colours[label] = (r, g, b)
    return torch.from_numpy(colours)


def colourize(segmap: Tensor, count: int) -> Tensor:
    """[N, H, W] labels in [0, count) -> [N, 3, H, W] uint8."""
    return label_palette(count)[segmap.long().cpu()].permute(0, 3, 1, 2)


class LabelMapTriptych(L.Callback):
    def __init__(
        self,
        dirpath: str,  # directory of the PNG grids (the run's samples/)
        every_kimg: float | None = 100,  # kimg between grids; null: only at start and end
        num_images: int = 8,  # rows: evaluation items 0 .. num_images-1
        seed: int = 0,  # seeds the latents of VAE models (same every time)
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

    def triptych(self, pl_module: Any, dataset: Any) -> Tensor:
        """uint8 [3N, 3, H, W]: per item its coloured label map, the generated image, the real image."""
        items = [dataset[i] for i in range(min(self.num_images, len(dataset)))]
        batch = {key: torch.stack([item[key] for item in items]).to(pl_module.device) for key in items[0]}
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        # Drawing must not move the training RNG, or a run with grids would differ from one without.
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            fakes = pl_module.eval_fakes(batch, block_generator(self.seed, 0)).cpu()
        labels = colourize(batch["segmap"], int(getattr(pl_module, "num_labels", int(batch["segmap"].max()) + 1)))
        reals = to_uint8(batch["image"].cpu())
        rows = [torch.stack([label, fake, real]) for label, fake, real in zip(labels, to_uint8(fakes), reals, strict=True)]
        return torch.cat(rows)

    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        images = self.triptych(pl_module, trainer.datamodule.dataset)
        if not trainer.is_global_zero:
            return
        grid = make_grid(images, nrow=3, padding=0)
        kimg = int(pl_module.cur_nimg) / 1000
        path = self.dirpath / f"triptych_kimg{kimg:010.3f}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(grid, str(path))
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):  # W&B
                logger.log_image(key="triptych", images=[str(path)], step=trainer.global_step, caption=[f"kimg {kimg:.1f}"])
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
                logger.experiment.add_image("triptych", grid, global_step=int(pl_module.cur_nimg))
