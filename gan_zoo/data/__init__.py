"""Data for every family: datasets (image folder/zip, shapes, digits), the stream sampler, the datamodule.

A batch is a dict: `image` float32 NCHW in [-1, 1]; optionally `label` (int64 class index) and,
from label-map sets, `segmap` and `instance` (int64 HxW). Each dataset declares the keys it
`provides`; `dataset[i]` for i in [N, 2N) is image i - N flipped horizontally.
"""

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.datamodule import GANDataModule
from gan_zoo.data.digits import DigitsDataset
from gan_zoo.data.errors import DataError
from gan_zoo.data.image_folder import IMAGE_EXTENSIONS, ImageFolderDataset
from gan_zoo.data.paired import LayoutDataset, PairedFolderDataset, PairedLabelDataset
from gan_zoo.data.sampler import StreamBatchSampler
from gan_zoo.data.shapes import SHAPE_KINDS, ShapesDataset

__all__ = [
    "IMAGE_EXTENSIONS",
    "SHAPE_KINDS",
    "DataError",
    "DigitsDataset",
    "GANDataModule",
    "ImageFolderDataset",
    "LayoutDataset",
    "MirroredDataset",
    "PairedFolderDataset",
    "PairedLabelDataset",
    "ShapesDataset",
    "StreamBatchSampler",
]
