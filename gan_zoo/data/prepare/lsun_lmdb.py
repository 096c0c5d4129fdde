"""LSUN's category databases (`church_outdoor_train_lmdb/`: data.mdb, lock.mdb).

Each entry maps an image id to its encoded file (JPEG); entries are read in key order, as NVlabs
stylegan3 `dataset_tool.py` walks the cursor. That tool decodes with OpenCV first and PIL as a
fallback; here PIL decodes every image (both use libjpeg's default integer IDCT). Reading needs
the optional `lmdb` package (pip install "gan-zoo[lmdb]").
"""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from gan_zoo.data.errors import DataError
from gan_zoo.data.prepare.source import Record


def is_lmdb_folder(path: Path) -> bool:
    return (path / "data.mdb").is_file()


def _open_env(path: Path) -> Any:
    try:
        import lmdb
    except ImportError as error:
        raise DataError(f'{path} is an LMDB database (LSUN); reading it needs the lmdb package: pip install "gan-zoo[lmdb]"') from error
    try:
        return lmdb.open(str(path), readonly=True, lock=False, readahead=False, max_readers=1)
    except lmdb.Error as error:
        raise DataError(f"{path} cannot be opened as an LMDB database ({error}); unzip the LSUN download again") from error


class LmdbSource:
    channels = 3
    num_classes = 0

    def __init__(self, path: Path) -> None:  # the *_lmdb folder
        self.path = path
        with _open_env(path) as env:
            self._count = int(env.stat()["entries"])
        self.description = f"LSUN LMDB database {path.name}: {self._count:,} images, no labels"

    def __len__(self) -> int:
        return self._count

    def records(self) -> Iterator[Record]:
        with _open_env(self.path) as env, env.begin(write=False) as txn:
            for key, value in txn.cursor():
                yield Record(bytes(value), f"{self.path}:{bytes(key).decode(errors='replace')}", None)

    def read(self, key: bytes, mode: str) -> Image.Image:
        with Image.open(io.BytesIO(key)) as image:
            return image.convert(mode)
