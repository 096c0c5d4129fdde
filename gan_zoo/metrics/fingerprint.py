"""A data set's identity for the real-statistics cache, cheap enough to compute at every evaluation.

Hashing every pixel of a 70k x 1024² data set at each lookup would cost as much as the statistics,
so the fingerprint hashes what changes when the content changes:
* the dataset type, length, resolution, channels, classes and its plain settings (seed, counts...);
* for a zip: every member's name, size and CRC-32 (the zip's own content checksums);
  for a folder: every file's relative name and size;
* the decoded uint8 pixels of 16 images spread evenly over the set (catches a changed decoder or resize).
"""

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.transforms import to_uint8

_SAMPLED_IMAGES = 16


def _plain_settings(dataset: MirroredDataset) -> dict[str, Any]:
    return {k: v for k, v in sorted(vars(dataset).items()) if not k.startswith("_") and isinstance(v, int | float | str | bool)}


def _file_listing(path: Path, digest: "hashlib._Hash") -> None:
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                digest.update(f"{info.filename}\0{info.file_size}\0{info.CRC}\n".encode())
    elif path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(f"{file.relative_to(path).as_posix()}\0{file.stat().st_size}\n".encode())


def dataset_fingerprint(dataset: MirroredDataset) -> str:
    digest = hashlib.sha256()
    header = {
        "type": type(dataset).__qualname__,
        "len": len(dataset),
        "resolution": dataset.resolution,
        "channels": dataset.channels,
        "num_classes": dataset.num_classes,
        "settings": _plain_settings(dataset),
    }
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    path = getattr(dataset, "path", None)
    if path is not None:
        _file_listing(Path(path), digest)
    n = len(dataset)
    for index in sorted({i * (n - 1) // max(_SAMPLED_IMAGES - 1, 1) for i in range(min(_SAMPLED_IMAGES, n))}):
        image = dataset[index]["image"]
        digest.update(to_uint8(image).numpy().tobytes())
    return digest.hexdigest()
