"""MirroredDataset: the indexing convention every gan-zoo dataset follows.

`dataset[i]` for i in [0, N) is image i; for i in [N, 2N) it is image i - N flipped horizontally.
The sampler realises x-flip augmentation by drawing indices from [0, 2N), so the flip is a pure
function of the index: no randomness inside datasets, which bit-exact resume relies on.

A dataset whose augmentation is re-drawn every epoch (an official random crop) sets
`augments_per_epoch = True`; the training sampler then hands it `epoch * 2N + i`, and the dataset
draws the epoch's augmentation of item i from a generator seeded by (seed, epoch, i), so the stream
stays a pure function of the stream position.
"""

from abc import ABC, abstractmethod

import torch
from torch import Tensor
from torch.utils.data import Dataset

# Batch keys holding pixels (flipped with the image); others (label) are per-image values.
SPATIAL_KEYS = frozenset({"image", "segmap", "instance", "ref_image", "ref_image2"})


class MirroredDataset(Dataset[dict[str, Tensor]], ABC):
    """Base class: subclasses set the attributes below and implement `__len__` and `load`."""

    provides: frozenset[str]  # batch keys of every item, e.g. {"image", "label"}
    num_classes: int  # number of class labels; 0 when unlabelled
    resolution: int  # image width in pixels (and height, unless the dataset sets aspect_ratio)
    channels: int  # 1 (grey) or 3 (RGB)
    augments_per_epoch: bool = False  # True: takes epoch * 2N + i indices from the training sampler (see above)

    @abstractmethod
    def __len__(self) -> int:
        """Number of distinct images N (mirrored indices are not counted)."""

    @abstractmethod
    def load(self, index: int) -> dict[str, Tensor]:
        """Item `index` in [0, N), unflipped: `image` float32 CHW in [-1, 1] plus the other keys."""

    def class_labels(self) -> Tensor | None:
        """The class of each of the N images (int64 [N]); None when the set is unlabelled.

        This default loads every item; a dataset that knows its labels without decoding images overrides it.
        """
        if "label" not in self.provides:
            return None
        return torch.stack([torch.as_tensor(self.load(index)["label"]) for index in range(len(self))]).long()

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        n = len(self)
        if not 0 <= index < 2 * n:
            raise IndexError(f"index {index} is outside [0, {2 * n}) (N={n} images, mirrored copies above N)")
        item = self.load(index % n)
        return item if index < n else flipped(item)


def flipped(item: dict[str, Tensor]) -> dict[str, Tensor]:
    """The item mirrored horizontally: every spatial key flipped, per-image values kept."""
    return {key: value.flip(-1) if key in SPATIAL_KEYS else value for key, value in item.items()}


def image_size(dataset: MirroredDataset) -> tuple[int, int]:
    """(height, width) of a dataset's images: square unless it declares `aspect_ratio` (width / height)."""
    return round(dataset.resolution / getattr(dataset, "aspect_ratio", 1.0)), dataset.resolution
