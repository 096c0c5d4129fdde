"""MNIST's idx files (`train-images-idx3-ubyte.gz` with `train-labels-idx1-ubyte.gz` beside it).

An idx file is a big-endian header (magic 0x00000803 for images, 0x00000801 for labels, then the
sizes) followed by uint8 values; the files are gzipped as downloaded, or not once extracted. As
NVlabs stylegan3 `dataset_tool.py`, the 28x28 digits are padded with 2 black pixels on every side to
32x32 and kept single-channel. Fashion-MNIST uses the same format and names.
"""

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from gan_zoo.data.errors import DataError
from gan_zoo.data.prepare.source import InMemoryArraySource

IMAGES_MAGIC = b"\x00\x00\x08\x03"
LABELS_MAGIC = b"\x00\x00\x08\x01"
PAD = 2  # px of black added on each side (28 -> 32)


def _open(path: Path) -> Any:
    with path.open("rb") as file:
        gzipped = file.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")


def idx_magic(path: Path) -> bytes:
    """The first 4 bytes after decompression ('' when the file is not gzip or idx-like)."""
    try:
        with _open(path) as file:
            return file.read(4)
    except (OSError, EOFError):
        return b""


def _read_idx(path: Path, magic: bytes, dims: int) -> np.ndarray:
    try:
        with _open(path) as file:
            data = file.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path} cannot be read ({error}); download it again") from error
    if data[:4] != magic:
        raise DataError(f"{path} is not an idx file of {'images' if dims == 3 else 'labels'}; download it again")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    values = np.frombuffer(data, np.uint8, offset=4 + 4 * dims)
    if values.size != int(np.prod(shape)):
        raise DataError(f"{path} holds {values.size} values but its header says {shape}; the download is truncated, download it again")
    return values.reshape(shape)


def labels_file(images: Path) -> Path:
    """train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz (same folder)."""
    return images.with_name(images.name.replace("images", "labels").replace("idx3", "idx1"))


class MnistSource(InMemoryArraySource):
    array_mode = "L"
    channels = 1

    def __init__(self, path: Path) -> None:  # the images idx file
        images = _read_idx(path, IMAGES_MAGIC, 3)
        self.path = path
        self._images = np.pad(images, [(0, 0), (PAD, PAD), (PAD, PAD)])
        labels_path = labels_file(path)
        if not labels_path.is_file():
            raise DataError(f"{labels_path} does not exist; put the labels file downloaded with {path.name} beside it")
        labels = _read_idx(labels_path, LABELS_MAGIC, 1)
        if len(labels) != len(images):
            raise DataError(f"{labels_path} has {len(labels)} labels for {len(images)} images in {path}; use the two files of one download")
        self._labels = [int(label) for label in labels]
        self.num_classes = max(self._labels) + 1
        self.description = f"MNIST idx files: {len(images):,} images of {images.shape[2]}x{images.shape[1]} padded to 32x32, {self.num_classes} classes"
