"""The CIFAR-10 python version (`cifar-10-python.tar.gz`, or its extracted `cifar-10-batches-py/`).

Each batch file is a pickle of a dict holding `data` (uint8 [N, 3072], the red, green and blue
32x32 planes of each image) and `labels` (N ints), written by Python 2 (so read with
encoding="latin1"). The training split is data_batch_1..5 in that order (50,000 images, as NVlabs
stylegan3 `dataset_tool.py` reads it); split=test reads test_batch. The pickles are read with an
unpickler that builds numpy arrays and nothing else, so a crafted file cannot run code.
"""

import codecs
import importlib
import io
import pickle
import tarfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from gan_zoo.data.errors import DataError
from gan_zoo.data.prepare.source import InMemoryArraySource

SPLITS = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}

# codecs.encode rebuilds bytes in protocol-2 pickles written by Python 3 (copies re-pickled by users).
_ARRAY_GLOBALS: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype, ("_codecs", "encode"): codecs.encode}
_multiarray = importlib.import_module("numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray")
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):  # pickles written by numpy 1 and numpy 2
    _ARRAY_GLOBALS[(_module, "_reconstruct")] = _multiarray._reconstruct


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ARRAY_GLOBALS:
            return _ARRAY_GLOBALS[(module, name)]
        raise pickle.UnpicklingError(f"it names {module}.{name}; a CIFAR-10 batch holds only arrays, lists and strings")


def _read_batch(file: BinaryIO, where: str) -> tuple[np.ndarray, list[int]]:
    try:
        batch = _ArrayUnpickler(file, encoding="latin1").load()
    except Exception as error:
        raise DataError(f"{where} is not a CIFAR-10 batch pickle ({error}); download cifar-10-python.tar.gz again") from error
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()} if isinstance(batch, dict) else {}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or labels is None or len(labels) != len(data):
        raise DataError(f"{where} does not hold CIFAR-10's data (uint8 [N, 3072]) and labels (N); download cifar-10-python.tar.gz again")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), [int(label) for label in labels]


def is_cifar10_folder(path: Path) -> bool:
    return (path / "data_batch_1").is_file() and (path / "test_batch").is_file()


def cifar10_member_prefix(archive: tarfile.TarFile) -> str | None:
    """The folder holding the batches inside a tarball ('cifar-10-batches-py/'), None when it is not CIFAR-10."""
    for name in archive.getnames():
        if name.rsplit("/", 1)[-1] == "data_batch_1":
            return name[: -len("data_batch_1")]
    return None


class Cifar10Source(InMemoryArraySource):
    channels = 3

    def __init__(
        self,
        path: Path,  # cifar-10-python.tar.gz or the extracted cifar-10-batches-py/ folder
        split: str = "train",  # train (data_batch_1..5) or test (test_batch)
    ) -> None:
        if split not in SPLITS:
            raise DataError(f"split={split} does not exist in CIFAR-10; use split=train (50,000 images) or split=test (10,000)")
        images, labels = [], []
        if path.is_dir():
            for name in SPLITS[split]:
                with (path / name).open("rb") as file:
                    pixels, classes = _read_batch(file, str(path / name))
                images.append(pixels)
                labels += classes
        else:
            with tarfile.open(path) as archive:
                prefix = cifar10_member_prefix(archive) or ""
                for name in SPLITS[split]:
                    member = archive.extractfile(prefix + name)
                    if member is None:
                        raise DataError(f"{path} has no {prefix + name}; download cifar-10-python.tar.gz again")
                    pixels, classes = _read_batch(io.BytesIO(member.read()), f"{path}:{prefix + name}")
                    images.append(pixels)
                    labels += classes
        self.path = path
        self._images = np.concatenate(images)
        self._labels = labels
        self.num_classes = max(labels) + 1
        self.description = f"CIFAR-10 python version, {split} split: {len(labels):,} images, {self.num_classes} classes"
