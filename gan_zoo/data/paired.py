"""Paired image / label-map data sets for semantic image synthesis (SPADE): Cityscapes, ADE20K,
COCO-Stuff layouts (`paired_layouts`) and a generic paired folder.

Items: `image` float [-1, 1] CHW at width `resolution` and height resolution / aspect_ratio
(bicubic, as the official loader), `segmap` int64 HxW label indices (see `label_maps`: shifted,
dontcare mapped, checked against `label_nc`, nearest-resized) and `instance` int64 HxW ids when
instances are used. The one-hot and edge maps are made by the model. x-flips come from the sampler
(data.mirror). With `load_scale` > 1 (ADE20K and COCO-Stuff training: 286 / 256, the official
`resize_and_crop`) image and maps are resized to `load_scale` x the served size and a random crop of
the served size is taken, the same for all three, drawn per (seed, epoch, item) from the sampler's
epoch-carrying indices (base.MirroredDataset), so each epoch crops anew and the stream stays bit-exact
on resume. Plain `load(i)` (evaluation, sample grids) uses epoch 0's crop. The official test phase
loads at the crop size, so the layouts' validation splits are never cropped.
"""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from gan_zoo.data.base import MirroredDataset, flipped
from gan_zoo.data.errors import DataError
from gan_zoo.data.label_maps import convert_labels, read_integer_map, resize_nearest
from gan_zoo.data.paired_layouts import Pair, folder_pairs, layout_pairs
from gan_zoo.data.transforms import to_signed

TRAINING_SPLITS = ("train", "training")  # the layouts' training split names (cropped when load_scale > 1)


class PairedLabelDataset(MirroredDataset):
    def __init__(
        self,
        pairs: list[Pair],  # (image, label map, instance map or None) per item
        resolution: int,  # image width in px
        label_nc: int,  # labels without dontcare; file values outside are errors
        aspect_ratio: float = 1.0,  # width / height of the served images
        contain_dontcare_label: bool = False,  # dontcare_values become the extra label label_nc
        label_shift: int = 0,  # raw value of label 0 (ADE20K stores 1..150)
        dontcare_values: Sequence[int] = (),  # raw values meaning unlabelled (ADE20K 0, COCO-Stuff 255)
        load_scale: float = 1.0,  # > 1: resize to this multiple of the served size, then a random crop (official 286 / 256)
        seed: int = 0,  # with (epoch, item), selects each random crop
    ) -> None:
        if not pairs:
            raise DataError("a paired label-map data set needs at least one image")
        if label_nc is None or label_nc < 1:
            raise DataError(f"data.label_nc={label_nc}: set it to the number of labels in the label maps (e.g. data.label_nc=20)")
        self.pairs = pairs
        self.resolution, self.aspect_ratio = resolution, float(aspect_ratio)
        self.height = round(resolution / aspect_ratio)
        self.label_nc, self.contain_dontcare_label = label_nc, contain_dontcare_label
        self.label_shift, self.dontcare_values = label_shift, tuple(dontcare_values)
        self.channels, self.num_classes = 3, 0
        self.use_instance = pairs[0].instance is not None
        if load_scale < 1:
            raise DataError(f"data.dataset.load_scale={load_scale}: images are loaded at load_scale x the served size and cropped; use a value >= 1")
        self.load_width, self.load_height = round(resolution * load_scale), round(self.height * load_scale)
        self.seed = seed
        self.augments_per_epoch = (self.load_width, self.load_height) != (self.resolution, self.height)
        self.provides = frozenset({"image", "segmap", "instance"} if self.use_instance else {"image", "segmap"})

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if not self.augments_per_epoch:
            return super().__getitem__(index)
        n = len(self)
        epoch, index = divmod(index, 2 * n)  # the training sampler's epoch * 2N + i
        item = self._load(index % n, epoch)
        return item if index < n else flipped(item)

    def load(self, index: int) -> dict[str, Tensor]:
        return self._load(index, 0)

    def crop_box(self, index: int, epoch: int) -> tuple[int, int]:
        """(top, left) of item `index`'s crop in `epoch`: uniform over every position, as the official randint."""
        rng = np.random.default_rng([self.seed, epoch, index])
        return int(rng.integers(0, self.load_height - self.height + 1)), int(rng.integers(0, self.load_width - self.resolution + 1))

    def _load(self, index: int, epoch: int) -> dict[str, Tensor]:
        pair = self.pairs[index]
        width, height = self.load_width, self.load_height
        try:
            with Image.open(pair.image) as picture:
                size = picture.size
                image = picture.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
        except (OSError, SyntaxError, ValueError) as error:
            raise DataError(f"{pair.image} is not a readable image ({error}); replace or delete it") from error
        raw = read_integer_map(pair.label)
        self._check_same_size(pair, pair.label, raw, size)
        labels = convert_labels(raw, self.label_nc, pair.label, self.label_shift, self.dontcare_values, self.contain_dontcare_label)
        item = {"image": to_signed(image), "segmap": torch.from_numpy(resize_nearest(labels, height, width))}
        if pair.instance is not None:
            instance = read_integer_map(pair.instance)
            self._check_same_size(pair, pair.instance, instance, size)
            item["instance"] = torch.from_numpy(resize_nearest(instance, height, width))
        if self.augments_per_epoch:
            top, left = self.crop_box(index, epoch)
            item = {key: value[..., top : top + self.height, left : left + self.resolution].contiguous() for key, value in item.items()}
        return item

    @staticmethod
    def _check_same_size(pair: Pair, path: os.PathLike[str], array: np.ndarray, size: tuple[int, int]) -> None:
        if array.shape != (size[1], size[0]):
            raise DataError(f"{path} is {array.shape[1]}x{array.shape[0]} but its image {pair.image} is {size[0]}x{size[1]}; they must be the same size")


class LayoutDataset(PairedLabelDataset):
    """A paired data set in one of the standard layouts."""

    def __init__(
        self,
        layout: str,  # cityscapes | ade20k | cocostuff
        path: str | os.PathLike[str],  # the data set's root folder
        resolution: int,  # image width in px
        label_nc: int,  # labels without dontcare
        split: str = "train",  # cityscapes train|val; ade20k training|validation; cocostuff train|val
        aspect_ratio: float = 1.0,  # width / height
        use_instance: bool = False,  # read instance maps
        contain_dontcare_label: bool = False,  # map dontcare_values to label_nc
        label_shift: int = 0,  # raw value of label 0
        dontcare_values: Sequence[int] = (),  # raw values meaning unlabelled
        prepare_hint: str | None = None,  # how to obtain the data set, appended to missing-folder errors
        load_scale: float = 1.0,  # training split: load at this multiple of the size, random crop (ADE20K/COCO-Stuff 286 / 256)
        seed: int = 0,  # with (epoch, item), selects each random crop
    ) -> None:
        pairs = layout_pairs(layout, path, split, use_instance, prepare_hint)
        self.layout = layout  # names the paper's evaluation network in metric errors
        # The official test phase loads at the crop size: only the training split is cropped.
        scale = load_scale if split in TRAINING_SPLITS else 1.0
        super().__init__(pairs, resolution, label_nc, aspect_ratio, contain_dontcare_label, label_shift, dontcare_values, scale, seed)


class PairedFolderDataset(PairedLabelDataset):
    """Any folder of images with a parallel folder of label maps (and optionally instance maps)."""

    def __init__(
        self,
        path: str | os.PathLike[str],  # root holding the folders below
        resolution: int,  # image width in px
        label_nc: int,  # labels without dontcare
        images: str = "images",  # folder of images under path
        labels: str = "labels",  # folder of label maps (.png, same relative path and stem as the image)
        instances: str | None = None,  # folder of instance maps; None: no instances
        aspect_ratio: float = 1.0,  # width / height
        contain_dontcare_label: bool = False,  # map dontcare_values to label_nc
        label_shift: int = 0,  # raw value of label 0
        dontcare_values: Sequence[int] = (),  # raw values meaning unlabelled
        prepare_hint: str | None = None,  # appended to missing-folder errors
        load_scale: float = 1.0,  # > 1: load at this multiple of the size, random crop per epoch
        seed: int = 0,  # with (epoch, item), selects each random crop
    ) -> None:
        root = Path(path).expanduser()
        pairs = folder_pairs(root / images, root / labels, None if instances is None else root / instances, hint=prepare_hint)
        super().__init__(pairs, resolution, label_nc, aspect_ratio, contain_dontcare_label, label_shift, dontcare_values, load_scale, seed)
