"""StarGAN v2 sample grids: the official sources x references grid from the EMA networks, against kimg.

The first row holds the sources (after a white corner); each further row a reference and every
source translated with its style. Sources and references are fixed: the first validation images
of each domain in turn (the training images when the data set has no validation split), so the
grids of one run are comparable over time.
"""

from typing import Any

import lightning as L
import torch
from torch import Tensor
from torchvision.io import write_png
from torchvision.utils import make_grid

from gan_zoo.callbacks.samples import SampleGrid
from gan_zoo.data.resized_crop import resize


def grid_inputs(dataset: Any, count: int) -> tuple[Tensor, Tensor, Tensor]:
    """(sources, references, reference domains): `count` each, cycling through the domains."""
    images = dataset.validation if getattr(dataset, "validation", None) is not None else dataset.images
    members = [images.members(d) for d in range(len(images.names))]
    k = len(members)
    sources = [members[i % k][(i // k) % len(members[i % k])] for i in range(count)]
    references = [members[i % k][-1 - (i // k) % len(members[i % k])] for i in range(count)]

    def stack(indices: list[int]) -> Tensor:
        return torch.stack([resize(images.image(i), dataset.resolution) for i in indices])

    return stack(sources), stack(references), torch.tensor([images.domain_of(i) for i in references])


class TranslationGrid(SampleGrid):
    def __init__(
        self,
        dirpath: str,  # directory of the PNG grids (the run's samples/)
        every_kimg: float | None = 40,  # kimg between grids; null: only at start and end
        num_images: int = 8,  # sources, and references, in the grid
        seed: int = 0,  # unused (the grid has no latents); kept so the samples config keys fit both grids
    ) -> None:
        super().__init__(dirpath, every_kimg, num_images, seed)
        self._inputs: tuple[Tensor, Tensor, Tensor] | None = None

    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._inputs is None:
            self._inputs = grid_inputs(trainer.datamodule.dataset, self.num_images)
        images = pl_module.reference_grid(*self._inputs).cpu()
        if not trainer.is_global_zero:
            return
        grid = make_grid(images, nrow=self.num_images + 1, padding=0)
        kimg = int(pl_module.cur_nimg) / 1000
        path = self.dirpath / f"reference_kimg{kimg:010.3f}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(grid, str(path))
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):  # W&B
                logger.log_image(key="samples", images=[str(path)], step=trainer.global_step, caption=[f"kimg {kimg:.1f}"])
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
                logger.experiment.add_image("samples", grid, global_step=int(pl_module.cur_nimg))
