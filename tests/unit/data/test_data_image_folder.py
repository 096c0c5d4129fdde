"""ImageFolderDataset on directories and NVlabs-style zips, and every start-up DataError it raises."""

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from gan_zoo.data import DataError, ImageFolderDataset


def _image(path: Path, size: tuple[int, int] = (8, 8), value: int = 0, mode: str = "RGB") -> np.ndarray:
    """Write an image whose pixels encode `value` (and their position, so flips are visible)."""
    width, height = size
    pixels = (np.arange(width * height).reshape(height, width) * 3 + value) % 256
    array = np.stack([pixels] * 3, axis=-1).astype(np.uint8) if mode == "RGB" else pixels.astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)
    return array


def _zip(path: Path, images: dict[str, int], labels: object = "absent") -> Path:
    """A zip holding PNGs named by `images` (name -> value) and, unless absent, dataset.json labels."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in images.items():
            staging = path.parent / "staging.png"
            _image(staging, value=value)
            archive.write(staging, name)
        if labels != "absent":
            archive.writestr("dataset.json", json.dumps({"labels": labels}))
    return path


def _pixels(tensor: torch.Tensor) -> np.ndarray:
    return ((tensor + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()


# ---- directories ----------------------------------------------------------------------------------


def test_folder_is_scanned_recursively_in_sorted_order(tmp_path: Path) -> None:
    names = ["b.png", "a/z.jpg", "a/deep/c.webp", "d.BMP"]
    written = {name: _image(tmp_path / name, value=60 * i).astype(int) for i, name in enumerate(names)}
    (tmp_path / "notes.txt").write_text("not an image")
    dataset = ImageFolderDataset(tmp_path, resolution=8)
    assert len(dataset) == 4
    assert dataset.provides == {"image"} and dataset.num_classes == 0
    for index, name in enumerate(["a/deep/c.webp", "a/z.jpg", "b.png", "d.BMP"]):
        image = dataset[index]["image"]
        assert image.dtype == torch.float32 and image.shape == (3, 8, 8)
        # jpg and webp are lossy: identify each decoded image by the nearest written one.
        error = {other: np.abs(_pixels(image).astype(int) - array).mean() for other, array in written.items()}
        assert min(error, key=error.get) == name


def test_pixels_map_to_minus_one_one(tmp_path: Path) -> None:
    array = np.zeros((8, 8, 3), np.uint8)
    array[0, 0] = 255
    Image.fromarray(array).save(tmp_path / "x.png")
    image = ImageFolderDataset(tmp_path, resolution=8)[0]["image"]
    assert image[:, 0, 0].tolist() == [1.0, 1.0, 1.0]
    assert image[:, 1, 1].tolist() == [-1.0, -1.0, -1.0]


def test_class_subfolders_become_sorted_labels(tmp_path: Path) -> None:
    for name in ["dog/1.png", "cat/1.png", "cat/2.png", "dog/puppies/3.png"]:
        _image(tmp_path / name)
    dataset = ImageFolderDataset(tmp_path, resolution=8, use_labels=True)
    assert dataset.provides == {"image", "label"} and dataset.num_classes == 2
    labels = [dataset[i]["label"] for i in range(len(dataset))]
    assert all(label.dtype == torch.int64 for label in labels)
    assert [int(label) for label in labels] == [0, 0, 1, 1]  # cat/1, cat/2, dog/1, dog/puppies/3
    assert dataset.class_labels().tolist() == [0, 0, 1, 1]  # without decoding (conditional fakes draw from them)
    assert ImageFolderDataset(tmp_path, resolution=8).class_labels() is None


def test_second_half_of_indices_is_the_flipped_image(tmp_path: Path) -> None:
    _image(tmp_path / "a/x.png", value=10)
    _image(tmp_path / "b/y.png", value=20)
    dataset = ImageFolderDataset(tmp_path, resolution=8, use_labels=True)
    for i in range(2):
        plain, flipped = dataset[i], dataset[i + 2]
        assert torch.equal(flipped["image"], plain["image"].flip(-1))
        assert not torch.equal(flipped["image"], plain["image"])
        assert flipped["label"] == plain["label"]
    with pytest.raises(IndexError):
        dataset[4]


def test_grey_images_expand_to_rgb_and_channels_one_gives_grey(tmp_path: Path) -> None:
    grey = _image(tmp_path / "g.png", mode="L")
    rgb = ImageFolderDataset(tmp_path, resolution=8)[0]["image"]
    assert rgb.shape == (3, 8, 8) and torch.equal(rgb[0], rgb[2])
    one = ImageFolderDataset(tmp_path, resolution=8, channels=1)[0]["image"]
    assert one.shape == (1, 8, 8)
    np.testing.assert_array_equal(_pixels(one)[..., 0], grey)


def test_resize_centre_crops_then_resizes(tmp_path: Path) -> None:
    array = np.zeros((8, 24, 3), np.uint8)
    array[:, :8, 0] = 255  # red left third
    array[:, 8:16, 1] = 255  # green centre
    array[:, 16:, 2] = 255  # blue right third
    Image.fromarray(array).save(tmp_path / "wide.png")
    _image(tmp_path / "big.png", size=(32, 32))
    dataset = ImageFolderDataset(tmp_path, resolution=8, resize=True)
    assert dataset[0]["image"].shape == (3, 8, 8)
    wide = _pixels(dataset[1]["image"])
    np.testing.assert_array_equal(wide, np.broadcast_to(np.array([0, 255, 0], np.uint8), (8, 8, 3)))


# ---- zips -----------------------------------------------------------------------------------------


def test_zip_with_dataset_json_labels(tmp_path: Path) -> None:
    names = {"00000/img00000002.png": 2, "00000/img00000000.png": 0, "00001/img00000001.png": 1}
    path = _zip(tmp_path / "set.zip", names, labels=[[name, value + 4] for name, value in names.items()])
    dataset = ImageFolderDataset(path, resolution=8, use_labels=True)
    assert len(dataset) == 3 and dataset.num_classes == 7 and dataset.provides == {"image", "label"}
    assert [int(dataset[i]["label"]) for i in range(3)] == [4, 6, 5]  # sorted names: img0, img2, 00001/img1
    assert dataset.class_labels().tolist() == [4, 6, 5]
    unlabelled = ImageFolderDataset(path, resolution=8)
    assert unlabelled.provides == {"image"} and "label" not in unlabelled[0]
    assert torch.equal(unlabelled[0]["image"], dataset[0]["image"])


def test_zip_reads_identically_in_worker_processes(tmp_path: Path) -> None:
    # Incompressible noise makes each read long enough that workers sharing one inherited handle
    # (and so one file offset) would interleave their seeks and reads and fail the CRC check.
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(tmp_path / "noise.zip", "w") as archive:
        for i in range(128):
            encoded = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(encoded, "PNG")
            archive.writestr(f"{i:03d}.png", encoded.getvalue())
    dataset = ImageFolderDataset(tmp_path / "noise.zip", resolution=64)
    dataset[0]  # the parent now holds an open handle that forked workers inherit
    runs = [list(DataLoader(dataset, batch_size=4, num_workers=workers)) for workers in (0, 2)]
    assert len(runs[1]) == 32
    for serial, parallel in zip(*runs):
        assert torch.equal(serial["image"], parallel["image"])
    # Spawned workers (the default from Python 3.14) receive a pickled copy without the handle.
    assert torch.equal(pickle.loads(pickle.dumps(dataset))[5]["image"], dataset[5]["image"])


# ---- start-up errors ------------------------------------------------------------------------------


def test_missing_directory_names_it_and_appends_the_prepare_hint(tmp_path: Path) -> None:
    missing = tmp_path / "ffhq"
    with pytest.raises(DataError, match="does not exist") as info:
        ImageFolderDataset(missing, resolution=8, prepare_hint="Download FFHQ from https://example.org.")
    assert str(missing) in str(info.value) and str(info.value).endswith("Download FFHQ from https://example.org.")


def test_a_file_that_is_not_a_zip_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "data.tar").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="neither a directory nor a zip") as info:
        ImageFolderDataset(tmp_path / "data.tar", resolution=8)
    assert str(tmp_path / "data.tar") in str(info.value)


def test_empty_directory_lists_accepted_extensions_and_hint(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match="No images found") as info:
        ImageFolderDataset(tmp_path, resolution=8, prepare_hint="Run the prepare tool.")
    message = str(info.value)
    assert str(tmp_path) in message and ".png" in message and ".jpg" in message and "Run the prepare tool." in message


def test_corrupt_image_is_named_at_setup(tmp_path: Path) -> None:
    _image(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"this is not a png")
    with pytest.raises(DataError, match="not a readable image") as info:
        ImageFolderDataset(tmp_path, resolution=8)
    assert str(tmp_path / "bad.png") in str(info.value)


def test_truncated_image_is_named_when_loaded(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "cut.png")
    data = (tmp_path / "cut.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    dataset = ImageFolderDataset(tmp_path, resolution=8)  # the header alone is intact
    with pytest.raises(DataError, match="cannot be decoded") as info:
        dataset[0]
    assert str(tmp_path / "cut.png") in str(info.value)


def test_resolution_mismatch_names_file_size_and_fix(tmp_path: Path) -> None:
    _image(tmp_path / "a.png", size=(8, 8))
    _image(tmp_path / "b.png", size=(16, 12))
    with pytest.raises(DataError) as info:
        ImageFolderDataset(tmp_path, resolution=8)
    message = str(info.value)
    assert str(tmp_path / "b.png") in message and "16x12" in message and "resolution is 8" in message
    assert "data.dataset.resize=true" in message


def test_use_labels_without_class_subfolders(tmp_path: Path) -> None:
    _image(tmp_path / "a.png")
    with pytest.raises(DataError, match="no class subfolders") as info:
        ImageFolderDataset(tmp_path, resolution=8, use_labels=True)
    assert str(tmp_path) in str(info.value) and "data.dataset.use_labels=false" in str(info.value)


def test_use_labels_with_a_top_level_image_names_it(tmp_path: Path) -> None:
    _image(tmp_path / "cat/a.png")
    _image(tmp_path / "stray.png")
    with pytest.raises(DataError, match="not inside a class subfolder") as info:
        ImageFolderDataset(tmp_path, resolution=8, use_labels=True)
    assert str(tmp_path / "stray.png") in str(info.value)


def test_unsupported_channel_count(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data.channels=2"):
        ImageFolderDataset(tmp_path, resolution=8, channels=2)


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ("absent", "has no dataset.json"),
        (None, 'no "labels" list'),
        ([["a.png", 0]], "no label for 1 image(s) (b.png)"),
        ([["a.png", 0], ["b.png", 1], ["gone.png", 1]], "not images in the zip (gone.png)"),
        ([["a.png", 0], ["b.png", 1], ["a.png", 1]], "labels a.png more than once"),
        ([["a.png", "cat"], ["b.png", 1]], "['a.png', 'cat']"),
    ],
)
def test_zip_label_mismatches_name_the_files(tmp_path: Path, labels: object, fragment: str) -> None:
    path = _zip(tmp_path / "set.zip", {"a.png": 0, "b.png": 1}, labels=labels)
    with pytest.raises(DataError) as info:
        ImageFolderDataset(path, resolution=8, use_labels=True)
    assert fragment in str(info.value) and str(path) in str(info.value)
