"""Pixel conversions: uint8 images <-> the models' [-1, 1] range (datasets, sampling, metrics), size and channel checks."""

import torch
from PIL import Image, ImageOps
from torch import Tensor
from torchvision.transforms.v2.functional import pil_to_tensor

from gan_zoo.data.errors import DataError


def to_signed(image: Image.Image) -> Tensor:
    """uint8 PIL image -> float32 CHW tensor in [-1, 1] (x / 127.5 - 1, as the NVlabs training loops)."""
    return pil_to_tensor(image).float() / 127.5 - 1


def to_uint8(images: Tensor) -> Tensor:
    """[-1, 1] float -> uint8 the way NVIDIA converts generator output (x*127.5+128, clamp, truncate = round)."""
    return (images.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8)


def check_size(size: tuple[int, int], resolution: int, where: str) -> None:
    """Raise unless `size` (width, height) is resolution x resolution; `where` names the file."""
    if size != (resolution, resolution):
        width, height = size
        raise DataError(
            f"{where} is {width}x{height} but data.resolution is {resolution}; set data.dataset.resize=true to "
            f"centre-crop and resize it, or prepare the data at {resolution}x{resolution}"
        )


def conform(image: Image.Image, resolution: int, channels: int, resize: bool, where: str) -> Image.Image:
    """A decoded copy of `image` with `channels` channels, resolution x resolution pixels.

    Grey images become RGB when channels=3 (colour ones grey when channels=1), so a set mixing both
    trains without a preparation step. Without `resize` a wrong size is a DataError naming `where`.
    """
    image = image.convert("RGB" if channels == 3 else "L")
    if image.size == (resolution, resolution):
        return image
    if not resize:
        check_size(image.size, resolution, where)
    # Centre-crop to square, then LANCZOS: an anti-aliased downscale, as the NVlabs dataset_tool does.
    return ImageOps.fit(image, (resolution, resolution), method=Image.Resampling.LANCZOS)
