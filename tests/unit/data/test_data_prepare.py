"""`gan-zoo data prepare`: each downloaded format -> the NVlabs-style zip, the dataset_tool crops, and
the run's guarantees (order and bytes independent of workers, atomic dest, bad files, Ctrl-C)."""

import io
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_zoo.data import DataError, ImageFolderDataset
from gan_zoo.data.prepare import crops, prepare_dataset
from gan_zoo.data.prepare import run as prepare_run
from gan_zoo.metrics.fingerprint import dataset_fingerprint
from tests.unit.data_sources import encoded, smooth_image, write_cifar10, write_lmdb, write_mnist, write_tree, write_zip, zip_images


def prepare(source, dest, **options):
    return prepare_dataset(source, dest, **{"workers": 0, "progress": False, **options})


def reference(pixels: np.ndarray, transform: str | None, width: int, height: int) -> np.ndarray | None:
    """NVlabs stylegan3 dataset_tool.py's make_transform, written out on arrays (uint8 HWC)."""
    lanczos = lambda array, size: np.asarray(Image.fromarray(array).resize(size, Image.Resampling.LANCZOS))
    h, w = pixels.shape[:2]
    if transform is None:
        return pixels if (w, h) == (width, height) else lanczos(pixels, (width, height))
    if transform == "center-crop":
        crop = min(h, w)
        return lanczos(pixels[(h - crop) // 2 : (h + crop) // 2, (w - crop) // 2 : (w + crop) // 2], (width, height))
    band = int(np.round(width * h / w))
    if w < width or band < height:
        return None
    canvas = np.zeros([width, width, 3], dtype=np.uint8)
    canvas[(width - height) // 2 : (width + height) // 2, :] = lanczos(pixels[(h - band) // 2 : (h + band) // 2], (width, height))
    return canvas


# ---- crops and resizes --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(37, 23), (23, 37), (40, 40), (50, 21), (61, 30)])
@pytest.mark.parametrize(("transform", "resolution"), [(None, 16), (None, 40), ("center-crop", 16), ("center-crop-wide", 32), ("center-crop-wide", "24x20")])
def test_crops_equal_dataset_tool_with_pil_lanczos(size, transform, resolution):
    image = smooth_image(*size, seed=size[0])
    out_size = crops.parse_size(resolution, transform or "none")
    ours = crops.apply(image, transform or "none", out_size)
    expected = reference(np.asarray(image), transform, *out_size)
    if expected is None:
        assert ours is None
    else:
        assert np.array_equal(np.asarray(ours), expected)


def test_sizes_parse_as_the_transforms_need():
    assert crops.parse_size(256, "none") == (256, 256) and crops.parse_size(None, "none") is None
    assert crops.parse_size(256, "center-crop-wide") == (256, 128) and crops.parse_size("512x384", "center-crop-wide") == (512, 384)
    with pytest.raises(ValueError, match="needs an output size"):
        crops.parse_size(None, "center-crop")
    with pytest.raises(ValueError, match="not square"):
        crops.parse_size("64x32", "center-crop")


# ---- one test per downloaded format --------------------------------------------------------------


def test_cifar10_tarball_keeps_pixels_labels_and_order(tmp_path):
    batches = write_cifar10(tmp_path / "cifar-10-python.tar.gz")
    result = prepare(tmp_path / "cifar-10-python.tar.gz", tmp_path / "cifar10.zip")
    names, pixels, labels = zip_images(tmp_path / "cifar10.zip")
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    expected_images = np.concatenate([images for images, _ in train])
    expected_labels = [label for _, batch_labels in train for label in batch_labels]
    assert result.written == 15 and result.size == (32, 32) and "CIFAR-10" in result.description
    assert names[:2] == ["00000/img00000000.png", "00000/img00000001.png"]
    assert np.array_equal(np.stack(pixels), expected_images)
    assert labels == [[name, label] for name, label in zip(names, expected_labels)]
    dataset = ImageFolderDataset(tmp_path / "cifar10.zip", resolution=32, use_labels=True)
    assert len(dataset) == 15 and dataset.num_classes == max(expected_labels) + 1
    test = prepare(tmp_path / "cifar-10-python.tar.gz", tmp_path / "test.zip", split="test")
    assert test.written == 3 and np.array_equal(np.stack(zip_images(tmp_path / "test.zip")[1]), batches["test_batch"][0])


def test_mnist_idx_files_are_padded_to_32_and_stay_grey(tmp_path):
    path, images, labels = write_mnist(tmp_path)
    result = prepare(path, tmp_path / "mnist.zip")
    names, pixels, json_labels = zip_images(tmp_path / "mnist.zip")
    assert result.channels == 1 and result.size == (32, 32)
    assert np.array_equal(np.stack(pixels), np.pad(images, [(0, 0), (2, 2), (2, 2)]))
    assert [label for _, label in json_labels] == labels.tolist()


def test_lsun_lmdb_is_read_in_key_order_and_centre_cropped(tmp_path):
    pytest.importorskip("lmdb")
    values = write_lmdb(tmp_path / "church_outdoor_train_lmdb", [(30, 20), (20, 26), (24, 24)])
    result = prepare(tmp_path / "church_outdoor_train_lmdb", tmp_path / "church.zip", resolution=16, transform="center-crop")
    _, pixels, labels = zip_images(tmp_path / "church.zip")
    expected = [reference(np.asarray(Image.open(io.BytesIO(v)).convert("RGB")), "center-crop", 16, 16) for v in values]
    assert result.written == 3 and labels is None
    assert all(np.array_equal(ours, theirs) for ours, theirs in zip(pixels, expected))


def test_afhq_zip_reads_train_with_class_folders_as_labels(tmp_path):
    files = {f"afhq/{split}/{kind}/{kind}_{i}.jpg": smooth_image(12, 12, i) for split in ("train", "val") for kind in ("wild", "cat", "dog") for i in range(2)}
    files["__MACOSX/afhq/train/cat/._cat_0.jpg"] = b"\x00\x05\x16\x07 resource fork"  # what a zip made on macOS adds
    write_zip(tmp_path / "afhq.zip", files)
    result = prepare(tmp_path / "afhq.zip", tmp_path / "afhq8.zip", resolution=8)
    _, pixels, labels = zip_images(tmp_path / "afhq8.zip")
    assert result.written == 6 and result.num_classes == 3 and "cat .. wild" in result.description
    assert [label for _, label in labels] == [0, 0, 1, 1, 2, 2]  # cat, dog, wild: sorted folder names
    one_class = prepare(tmp_path / "afhq.zip", tmp_path / "dog8.zip", resolution=8, subset="train/dog")
    assert one_class.written == 2 and zip_images(tmp_path / "dog8.zip")[2] is None
    every_split = prepare(tmp_path / "afhq.zip", tmp_path / "all8.zip", resolution=8, split=None, labels="none")
    assert every_split.written == 12 and zip_images(tmp_path / "all8.zip")[2] is None


def test_imagenet_train_folder_labels_follow_sorted_wnids(tmp_path):
    files = {
        "train/n02000000/b.JPEG": smooth_image(20, 14, 1),
        "train/n01000000/a.JPEG": smooth_image(14, 18, 2),
        "train/n01000000/c.JPEG": smooth_image(16, 16, 3),
        "val/n01000000/v.JPEG": smooth_image(16, 16, 4),
    }
    write_tree(tmp_path / "ILSVRC", files)
    result = prepare(tmp_path / "ILSVRC", tmp_path / "imagenet8.zip", resolution=8, transform="center-crop")
    _, pixels, labels = zip_images(tmp_path / "imagenet8.zip")
    assert [label for _, label in labels] == [0, 0, 1] and result.num_classes == 2
    source = np.asarray(Image.open(tmp_path / "ILSVRC/train/n01000000/a.JPEG").convert("RGB"))
    assert np.array_equal(pixels[0], reference(source, "center-crop", 8, 8))


def test_ffhq_numbered_folders_are_not_classes(tmp_path):
    write_tree(tmp_path / "images1024x1024", {f"{folder}/{i:05d}.png": smooth_image(16, 16, i) for folder, i in (("00000", 0), ("00000", 1), ("01000", 1000))})
    result = prepare(tmp_path / "images1024x1024", tmp_path / "ffhq8.zip", resolution=8)
    names, pixels, labels = zip_images(tmp_path / "ffhq8.zip")
    assert result.written == 3 and labels is None and result.num_classes == 0
    assert np.array_equal(pixels[2], reference(np.asarray(Image.open(tmp_path / "images1024x1024/01000/01000.png")), None, 8, 8))


def test_a_prepared_zip_is_a_source_and_keeps_its_dataset_json_labels(tmp_path):
    write_cifar10(tmp_path / "cifar.tar.gz")
    prepare(tmp_path / "cifar.tar.gz", tmp_path / "cifar10.zip")
    prepare(tmp_path / "cifar10.zip", tmp_path / "cifar16.zip", resolution=16)
    _, big, labels32 = zip_images(tmp_path / "cifar10.zip")
    _, small, labels16 = zip_images(tmp_path / "cifar16.zip")
    assert labels16 == labels32
    assert np.array_equal(small[4], reference(big[4], None, 16, 16))


# ---- the run's guarantees ------------------------------------------------------------------------


def test_worker_count_changes_no_byte_and_a_zip_is_content_keyed(tmp_path):
    write_cifar10(tmp_path / "cifar.tar.gz", per_batch=8)
    prepare(tmp_path / "cifar.tar.gz", tmp_path / "one.zip")
    prepare(tmp_path / "cifar.tar.gz", tmp_path / "two" / "cifar10.zip", workers=2)
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two" / "cifar10.zip").read_bytes()
    fingerprints = [dataset_fingerprint(ImageFolderDataset(p, resolution=32)) for p in (tmp_path / "one.zip", tmp_path / "two" / "cifar10.zip")]
    assert fingerprints[0] == fingerprints[1], "the real-statistics key follows the content, not the file's name or time"
    write_cifar10(tmp_path / "other.tar.gz", per_batch=8, seed=1)
    prepare(tmp_path / "other.tar.gz", tmp_path / "other.zip")
    assert dataset_fingerprint(ImageFolderDataset(tmp_path / "other.zip", resolution=32)) != fingerprints[0]


def test_existing_dest_is_refused_unless_overwrite(tmp_path):
    write_cifar10(tmp_path / "cifar.tar.gz")
    (tmp_path / "cifar10.zip").write_bytes(b"keep me")
    with pytest.raises(DataError, match="already exists.*overwrite=true"):
        prepare(tmp_path / "cifar.tar.gz", tmp_path / "cifar10.zip")
    assert (tmp_path / "cifar10.zip").read_bytes() == b"keep me"
    prepare(tmp_path / "cifar.tar.gz", tmp_path / "cifar10.zip", overwrite=True)
    assert len(zip_images(tmp_path / "cifar10.zip")[0]) == 15


def _folder_with_a_bad_file(root: Path) -> None:
    write_tree(
        root,
        {
            "a.png": smooth_image(8, 8, 0),
            "b.png": b"\x89PNG\r\n\x1a\n not really",
            "c.png": smooth_image(8, 8, 1),
            "d.jpg": encoded(smooth_image(8, 8, 2), "jpeg")[:40],
        },
    )


def test_a_bad_image_stops_the_run_naming_it_and_leaves_no_dest(tmp_path):
    _folder_with_a_bad_file(tmp_path / "src")
    with pytest.raises(DataError, match="b.png is not a readable image.*skip_bad=true"):
        prepare(tmp_path / "src", tmp_path / "out" / "x.zip", workers=2)
    assert list((tmp_path / "out").iterdir()) == [], "neither dest nor a temporary file may stay behind"


def test_skip_bad_lists_and_skips_unreadable_images(tmp_path):
    _folder_with_a_bad_file(tmp_path / "src")
    result = prepare(tmp_path / "src", tmp_path / "x.zip", skip_bad=True)
    assert result.written == 2 and [Path(where).name for where, _ in result.skipped] == ["b.png", "d.jpg"]
    assert np.array_equal(zip_images(tmp_path / "x.zip")[1][1], np.asarray(Image.open(tmp_path / "src/c.png")))


def test_ctrl_c_leaves_no_half_written_zip(tmp_path, monkeypatch):
    write_tree(tmp_path / "src", {f"{i:03d}.png": smooth_image(8, 8, i) for i in range(80)})
    real_open = prepare_run.open_source

    def interrupted_source(*args, **kwargs):
        source = real_open(*args, **kwargs)
        records = source.records

        def interrupt_midway():
            for index, record in enumerate(records()):
                if index == 40:
                    os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C delivers
                yield record

        source.records = interrupt_midway
        return source

    monkeypatch.setattr(prepare_run, "open_source", interrupted_source)
    # Python's own Ctrl-C handler, as in a terminal: a shell starts background jobs (`cmd &`, CI
    # scripts) with SIGINT ignored, and Python then keeps it ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            prepare(tmp_path / "src", tmp_path / "out" / "x.zip", workers=2)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert list((tmp_path / "out").iterdir()) == []


def test_sizes_must_end_up_square_and_equal(tmp_path):
    write_tree(tmp_path / "wide", {"a.png": smooth_image(10, 8, 0)})
    with pytest.raises(DataError, match=r"a.png is 10x8; the zip holds square images.*transform=center-crop"):
        prepare(tmp_path / "wide", tmp_path / "wide.zip")
    write_tree(tmp_path / "mixed", {"a.png": smooth_image(8, 8, 0), "b.png": smooth_image(10, 10, 1)})
    with pytest.raises(DataError, match=r"b.png is 10x10 but the images before it are 8x8; pass resolution=N"):
        prepare(tmp_path / "mixed", tmp_path / "mixed.zip")
    assert not (tmp_path / "mixed.zip").exists()


def test_center_crop_wide_drops_narrow_images_as_dataset_tool(tmp_path):
    write_tree(tmp_path / "cars", {"a.png": smooth_image(40, 30, 0), "b.png": smooth_image(12, 9, 1), "c.png": smooth_image(48, 30, 2)})
    result = prepare(tmp_path / "cars", tmp_path / "cars.zip", resolution=32, transform="center-crop-wide")
    assert result.written == 2 and result.dropped == 1 and result.size == (32, 32)


def test_unknown_and_missing_sources_say_what_is_read(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="not a format gan-zoo data prepare reads.*cifar-10-python.tar.gz"):
        prepare(tmp_path / "notes.txt", tmp_path / "x.zip")
    with pytest.raises(DataError, match="does not exist"):
        prepare(tmp_path / "nothing", tmp_path / "x.zip")
    with pytest.raises(DataError, match="must name a .zip"):
        prepare(tmp_path / "notes.txt", tmp_path / "x")
