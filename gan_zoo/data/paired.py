"""Paired image / label-map data sets for semantic image synthesis (SPADE): Cityscapes, ADE20K,
COCO-Stuff layouts (`paired_layouts`) and a generic paired folder.

Items: `image` float [-1, 1] CHW at width `resolution` and height resolution / aspect_ratio
(bicubic, as the official loader), `segmap` int64 HxW label indices (see `label_maps`: shifted,
dontcare mapped, checked against `label_nc`, nearest-resized) and `instance` int64 HxW ids when
instances are used. The one-hot and edge maps are made by the model. Deterministic per index (no
random crop): the official ADE20K/COCO-Stuff 286 -> 256 random crop is replaced by resizing to the
crop size, with x-flips from the sampler (data.mirror).
"""

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.errors import DataError
from gan_zoo.data.label_maps import convert_labels, read_integer_map, resize_nearest
from gan_zoo.data.paired_layouts import Pair, folder_pairs, layout_pairs
from gan_zoo.data.transforms import to_signed


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
        self.provides = frozenset({"image", "segmap", "instance"} if self.use_instance else {"image", "segmap"})

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, index: int) -> dict[str, Tensor]:
        pair = self.pairs[index]
        try:
            with Image.open(pair.image) as picture:
                size = picture.size
                image = picture.convert("RGB").resize((self.resolution, self.height), Image.Resampling.BICUBIC)
        except (OSError, SyntaxError, ValueError) as error:
            raise DataError(f"{pair.image} is not a readable image ({error}); replace or delete it") from error
        raw = read_integer_map(pair.label)
        self._check_same_size(pair, pair.label, raw, size)
        labels = convert_labels(raw, self.label_nc, pair.label, self.label_shift, self.dontcare_values, self.contain_dontcare_label)
        item = {"image": to_signed(image), "segmap": torch.from_numpy(resize_nearest(labels, self.height, self.resolution))}
        if pair.instance is not None:
            instance = read_integer_map(pair.instance)
            self._check_same_size(pair, pair.instance, instance, size)
            item["instance"] = torch.from_numpy(resize_nearest(instance, self.height, self.resolution))
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
    ) -> None:
        pairs = layout_pairs(layout, path, split, use_instance, prepare_hint)
        self.layout = layout  # names the paper's evaluation network in metric errors
        super().__init__(pairs, resolution, label_nc, aspect_ratio, contain_dontcare_label, label_shift, dontcare_values)


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
    ) -> None:
        root = Path(path).expanduser()
        pairs = folder_pairs(root / images, root / labels, None if instances is None else root / instances, hint=prepare_hint)
        super().__init__(pairs, resolution, label_nc, aspect_ratio, contain_dontcare_label, label_shift, dontcare_values)
