"""Recognise what the user downloaded by its content, not its name, and open it as a source."""

import tarfile
import zipfile
from pathlib import Path

from gan_zoo.data.errors import DataError
from gan_zoo.data.prepare.cifar10 import Cifar10Source, cifar10_member_prefix, is_cifar10_folder
from gan_zoo.data.prepare.image_files import ImageFilesSource
from gan_zoo.data.prepare.lsun_lmdb import LmdbSource, is_lmdb_folder
from gan_zoo.data.prepare.mnist import IMAGES_MAGIC, LABELS_MAGIC, MnistSource, idx_magic
from gan_zoo.data.prepare.source import PrepareSource

FORMATS = (
    "the CIFAR-10 python tarball (cifar-10-python.tar.gz), MNIST idx files (train-images-idx3-ubyte.gz), an LSUN *_lmdb folder, or a folder or zip of images"
)


def _is_cifar10_tarball(path: Path) -> bool:
    try:
        with tarfile.open(path) as archive:
            return cifar10_member_prefix(archive) is not None
    except (tarfile.TarError, OSError, EOFError):
        return False


def open_source(
    path: Path,  # the downloaded file or folder
    labels: str = "auto",  # folder/zip sources: auto | folders | none
    split: str | None = "train",  # CIFAR-10: train | test; folder/zip sources: the split folder read when present (None: all)
    subset: str | None = None,  # folder/zip sources: a folder inside to read instead
) -> PrepareSource:
    if not path.exists():
        raise DataError(f"source={path} does not exist; pass the downloaded file or folder ({FORMATS})")
    if path.is_dir():
        if is_lmdb_folder(path):
            return LmdbSource(path)
        if is_cifar10_folder(path):
            return Cifar10Source(path, split or "train")
        return ImageFilesSource(path, labels, split, subset)
    if zipfile.is_zipfile(path):
        return ImageFilesSource(path, labels, split, subset)
    magic = idx_magic(path)
    if magic == IMAGES_MAGIC:
        return MnistSource(path)
    if magic == LABELS_MAGIC:
        raise DataError(f"{path} holds MNIST labels; pass the images file (train-images-idx3-ubyte.gz) as source=, with the labels file beside it")
    if tarfile.is_tarfile(path):
        if _is_cifar10_tarball(path):
            return Cifar10Source(path, split or "train")
        raise DataError(f"{path} is a tar archive but not the CIFAR-10 python version; extract it and pass the folder of images as source=")
    raise DataError(f"source={path} is not a format gan-zoo data prepare reads; pass {FORMATS}")
