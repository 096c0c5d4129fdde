"""The StarGAN v2 augmentation, drawn from a numpy generator so it is a pure function of its seed.

With probability `prob` a random-resized crop (torchvision's RandomResizedCrop parameters: area
fraction in `scale`, log-uniform aspect ratio in `ratio`, ten attempts, then a centre crop), then a
resize of the whole image to resolution x resolution (aspect not kept, as the official Resize), then
a horizontal flip with probability 1/2.
"""

import math

import numpy as np
import torch.nn.functional as F
from torch import Tensor


def crop_box(rng: np.random.Generator, height: int, width: int, scale: tuple[float, float], ratio: tuple[float, float]) -> tuple[int, int, int, int]:
    """(top, left, h, w) of a random crop covering a `scale` fraction of the area at a `ratio` aspect."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
    # torchvision's fallback: the largest centred crop within the ratio bounds
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def resize(image: Tensor, resolution: int) -> Tensor:
    """CHW image -> resolution x resolution (bilinear, anti-aliased like PIL's when shrinking)."""
    if image.shape[-2:] == (resolution, resolution):
        return image
    return F.interpolate(image[None], size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False)[0]


def augment(
    image: Tensor,  # CHW float image of any size
    rng: np.random.Generator,  # the per-item generator (seeded by data seed and item index)
    resolution: int,  # output side in pixels
    prob: float = 0.5,  # probability of the random-resized crop
    scale: tuple[float, float] = (0.8, 1.0),  # crop area as a fraction of the image
    ratio: tuple[float, float] = (0.9, 1.1),  # crop aspect ratio range (w / h)
    flip: bool = True,  # horizontal flip with probability 1/2
) -> Tensor:
    # Every draw happens whatever the outcome, so one item's draws never shift another's.
    crop, box, mirrored = rng.uniform() < prob, crop_box(rng, *image.shape[-2:], scale, ratio), rng.uniform() < 0.5
    if crop:
        top, left, h, w = box
        image = image[:, top : top + h, left : left + w]
    image = resize(image, resolution)
    return image.flip(-1) if flip and mirrored else image
