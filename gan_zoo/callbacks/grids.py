"""The image grids of training: `SampleGrid` (G_ema's images of fixed seeds, every family),
`LabelMapTriptych` (label map | real | generated, SPADE) and `TranslationGrid` (StarGAN v2's
source x reference translations).
"""

from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor

from gan_zoo.callbacks.periodic import ImageGridCallback
from gan_zoo.data.resized_crop import resize
from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.metrics.ppl import block_generator


class SampleGrid(ImageGridCallback):
    def __init__(
        self,
        dirpath: str,  # directory of the PNG grids (the run's samples/)
        every_kimg: float | None = 100,  # kimg between grids; null: only at start and end
        num_images: int = 64,  # images per grid
        seed: int = 0,  # first latent seed; the grid uses seeds seed .. seed+num_images-1 every time
        per_row: int | None = None,  # images per row; null: a square grid (a class-conditional model's
        #   grid cycles the classes by seed, so per_row = the class count puts one class in each column)
    ) -> None:
        super().__init__(dirpath, every_kimg, num_images)
        self.seed = seed
        self.per_row = per_row

    def nrow(self, count: int) -> int:
        return self.per_row or super().nrow(count)

    def images(self, trainer: L.Trainer, pl_module: Any) -> Tensor:
        seeds = list(range(self.seed, self.seed + self.num_images))
        # Sampling must not move the training RNG, or a run with grids would differ from one without.
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            return pl_module.sample(seeds).cpu()


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


class LabelMapTriptych(ImageGridCallback):
    prefix = "triptych"
    log_key = "triptych"

    def __init__(
        self,
        dirpath: str,  # directory of the PNG grids (the run's samples/)
        every_kimg: float | None = 100,  # kimg between grids; null: only at start and end
        num_images: int = 8,  # rows: evaluation items 0 .. num_images-1
        seed: int = 0,  # seeds the latents of VAE models (same every time)
    ) -> None:
        super().__init__(dirpath, every_kimg, num_images)
        self.seed = seed

    def nrow(self, count: int) -> int:
        return 3

    def images(self, trainer: L.Trainer, pl_module: Any) -> Tensor:
        return self.triptych(pl_module, trainer.datamodule.dataset)

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
        per_row: int | None = None,  # the samples config's key for SampleGrid: this grid's rows are its sources, so only null
    ) -> None:
        if per_row is not None:
            raise ConfigError(
                f"callbacks.samples.per_row={per_row}: the translation grid has one row per source (callbacks.samples.num_images); leave per_row null"
            )
        super().__init__(dirpath, every_kimg, num_images)
        self._inputs: tuple[Tensor, Tensor, Tensor] | None = None

    def nrow(self, count: int) -> int:
        return self.num_images + 1

    def images(self, trainer: L.Trainer, pl_module: Any) -> Tensor:
        if self._inputs is None:
            self._inputs = grid_inputs(trainer.datamodule.dataset, self.num_images)
        return pl_module.reference_grid(*self._inputs).cpu()
