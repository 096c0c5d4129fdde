"""ImageFolderDataset: images from a directory tree or an NVlabs-style zip, optionally labelled.

A directory is scanned recursively (labels = first-level class subfolders); a zip file is read
member by member (labels = its dataset.json). Every file's header is checked when the dataset is
built, so a corrupt file or a wrong resolution fails at start-up instead of hours into training.
"""

import os
import zipfile
from pathlib import Path
from typing import BinaryIO, Protocol

import torch
from PIL import Image
from torch import Tensor

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.errors import DataError
from gan_zoo.data.folder_source import FolderSource
from gan_zoo.data.transforms import check_size, conform, to_signed
from gan_zoo.data.zip_source import ZipSource

IMAGE_EXTENSIONS = (".bmp", ".jpeg", ".jpg", ".png", ".webp")  # matched case-insensitively

# What PIL and zipfile raise for a truncated, corrupt or vanished file.
_UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, zipfile.BadZipFile)


class ImageSource(Protocol):
    """Where the encoded files live: FolderSource or ZipSource."""

    def names(self) -> list[str]: ...  # every file, sorted, '/'-separated
    def open(self, name: str) -> BinaryIO: ...
    def where(self, name: str) -> str: ...  # the file as error messages name it
    def labels(self, names: list[str]) -> tuple[list[int], int]: ...  # (label per name, num_classes)


def _open_source(path: Path, prepare_hint: str | None) -> ImageSource:
    hint = f" {prepare_hint}" if prepare_hint else ""
    if path.is_dir():
        return FolderSource(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return ZipSource(path)
    if path.exists():
        raise DataError(f"{path} is neither a directory nor a zip archive; point data.dataset.path at a folder of images or a zip.{hint}")
    what = "zip" if path.suffix.lower() == ".zip" else "data directory"
    raise DataError(f"The {what} {path} does not exist; point data.dataset.path at a folder of images or a zip.{hint}")


class ImageFolderDataset(MirroredDataset):
    def __init__(
        self,
        path: str | os.PathLike[str],  # a directory (scanned recursively) or a zip archive
        resolution: int,  # pixels per side; every image must be this square size unless resize=True
        channels: int = 3,  # 3 = RGB (grey images are expanded), 1 = grey
        resize: bool = False,  # centre-crop to square and LANCZOS-resize images of any other size
        use_labels: bool = False,  # provide `label`: class subfolder index (directory) or dataset.json (zip)
        prepare_hint: str | None = None,  # how to obtain this data set, appended to missing/empty errors; None = no hint
    ) -> None:
        if channels not in (1, 3):
            raise DataError(f"data.channels={channels} is not supported; use 3 (RGB) or 1 (grey)")
        self.path = Path(path).expanduser()
        self.resolution = resolution
        self.channels = channels
        self.resize = resize
        self._source = _open_source(self.path, prepare_hint)
        self._names = [name for name in self._source.names() if name.lower().endswith(IMAGE_EXTENSIONS)]
        if not self._names:
            hint = f" {prepare_hint}" if prepare_hint else ""
            raise DataError(
                f"No images found in {self.path} (accepted extensions: {', '.join(IMAGE_EXTENSIONS)}); put the images there or point data.path elsewhere.{hint}"
            )
        self._labels, self.num_classes = self._source.labels(self._names) if use_labels else (None, 0)
        self.provides = frozenset({"image", "label"} if use_labels else {"image"})
        for name in self._names:
            self._check_header(name)

    def __len__(self) -> int:
        return len(self._names)

    def _check_header(self, name: str) -> None:
        where = self._source.where(name)
        try:
            with self._source.open(name) as file, Image.open(file) as image:
                size = image.size  # Image.open parses only the header: cheap even for large sets
        except _UNREADABLE as exc:
            raise DataError(f"{where} is not a readable image ({exc}); replace or delete it") from exc
        if not self.resize:
            check_size(size, self.resolution, where)

    def class_labels(self) -> Tensor | None:
        return None if self._labels is None else torch.tensor(self._labels, dtype=torch.int64)

    def load(self, index: int) -> dict[str, Tensor]:
        name = self._names[index]
        where = self._source.where(name)
        try:
            with self._source.open(name) as file, Image.open(file) as encoded:
                image = conform(encoded, self.resolution, self.channels, self.resize, where)
        except _UNREADABLE as exc:
            raise DataError(f"{where} cannot be decoded ({exc}); replace or delete it") from exc
        item = {"image": to_signed(image)}
        if self._labels is not None:
            item["label"] = torch.tensor(self._labels[index], dtype=torch.int64)
        return item
