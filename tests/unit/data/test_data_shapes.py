"""ShapesDataset: deterministic per (seed, index), with label maps that agree with the pixels."""

import torch

from gan_zoo.data import SHAPE_KINDS, ShapesDataset


def test_images_depend_only_on_seed_and_index() -> None:
    first = ShapesDataset(seed=1)
    second = ShapesDataset(seed=1)
    later = second[7]  # access order must not matter
    for index in (3, 7, 3):
        assert torch.equal(first[index]["image"], second[index]["image"])
    assert torch.equal(first[7]["image"], later["image"])
    assert not torch.equal(first[3]["image"], first[4]["image"])
    assert not torch.equal(first[3]["image"], ShapesDataset(seed=2)[3]["image"])


def test_items_have_the_declared_keys_types_and_range() -> None:
    plain = ShapesDataset(resolution=16, num_images=10)
    assert len(plain) == 10 and plain.num_classes == len(SHAPE_KINDS) == 4
    assert set(plain[0]) == plain.provides == {"image", "label"}
    with_maps = ShapesDataset(resolution=16, num_images=10, with_segmaps=True)
    item = with_maps[0]
    assert set(item) == with_maps.provides == {"image", "label", "segmap", "instance"}
    assert item["image"].shape == (3, 16, 16) and item["image"].dtype == torch.float32
    assert -1 <= item["image"].min() and item["image"].max() <= 1
    assert item["segmap"].shape == item["instance"].shape == (16, 16)
    assert item["segmap"].dtype == item["instance"].dtype == item["label"].dtype == torch.int64
    assert ShapesDataset(channels=1)[0]["image"].shape == (1, 32, 32)


def test_segmap_and_instance_map_agree_with_the_image_and_label() -> None:
    dataset = ShapesDataset(with_segmaps=True, num_images=64)
    seen_labels = set()
    for index in range(len(dataset)):
        item = dataset[index]
        pixels = item["image"].flatten(1).T  # (H*W, 3)
        segmap, instance = item["segmap"].flatten(), item["instance"].flatten()
        assert torch.equal(segmap == 0, instance == 0)
        assert 0 <= segmap.min() and segmap.max() <= 4
        colours = {}
        for region in instance.unique().tolist():
            mask = instance == region
            assert len(pixels[mask].unique(dim=0)) == 1  # one flat colour per shape and for the background
            assert len(segmap[mask].unique()) == 1  # one class per shape
            colours[region] = tuple(pixels[mask][0].tolist())
        assert all(colours[0] != colour for region, colour in colours.items() if region)
        areas = torch.bincount(instance)[1:]
        largest = int(areas.argmax()) + 1
        assert int(item["label"]) == int(segmap[instance == largest][0]) - 1
        seen_labels.add(int(item["label"]))
    assert seen_labels == {0, 1, 2, 3}


def test_mirrored_indices_flip_image_and_maps_together() -> None:
    dataset = ShapesDataset(with_segmaps=True, num_images=5)
    plain, flipped = dataset[2], dataset[7]
    for key in ("image", "segmap", "instance"):
        assert torch.equal(flipped[key], plain[key].flip(-1))
    assert flipped["label"] == plain["label"]
