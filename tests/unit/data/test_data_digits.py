"""DigitsDataset: scikit-learn's bundled digits, resized, with labels 0-9."""

import torch

from gan_zoo.data import DigitsDataset


def test_digits_shapes_range_and_labels() -> None:
    dataset = DigitsDataset(resolution=32)
    assert len(dataset) == 1797 and dataset.num_classes == 10 and dataset.provides == {"image", "label"}
    images = torch.stack([dataset[i]["image"] for i in range(0, 1797, 7)])
    labels = torch.stack([dataset[i]["label"] for i in range(1797)])
    assert images.shape[1:] == (3, 32, 32) and images.dtype == torch.float32
    assert images.min() == -1 and 0.5 < images.max() <= 1  # black background, bright ink
    assert labels.dtype == torch.int64 and set(labels.tolist()) == set(range(10))
    assert torch.equal(dataset[1797 + 5]["image"], dataset[5]["image"].flip(-1))


def test_digits_other_resolution_and_grey() -> None:
    image = DigitsDataset(resolution=16, channels=1)[0]["image"]
    assert image.shape == (1, 16, 16)
