"""DomainPairDataset: StarGAN v2's training items: a source, a reference pair and the target domain.

Item j is drawn from a generator seeded by (seed, j), so the stream stays a pure function of the
index (bit-exact resume, any worker count), as the official loaders draw it:

* the source: a domain uniformly (the official domain-balanced sampler), then one of its images;
* the reference: any training image uniformly (so target domains follow the domain sizes, as the
  official shuffled reference loader), whose domain is `ref_label`, the target domain; `ref_image2`
  is another image of that domain;
* each of the three: the official augmentation (random-resized crop with probability 0.5, resize,
  horizontal flip), drawn independently.

Because every draw is random, indices carry no order: the set has `draws_per_image` x N items so
that the sampler's epoch (one permutation of all items) is long and no draw repeats early.
`preview(i)` is source image i unaugmented (sample grids); `validation` holds the val domains
(evaluation metrics).
"""

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.domains import DomainFolderImages, DomainImages, ShapesDomainImages
from gan_zoo.data.errors import DataError
from gan_zoo.data.resized_crop import augment, resize


class DomainPairDataset(MirroredDataset):
    def __init__(
        self,
        images: DomainImages,  # the training images with their domains
        resolution: int,  # pixels per side of every item
        channels: int = 3,  # image channels (must match the images)
        seed: int = 0,  # with the index, selects every draw of an item
        draws_per_image: int = 64,  # items per training image (the sampler's epoch is N x this)
        augment: bool = True,  # the official random-resized crop and flips; false: resize only
        crop_prob: float = 0.5,  # probability of the random-resized crop
        crop_scale: tuple[float, float] = (0.8, 1.0),  # its area fraction range
        crop_ratio: tuple[float, float] = (0.9, 1.1),  # its aspect ratio range
        validation: DomainImages | None = None,  # the val split (same domains), used by the translation metrics
    ) -> None:
        if validation is not None and validation.names != images.names:
            raise DataError(
                f"the validation domains {validation.names} differ from the training domains {images.names}; give both splits the same domain folders"
            )
        self.images, self.validation = images, validation
        self.resolution, self.channels, self.seed = resolution, channels, seed
        self.draws_per_image, self.augment = draws_per_image, augment
        self.crop = {"prob": crop_prob, "scale": tuple(crop_scale), "ratio": tuple(crop_ratio)}
        self.num_classes = len(images.names)
        self.domain_names = list(images.names)
        self.provides = frozenset({"image", "label", "ref_image", "ref_image2", "ref_label"})
        self._members = [images.members(d) for d in range(self.num_classes)]

    def __len__(self) -> int:
        return len(self.images) * self.draws_per_image

    def _view(self, index: int, rng: np.random.Generator) -> Tensor:
        image = self.images.image(index)
        if image.shape[0] != self.channels:
            raise DataError(f"image {index} of the domain set has {image.shape[0]} channels but data.channels is {self.channels}")
        if not self.augment:
            return resize(image, self.resolution)
        return augment(image, rng, self.resolution, self.crop["prob"], self.crop["scale"], self.crop["ratio"])

    def load(self, index: int) -> dict[str, Tensor]:
        rng = np.random.default_rng([self.seed, index])
        source_domain = int(rng.integers(self.num_classes))
        members = self._members[source_domain]
        source = members[int(rng.integers(len(members)))]
        reference = int(rng.integers(len(self.images)))
        target = self.images.domain_of(reference)
        reference2 = self._members[target][int(rng.integers(len(self._members[target])))]
        return {
            "image": self._view(source, rng),
            "label": _long(source_domain),
            "ref_image": self._view(reference, rng),
            "ref_image2": self._view(reference2, rng),
            "ref_label": _long(target),
        }

    def preview(self, index: int) -> dict[str, Tensor]:
        """Training image `index` (< N) unaugmented, with its domain."""
        return {"image": resize(self.images.image(index), self.resolution), "label": _long(self.images.domain_of(index))}


def _long(value: int) -> Tensor:
    return torch.tensor(value, dtype=torch.int64)


def domain_folder_pairs(
    path: str | Path,  # data set folder holding train/<domain>/ and val/<domain>/
    resolution: int,  # pixels per side (images of other sizes are resized, as the official loader)
    channels: int = 3,  # 3 = RGB, 1 = grey
    seed: int = 0,  # selects every draw of every item
    train_split: str = "train",  # subfolder of the training domains
    val_split: str | None = "val",  # subfolder of the validation domains; null: none (no translation metrics)
    prepare_hint: str | None = None,  # how to obtain the data set, appended to missing-folder errors
    **options: object,  # DomainPairDataset options: draws_per_image, augment, crop_prob, crop_scale, crop_ratio
) -> DomainPairDataset:
    images = DomainFolderImages(path, train_split, channels, prepare_hint)
    validation = DomainFolderImages(path, val_split, channels, prepare_hint) if val_split else None
    return DomainPairDataset(images, resolution, channels, seed, validation=validation, **options)  # type: ignore[arg-type]


def shapes_domain_pairs(
    resolution: int = 32,  # pixels per side
    channels: int = 3,  # 3 = RGB, 1 = grey
    num_images: int = 4096,  # shapes images scanned for training (the domains keep a subset)
    val_images: int = 512,  # shapes images scanned for validation (another seed)
    shapes_seed: int = 0,  # which shapes (validation: shapes_seed + 1)
    seed: int = 0,  # selects every draw of every item
    kinds: list[int] | None = None,  # shape kinds used as domains (0 circle, 1 square, 2 triangle, 3 cross); None: all
    single_shape: bool = False,  # keep only one-shape images
    **options: object,  # DomainPairDataset options: draws_per_image, augment, crop_prob, crop_scale, crop_ratio
) -> DomainPairDataset:
    shared = {"resolution": resolution, "kinds": kinds, "single_shape": single_shape, "channels": channels}
    images = ShapesDomainImages(num_images=num_images, seed=shapes_seed, **shared)  # type: ignore[arg-type]
    validation = ShapesDomainImages(num_images=val_images, seed=shapes_seed + 1, **shared) if val_images else None  # type: ignore[arg-type]
    return DomainPairDataset(images, resolution, channels, seed, validation=validation, **options)  # type: ignore[arg-type]
