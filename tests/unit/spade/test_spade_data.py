"""Paired image / label-map data sets on tiny files: the Cityscapes, ADE20K and COCO-Stuff layouts,
a generic paired folder, label conversion (shift, dontcare), instance maps, non-square sizes, and
the errors that name the file."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.data import DataError, GANDataModule, LayoutDataset, PairedFolderDataset
from gan_zoo.data.label_maps import convert_labels, resize_nearest


def write_rgb(path: Path, width: int, height: int, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width, 3), value, np.uint8)).save(path)


def write_map(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.astype(np.uint16 if array.max() > 255 else np.uint8)).save(path)


def labels(width: int, height: int, values: tuple[int, int]) -> np.ndarray:
    array = np.full((height, width), values[0], np.int64)
    array[:, width // 2 :] = values[1]
    return array


def test_cityscapes_layout_non_square_with_16_bit_instances(tmp_path) -> None:
    root = tmp_path / "cityscapes"
    for city, stem in (("aachen", "aachen_000000_000019"), ("bonn", "bonn_000001_000019")):
        write_rgb(root / f"leftImg8bit/train/{city}/{stem}_leftImg8bit.png", 64, 32)
        write_map(root / f"gtFine/train/{city}/{stem}_gtFine_labelIds.png", labels(64, 32, (7, 26)))
        instance = labels(64, 32, (7, 26001))
        instance[:, 48:] = 26002
        write_map(root / f"gtFine/train/{city}/{stem}_gtFine_instanceIds.png", instance)
    dataset = LayoutDataset("cityscapes", root, resolution=16, label_nc=35, aspect_ratio=2.0, use_instance=True)
    assert len(dataset) == 2 and dataset.provides == {"image", "segmap", "instance"}
    item = dataset[0]
    assert item["image"].shape == (3, 8, 16) and item["segmap"].shape == (8, 16) and item["segmap"].dtype == torch.int64
    assert set(item["segmap"].unique().tolist()) == {7, 26}
    assert set(item["instance"].unique().tolist()) == {7, 26001, 26002}
    flipped = dataset[2]  # the mirrored copy of item 0: every spatial key is flipped together
    assert torch.equal(flipped["segmap"], item["segmap"].flip(-1)) and torch.equal(flipped["instance"], item["instance"].flip(-1))
    datamodule = GANDataModule(dataset, resolution=16, batch_size=2, num_workers=0, aspect_ratio=2.0, label_nc=35)
    assert datamodule.provides == {"image", "segmap", "instance"}


def test_cityscapes_image_without_its_label_map_is_an_error_naming_it(tmp_path) -> None:
    root = tmp_path / "cityscapes"
    image = root / "leftImg8bit/train/ulm/ulm_000000_000019_leftImg8bit.png"
    write_rgb(image, 16, 8)
    (root / "gtFine/train/ulm").mkdir(parents=True)
    with pytest.raises(DataError, match="has no label map") as error:
        LayoutDataset("cityscapes", root, resolution=16, label_nc=35, aspect_ratio=2.0)
    assert str(image) in str(error.value) and "ulm_000000_000019_gtFine_labelIds.png" in str(error.value)


def test_ade20k_labels_are_shifted_and_zero_becomes_dontcare(tmp_path) -> None:
    root = tmp_path / "ADEChallengeData2016"
    write_rgb(root / "images/training/ADE_train_00000001.jpg", 20, 20)
    write_map(root / "annotations/training/ADE_train_00000001.png", labels(20, 20, (0, 150)))
    dataset = LayoutDataset("ade20k", tmp_path, resolution=16, label_nc=150, split="training", contain_dontcare_label=True, label_shift=1, dontcare_values=[0])
    assert dataset.provides == {"image", "segmap"}
    assert set(dataset[0]["segmap"].unique().tolist()) == {149, 150}  # file 150 -> label 149; file 0 -> dontcare 150


def test_cocostuff_255_is_dontcare_and_other_values_outside_the_count_name_the_file(tmp_path) -> None:
    root = tmp_path / "cocostuff"
    write_rgb(root / "train_img/000000000009.jpg", 16, 16)
    write_map(root / "train_label/000000000009.png", labels(16, 16, (181, 255)))
    write_map(root / "train_inst/000000000009.png", labels(16, 16, (0, 3)))
    dataset = LayoutDataset("cocostuff", root, resolution=16, label_nc=182, use_instance=True, contain_dontcare_label=True, dontcare_values=[255])
    assert set(dataset[0]["segmap"].unique().tolist()) == {181, 182}
    bad = root / "train_label/000000000009.png"
    write_map(bad, labels(16, 16, (181, 200)))
    with pytest.raises(DataError, match="label value 200, outside the 182 labels") as error:
        dataset[0]
    assert str(bad) in str(error.value)
    (root / "train_inst/000000000009.png").unlink()
    with pytest.raises(DataError, match="has no instance map"):
        LayoutDataset("cocostuff", root, resolution=16, label_nc=182, use_instance=True)


def test_generic_paired_folder_and_its_errors(tmp_path) -> None:
    write_rgb(tmp_path / "images/a/x.jpg", 24, 12)
    write_map(tmp_path / "labels/a/x.png", labels(24, 12, (0, 4)))
    dataset = PairedFolderDataset(tmp_path, resolution=16, label_nc=5, aspect_ratio=2.0)
    assert dataset[0]["image"].shape == (3, 8, 16) and set(dataset[0]["segmap"].unique().tolist()) == {0, 4}
    with pytest.raises(DataError, match="label value 4, outside the 4 labels"):
        PairedFolderDataset(tmp_path, resolution=16, label_nc=4, aspect_ratio=2.0)[0]
    with pytest.raises(DataError, match="data.label_nc=None"):
        PairedFolderDataset(tmp_path, resolution=16, label_nc=None)
    write_map(tmp_path / "labels/a/x.png", labels(12, 12, (0, 1)))
    with pytest.raises(DataError, match="must be the same size"):
        PairedFolderDataset(tmp_path, resolution=16, label_nc=5)[0]
    write_rgb(tmp_path / "images/b.png", 8, 8)
    with pytest.raises(DataError, match=r"b.png has no label map"):
        PairedFolderDataset(tmp_path, resolution=16, label_nc=5)
    with pytest.raises(DataError, match="does not exist"):
        PairedFolderDataset(tmp_path / "nowhere", resolution=16, label_nc=5)


def test_datamodule_refuses_a_dataset_of_another_aspect_ratio_or_label_count(tmp_path) -> None:
    write_rgb(tmp_path / "images/x.png", 16, 16)
    write_map(tmp_path / "labels/x.png", labels(16, 16, (0, 1)))
    dataset = PairedFolderDataset(tmp_path, resolution=16, label_nc=2)
    with pytest.raises(DataError, match="aspect ratio"):
        GANDataModule(dataset, resolution=16, batch_size=1, num_workers=0, aspect_ratio=2.0).setup()
    with pytest.raises(DataError, match="data.label_nc is 3"):
        GANDataModule(dataset, resolution=16, batch_size=1, num_workers=0, label_nc=3).setup()


def test_label_conversion_and_nearest_resize() -> None:
    raw = np.array([[0, 1, 2], [255, 2, 1]])
    assert convert_labels(raw, 3, "x.png", dontcare_values=[255], contain_dontcare_label=True).tolist() == [[0, 1, 2], [3, 2, 1]]
    with pytest.raises(DataError, match="x.png has the label value 255"):
        convert_labels(raw, 3, "x.png", dontcare_values=[255], contain_dontcare_label=False)
    array = np.arange(16).reshape(4, 4)
    assert resize_nearest(array, 2, 2).tolist() == [[5, 7], [13, 15]]
    assert np.array_equal(resize_nearest(array, 8, 8)[::2, ::2], array)
