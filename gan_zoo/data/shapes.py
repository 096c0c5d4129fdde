"""ShapesDataset: procedural coloured shapes with classes, label maps and instance maps; no files.

Each image has a dark background and 1-3 bright filled shapes of K=4 kinds (circle, square,
triangle, cross) at random positions, sizes and rotations. Everything is drawn on the fly from a
generator seeded by (seed, index), so any worker, any process and any resume sees the same image.
"""

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.transforms import to_signed

SHAPE_KINDS = ("circle", "square", "triangle", "cross")  # label k; segmap value k + 1 (0 = background)


def _regular_polygon(sides: int) -> np.ndarray:
    angles = 2 * np.pi * np.arange(sides) / sides
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


# Unit-circle outlines of the polygon kinds (kind index -> vertices), rotated and scaled per shape.
_OUTLINES = {
    1: _regular_polygon(4),
    2: _regular_polygon(3),
    # A plus sign of arm half-width 1/3 whose arm corners touch the unit circle.
    3: np.array([(1, 1), (3, 1), (3, -1), (1, -1), (1, -3), (-1, -3), (-1, -1), (-3, -1), (-3, 1), (-1, 1), (-1, 3), (1, 3)]) / np.sqrt(10),
}


def _draw_shape(draw: ImageDraw.ImageDraw, kind: int, centre: np.ndarray, radius: float, angle: float, fill: object) -> None:
    """Draw shape `kind` inscribed in the circle (centre, radius), rotated by `angle` radians."""
    if kind == 0:
        x, y = centre
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)
        return
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    draw.polygon((_OUTLINES[kind] @ rotation.T * radius + centre).ravel().tolist(), fill=fill)


class ShapesDataset(MirroredDataset):
    def __init__(
        self,
        resolution: int = 32,  # pixels per side
        num_images: int = 2048,  # N distinct images (indices beyond are the mirrored copies)
        seed: int = 0,  # selects the whole set; image i depends only on (seed, i)
        channels: int = 3,  # 3 = RGB, 1 = grey
        with_segmaps: bool = False,  # also provide `segmap` (class per pixel) and `instance` (shape id per pixel)
    ) -> None:
        self.resolution = resolution
        self.num_images = num_images
        self.seed = seed
        self.channels = channels
        self.with_segmaps = with_segmaps
        self.num_classes = len(SHAPE_KINDS)
        self.provides = frozenset({"image", "label", "segmap", "instance"} if with_segmaps else {"image", "label"})

    def __len__(self) -> int:
        return self.num_images

    def load(self, index: int) -> dict[str, Tensor]:
        rng = np.random.default_rng([self.seed, index])
        size = (self.resolution, self.resolution)
        # Dark backgrounds and bright shapes keep every shape distinguishable from the background.
        image = Image.new("RGB", size, tuple(rng.integers(0, 96, 3).tolist()))
        segmap = Image.new("L", size, 0)
        instance = Image.new("L", size, 0)
        layers = (ImageDraw.Draw(image), ImageDraw.Draw(segmap), ImageDraw.Draw(instance))
        kinds = []
        for instance_id in range(1, int(rng.integers(1, 4)) + 1):
            kind = int(rng.integers(len(SHAPE_KINDS)))
            radius = rng.uniform(0.15, 0.35) * self.resolution
            centre = rng.uniform(radius, self.resolution - radius, size=2)
            angle = rng.uniform(0, 2 * np.pi)
            colour = tuple(rng.integers(128, 256, 3).tolist())
            # The same primitive on all three canvases (no anti-aliasing) keeps the maps pixel-exact.
            for draw, fill in zip(layers, (colour, kind + 1, instance_id)):
                _draw_shape(draw, kind, centre, radius, angle, fill)
            kinds.append(kind)
        instance_map = np.array(instance, dtype=np.int64)
        # "Largest" = most visible pixels, so the label matches what the image shows after occlusion.
        visible = np.bincount(instance_map.ravel(), minlength=len(kinds) + 1)[1:]
        item = {
            "image": to_signed(image if self.channels == 3 else image.convert("L")),
            "label": torch.tensor(kinds[int(visible.argmax())], dtype=torch.int64),
        }
        if self.with_segmaps:
            item["segmap"] = torch.from_numpy(np.array(segmap, dtype=np.int64))
            item["instance"] = torch.from_numpy(instance_map)
        return item
