"""Small copies of the files users download, in their real formats, for the `gan-zoo data` tests.

* CIFAR-10 python version: a tar.gz with cifar-10-batches-py/data_batch_1..5 and test_batch, each a
  pickle (protocol 2) of {"batch_label", "labels", "data": uint8 [N, 3072] (R, G, B planes), "filenames"};
* MNIST: gzipped idx files (magic 0x803 / 0x801, big-endian sizes, then uint8 values);
* LSUN: an LMDB whose keys are hex ids and values JPEG files;
* image folders and zips (FFHQ, AFHQ, ImageNet layouts).
"""

import gzip
import io
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def write_cifar10(path: Path, per_batch: int = 3, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """The tarball, and per batch its images (NHWC) and labels."""
    rng = np.random.default_rng(seed)
    batches = {}
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
            labels = [int(x) for x in rng.integers(0, 10, per_batch)]
            payload = pickle.dumps(
                {"batch_label": f"{name} of 5", "labels": labels, "data": data, "filenames": [f"img_{name}_{i}.png" for i in range(per_batch)]}, protocol=2
            )
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
            batches[name] = (data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels)
        meta = pickle.dumps({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}, protocol=2)
        info = tarfile.TarInfo("cifar-10-batches-py/batches.meta")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    return batches


def write_mnist(folder: Path, count: int = 5, seed: int = 0) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    path = folder / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as file:
        file.write(b"\x00\x00\x08\x03" + b"".join(n.to_bytes(4, "big") for n in (count, 28, 28)) + images.tobytes())
    with gzip.open(folder / "train-labels-idx1-ubyte.gz", "wb") as file:
        file.write(b"\x00\x00\x08\x01" + count.to_bytes(4, "big") + labels.tobytes())
    return path, images, labels


def smooth_image(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    """A smooth random picture (so JPEG and resizes behave as on photographs)."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)).resize((width, height), Image.Resampling.BILINEAR)
    return coarse.convert(mode)


def encoded(image: Image.Image, format: str = "png") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def write_lmdb(folder: Path, sizes: list[tuple[int, int]]) -> list[bytes]:
    """An LSUN-style database: hex keys, JPEG values; returns the values in key order."""
    import lmdb

    values = {f"{(i * 7919) % 1000:040x}".encode(): encoded(smooth_image(w, h, i), "jpeg") for i, (w, h) in enumerate(sizes)}
    with lmdb.open(str(folder), map_size=1 << 24) as env, env.begin(write=True) as txn:
        for key, value in values.items():
            txn.put(key, value)
    return [values[key] for key in sorted(values)]


def write_tree(root: Path, files: dict[str, Image.Image | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else encoded(content, "jpeg" if name.lower().endswith((".jpg", ".jpeg")) else "png"))


def write_zip(path: Path, files: dict[str, Image.Image | bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content if isinstance(content, bytes) else encoded(content, "jpeg" if name.endswith(".jpg") else "png"))


def zip_images(path: Path) -> tuple[list[str], list[np.ndarray], object]:
    """(image names, pixel arrays, dataset.json "labels") of a prepared zip."""
    import json

    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".png"))
        pixels = [np.asarray(Image.open(io.BytesIO(archive.read(n)))) for n in names]
        labels = json.loads(archive.read("dataset.json"))["labels"]
    return names, pixels, labels
