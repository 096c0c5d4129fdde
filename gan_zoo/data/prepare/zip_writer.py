"""Write the NVlabs-style zip atomically: a temporary file beside `dest`, renamed over it at the end.

Nothing appears at `dest` until every image and dataset.json are written, so an interrupted or
failed run leaves no half-written zip there (the temporary file is deleted). Members are stored
uncompressed (as NVlabs stylegan3 `dataset_tool.py` writes them; the PNGs are compressed or not by
their own setting) with a fixed timestamp, so the same input gives a byte-identical zip.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from gan_zoo.data.errors import DataError

_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold


def member_name(index: int) -> str:
    """00000/img00000000.png, 1000 images per folder (dataset_tool's names)."""
    return f"{index // 1000:05d}/img{index:08d}.png"


class AtomicZipWriter:
    def __init__(
        self,
        dest: Path,  # the zip to create
        overwrite: bool = False,  # replace an existing dest (only once the new one is complete)
    ) -> None:
        if dest.suffix.lower() != ".zip":
            raise DataError(f"dest={dest} must name a .zip file (e.g. dest=ffhq256.zip)")
        if dest.is_dir():
            raise DataError(f"dest={dest} is a folder; name the .zip file to write")
        if dest.exists() and not overwrite:
            raise DataError(f"dest={dest} already exists; choose another dest= or pass overwrite=true to replace it")
        self.dest = dest
        self.labels: list[list[Any]] = []
        self.count = 0
        self._temporary: Path | None = None
        self._archive: zipfile.ZipFile | None = None

    def __enter__(self) -> "AtomicZipWriter":
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{self.dest.name}.", suffix=".tmp", dir=self.dest.parent)
        os.close(handle)
        self._temporary = Path(name)
        self._archive = zipfile.ZipFile(self._temporary, "w", compression=zipfile.ZIP_STORED)
        return self

    def _write(self, name: str, data: bytes) -> None:
        assert self._archive is not None
        info = zipfile.ZipInfo(name, date_time=_TIMESTAMP)
        info.external_attr = 0o644 << 16
        self._archive.writestr(info, data)

    def add(self, png: bytes, label: int | None) -> None:
        name = member_name(self.count)
        self._write(name, png)
        self.labels.append([name, label])
        self.count += 1

    def __exit__(self, kind: type | None, *_: Any) -> None:
        assert self._archive is not None and self._temporary is not None
        try:
            if kind is None:
                labelled = self.count > 0 and all(label is not None for _, label in self.labels)
                self._write("dataset.json", json.dumps({"labels": self.labels if labelled else None}).encode())
            self._archive.close()
            if kind is None:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self._temporary, 0o666 & ~umask)  # mkstemp makes it private; a data set is shared like any file
                os.replace(self._temporary, self.dest)
        finally:
            self._temporary.unlink(missing_ok=True)
