"""mode=style_mixing: the StyleGAN style-mixing figure.

Row seeds give the coarse-to-fine "source" styles, column seeds the styles copied into the layers
listed in `styles` (e.g. 0-3 coarse, 4-7 middle, 8+ fine). The grid's first row shows the column
images, its first column the row images, and the top-left corner stays blank, as in the paper.
"""

from typing import Any

import torch
from torch import Tensor
from torchvision.utils import make_grid

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.generate import style_split
from gan_zoo.models.base import GANModule
from gan_zoo.sampling.output import OutputDir


def mixing_grid_styles(row_ws: Tensor, col_ws: Tensor, styles: list[int]) -> Tensor:
    """ws [rows, cols, num_ws, w_dim]: row styles with the listed layers taken from each column."""
    mixed = row_ws[:, None].repeat(1, col_ws.shape[0], 1, 1)
    mixed[:, :, styles] = col_ws[None, :, styles]
    return mixed


def generate_style_mixing(module: GANModule, rows: list[int], cols: list[int], styles: list[int], options: dict[str, Any], out: OutputDir) -> Tensor:
    """uint8 grid [C, H*(rows+1), W*(cols+1)], written as style_mixing.png (and each cell as rR-cC.png)."""
    style_split.require_style_split(module, "mode=style_mixing")
    labels_rows = style_split.class_labels(module, options["class_index"], len(rows))
    labels_cols = style_split.class_labels(module, options["class_index"], len(cols))
    psi, cutoff, noise = options["truncation"], options["truncation_cutoff"], options["noise_mode"]
    row_ws = style_split.map_seeds(module, rows, labels_rows, psi, cutoff)
    col_ws = style_split.map_seeds(module, cols, labels_cols, psi, cutoff)
    num_ws = row_ws.shape[1]
    if max(styles) >= num_ws:
        raise ConfigError(f"styles={styles}: this generator has {num_ws} style inputs, 0..{num_ws - 1}")
    names = ["style_mixing.png"] + [f"r{r}-c{c}.png" for r in rows for c in cols]
    out.check_free(names)
    row_images = to_uint8(style_split.synthesize(module, row_ws, noise, rows)).cpu()
    col_images = to_uint8(style_split.synthesize(module, col_ws, noise, cols)).cpu()
    mixed_ws = mixing_grid_styles(row_ws, col_ws, styles).flatten(0, 1)
    mixed_seeds = [r for r in rows for _ in cols]
    mixed = to_uint8(style_split.synthesize(module, mixed_ws, noise, mixed_seeds)).cpu()
    blank = torch.full_like(row_images[:1], 255)
    cells = [blank, col_images]
    for index in range(len(rows)):
        cells += [row_images[index : index + 1], mixed[index * len(cols) : (index + 1) * len(cols)]]
    for index, image in enumerate(mixed):
        out.png(f"r{rows[index // len(cols)]}-c{cols[index % len(cols)]}.png", image)
    grid = make_grid(torch.cat(cells), nrow=len(cols) + 1, padding=0)
    out.png("style_mixing.png", grid)
    return grid
