"""mode=images: one PNG per seed and a grid of all of them."""

from typing import Any

import torch
from torch import Tensor

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.generate import style_split
from gan_zoo.models.base import GANModule
from gan_zoo.sampling.output import OutputDir, tile_side


def generate_images(module: GANModule, seeds: list[int], options: dict[str, Any], out: OutputDir) -> Tensor:
    """uint8 [N, C, H, W], also written as seed%04d.png and grid.png."""
    names = [f"seed{seed:04d}.png" for seed in seeds] + ["grid.png"]
    batches = [seeds[i : i + options["batch_size"]] for i in range(0, len(seeds), options["batch_size"])]
    if style_split.has_style_split(module):
        labels = style_split.class_labels(module, options["class_index"], len(seeds))
        out.check_free(names)
        images = []
        for batch in batches:
            batch_labels = None if labels is None else labels[: len(batch)]
            ws = style_split.map_seeds(module, batch, batch_labels, options["truncation"], options["truncation_cutoff"])
            images.append(to_uint8(style_split.synthesize(module, ws, options["noise_mode"], noise_seeds=batch)).cpu())
    else:
        if options["truncation"] != 1 or options["truncation_cutoff"] is not None:
            raise ConfigError(f"truncation applies to StyleGAN-family models; this checkpoint is a '{module.family}' model: leave truncation at 1")
        labels = style_split.class_labels(module, options["class_index"], len(seeds))
        out.check_free(names)
        images = []
        for start, batch in zip(range(0, len(seeds), options["batch_size"]), batches):
            batch_labels = None if labels is None else labels[start : start + len(batch)]
            images.append(module.sample(batch, labels=batch_labels).cpu())
    images_tensor = torch.cat(images)
    for seed, image in zip(seeds, images_tensor):
        out.png(f"seed{seed:04d}.png", image)
    out.grid("grid.png", images_tensor, tile_side(len(seeds)))
    return images_tensor
