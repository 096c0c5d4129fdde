"""ADE20K / COCO-Stuff training crops (official resize_and_crop, 286 -> 256): image and maps cropped
together, a fresh crop per epoch drawn from the sampler's epoch-carrying index, validation uncropped."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.data import DataError, LayoutDataset
from gan_zoo.data.label_maps import resize_nearest
from gan_zoo.data.sampler import StreamBatchSampler
from gan_zoo.data.transforms import to_signed


def write_item(root: Path, split: str, name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    (root / "images" / split).mkdir(parents=True, exist_ok=True)
    (root / "annotations" / split).mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(root / "images" / split / f"{name}.png")
    # A label value per column, so every horizontal offset of a crop shows in the label map.
    Image.fromarray(np.tile(np.arange(1, 21, dtype=np.uint8), (20, 1))).save(root / "annotations" / split / f"{name}.png")


@pytest.fixture
def ade(tmp_path) -> Path:
    root = tmp_path / "ADEChallengeData2016"
    for i in range(3):
        write_item(root, "training", f"ADE_train_{i:08d}", i)
        write_item(root, "validation", f"ADE_val_{i:08d}", 10 + i)
    return root


def _dataset(root: Path, split: str = "training", seed: int = 0) -> LayoutDataset:
    # Served at 16 px, loaded at 24 (load_scale 1.5): crops at 9 x 9 positions.
    return LayoutDataset("ade20k", root, resolution=16, label_nc=20, split=split, label_shift=1, load_scale=1.5, seed=seed)


def test_image_and_maps_are_one_crop_of_the_loaded_size(ade):
    dataset = _dataset(ade)
    assert dataset.augments_per_epoch
    n = len(dataset)
    for epoch, index in ((0, 0), (3, 1), (7, 2)):
        item = dataset[epoch * 2 * n + index]
        top, left = dataset.crop_box(index, epoch)
        pair = dataset.pairs[index]
        with Image.open(pair.image) as picture:
            loaded = to_signed(picture.convert("RGB").resize((24, 24), Image.Resampling.BICUBIC))
        assert torch.equal(item["image"], loaded[:, top : top + 16, left : left + 16])
        raw = np.asarray(Image.open(pair.label)).astype(np.int64) - 1
        assert torch.equal(item["segmap"], torch.from_numpy(resize_nearest(raw, 24, 24)[top : top + 16, left : left + 16]))


def test_each_epoch_crops_anew_and_mirrored_indices_flip_the_same_crop(ade):
    dataset = _dataset(ade)
    n = len(dataset)
    boxes = {dataset.crop_box(0, epoch) for epoch in range(20)}
    assert len(boxes) > 5  # 81 positions: twenty epochs do not all land on one
    assert all(0 <= top <= 8 and 0 <= left <= 8 for top, left in boxes)
    for epoch in (0, 5):
        plain, mirrored = dataset[epoch * 2 * n + 1], dataset[epoch * 2 * n + n + 1]
        assert torch.equal(mirrored["image"], plain["image"].flip(-1)) and torch.equal(mirrored["segmap"], plain["segmap"].flip(-1))
    assert torch.equal(dataset[0]["image"], dataset.load(0)["image"])  # plain load() is epoch 0's crop
    assert dataset.crop_box(0, 1) != _dataset(ade, seed=1).crop_box(0, 1) or dataset.crop_box(1, 1) != _dataset(ade, seed=1).crop_box(1, 1)


def test_validation_split_is_resized_not_cropped(ade):
    dataset = _dataset(ade, split="validation")
    assert not dataset.augments_per_epoch
    with Image.open(dataset.pairs[0].image) as picture:
        expected = to_signed(picture.convert("RGB").resize((16, 16), Image.Resampling.BICUBIC))
    assert torch.equal(dataset[0]["image"], expected)


def test_the_sampler_hands_epoch_carrying_indices_that_resume_exactly():
    whole = StreamBatchSampler(num_items=3, batch_size=2, num_batches=9, start_nimg=0, seed=4, mirror=True, epoch_indices=True)
    indices = [i for batch in whole for i in batch]
    assert [i // 6 for i in indices] == [p // 6 for p in range(18)]  # epoch = position // 2N
    assert sorted(i % 6 for i in indices[:6]) == list(range(6))  # each epoch is a permutation of [0, 2N)
    resumed = StreamBatchSampler(num_items=3, batch_size=2, num_batches=4, start_nimg=10, seed=4, mirror=True, epoch_indices=True)
    assert [i for batch in resumed for i in batch] == indices[10:]
    plain = StreamBatchSampler(num_items=3, batch_size=2, num_batches=9, start_nimg=0, seed=4, mirror=True)
    assert [i for batch in plain for i in batch] == [i % 6 for i in indices]


def test_a_load_scale_below_one_is_refused(ade):
    with pytest.raises(DataError, match="load_scale=0.5"):
        LayoutDataset("ade20k", ade, resolution=16, label_nc=20, split="training", label_shift=1, load_scale=0.5)


def test_the_training_loader_serves_each_epochs_crops(ade):
    from gan_zoo.data import GANDataModule

    dataset = _dataset(ade)
    module = GANDataModule(dataset, resolution=16, batch_size=3, num_workers=0, mirror=False, seed=2, label_nc=20)
    module.setup()
    loader = module.make_train_loader(start_nimg=0, per_rank_batch=3, num_batches=2, rank=0, world_size=1)
    batches = list(loader)
    sampler = loader.batch_sampler
    indices = [i for batch in sampler for i in batch]
    expected = torch.stack([dataset[i]["image"] for i in indices])
    assert torch.equal(torch.cat([b["image"] for b in batches]), expected)
    assert {i // 6 for i in indices} == {0, 1}  # the second epoch's items carry epoch 1
