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

from gan_zoo.callbacks.samples import ImageGridCallback
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


class TranslationGrid(ImageGridCallback):
    prefix = "reference"

    def __init__(
        self,
        dirpath: str,  # directory of the PNG grids (the run's samples/)
        every_kimg: float | None = 40,  # kimg between grids; null: only at start and end
        num_images: int = 8,  # sources, and references, in the grid
        seed: int = 0,  # ignored: the samples config's key for SampleGrid, which presets replace by this grid (no latents here)
    ) -> None:
        super().__init__(dirpath, every_kimg, num_images)
        self._inputs: tuple[Tensor, Tensor, Tensor] | None = None

    def nrow(self, count: int) -> int:
        return self.num_images + 1

    def images(self, trainer: L.Trainer, pl_module: Any) -> Tensor:
        if self._inputs is None:
            self._inputs = grid_inputs(trainer.datamodule.dataset, self.num_images)
        return pl_module.reference_grid(*self._inputs).cpu()
