"""DigitsDataset: scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes), resized.

The data ships inside scikit-learn, so this set needs no download: the CPU smoke runs use it.
"""

import torch
from sklearn.datasets import load_digits
from torch import Tensor
from torchvision.transforms.v2.functional import InterpolationMode, resize

from gan_zoo.data.base import MirroredDataset

_MAX_INK = 16  # load_digits stores ink as counts 0..16 per 8x8 cell


class DigitsDataset(MirroredDataset):
    def __init__(
        self,
        resolution: int = 32,  # pixels per side the 8x8 digits are resized to
        channels: int = 3,  # 3 = grey repeated as RGB (for RGB-only networks), 1 = grey
    ) -> None:
        self.resolution = resolution
        self.channels = channels
        self.num_classes = 10
        self.provides = frozenset({"image", "label"})
        digits = load_digits()
        ink = torch.from_numpy(digits.images).float()[:, None] * (255 / _MAX_INK)
        # Rounded to uint8 like a decoded image file, so every set reaches the model through x/127.5 - 1.
        big = resize(ink, [resolution, resolution], interpolation=InterpolationMode.BILINEAR, antialias=True)
        self._images = big.round().clamp(0, 255).to(torch.uint8)
        self._labels = torch.from_numpy(digits.target).to(torch.int64)

    def __len__(self) -> int:
        return len(self._labels)

    def class_labels(self) -> Tensor:
        return self._labels.clone()

    def load(self, index: int) -> dict[str, Tensor]:
        image = self._images[index].expand(self.channels, -1, -1).float() / 127.5 - 1
        return {"image": image, "label": self._labels[index]}
