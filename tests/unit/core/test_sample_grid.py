"""The training sample grid: G_ema's images of fixed seeds, laid out as asked."""

from types import SimpleNamespace

import torch
from torchvision.io import read_image

from gan_zoo.callbacks import SampleGrid


class SeedImages:
    """A module whose sample(seeds) is one 2x2 image per seed, grey level 10 * seed (to read the layout back)."""

    device = torch.device("cpu")
    cur_nimg = torch.tensor(0)

    def sample(self, seeds):
        return torch.stack([torch.full((3, 2, 2), 10 * s, dtype=torch.uint8) for s in seeds])


def seeds_by_row(tmp_path, **options) -> list[list[int]]:
    """The seeds of the written grid, row by row, read back from its PNG."""
    grid = SampleGrid(str(tmp_path), every_kimg=None, num_images=12, seed=1, **options)
    grid.write(SimpleNamespace(is_global_zero=True, loggers=[]), SeedImages())
    picture = read_image(str(next(tmp_path.glob("fakes_kimg*.png"))))[0]
    return [[int(picture[r, c]) // 10 for c in range(0, picture.shape[1], 2)] for r in range(0, picture.shape[0], 2)]


def test_per_row_puts_that_many_seeds_in_each_row(tmp_path):
    assert seeds_by_row(tmp_path / "four", per_row=4) == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    assert seeds_by_row(tmp_path / "six", per_row=6) == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]


def test_without_per_row_the_grid_is_about_square(tmp_path):
    rows = seeds_by_row(tmp_path)
    assert [len(row) for row in rows] == [3, 3, 3, 3]  # round(sqrt(12)) = 3 per row
