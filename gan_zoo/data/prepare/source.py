"""What every downloaded format gives `gan-zoo data prepare`: records in output order, decoded later.

A source lists its images as `Record`s in the order the zip numbers them. Reading a record's
pixels (`read`) happens in the worker processes, so a record carries what decoding needs (a file
name inside the source, the encoded bytes, or the pixel array) and the source itself stays light
enough to hand to every worker.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Record:
    key: Any  # what `read` decodes: a name inside the source, encoded bytes or a uint8 pixel array
    where: str  # the image as messages name it (a path, path:member, or path[index])
    label: int | None  # class index, None when the source has no labels


class PrepareSource(Protocol):
    description: str  # one line for the user: format, image count, classes
    channels: int  # the source's natural channels: 1 for grey sets (MNIST), else 3
    num_classes: int  # 0 without labels

    def __len__(self) -> int: ...
    def records(self) -> Iterator[Record]: ...
    def read(self, key: Any, mode: str) -> Image.Image: ...  # decoded, converted to mode ("RGB" or "L")


class InMemoryArraySource:
    """A source whose images are decoded arrays held in memory (CIFAR-10, MNIST).

    Subclasses set `path`, `_images` ([N, H, W(, C)] uint8), `_labels` and `array_mode` (PIL mode of
    the arrays). Records carry the pixels, so the copies handed to workers drop the arrays.
    """

    array_mode: ClassVar[str] = "RGB"
    path: Any
    _images: np.ndarray
    _labels: list[int]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_images": None, "_labels": None}

    def __len__(self) -> int:
        return len(self._labels)

    def records(self) -> Iterator[Record]:
        for index, (image, label) in enumerate(zip(self._images, self._labels)):
            yield Record(np.ascontiguousarray(image), f"{self.path}[{index}]", label)

    def read(self, key: np.ndarray, mode: str) -> Image.Image:
        return Image.fromarray(key, self.array_mode).convert(mode)
