"""gan-zoo generate's pieces: seed lists, style mixing, interpolation paths, refusing to overwrite."""

import pytest
import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.generate.images import generate_images
from gan_zoo.generate.interpolate import generate_interpolation, path_positions, slerp_latents
from gan_zoo.generate.style_mixing import generate_style_mixing, mixing_grid_styles
from gan_zoo.models.base import GANModule
from gan_zoo.sampling.output import OutputDir
from gan_zoo.sampling.seeds import parse_int_list

OPTIONS = {"truncation": 1.0, "truncation_cutoff": None, "class_index": None, "noise_mode": "const", "batch_size": 4}


class TinyStyleGenerator(nn.Module):
    """mapping: z -> 4 identical ws; synthesis: each ws row paints one quadrant, plus optional noise."""

    z_dim, w_dim, num_ws, c_dim = 3, 3, 4, 0

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("w_avg", torch.zeros(3))

    def mapping(self, z, c, truncation_psi=1.0, truncation_cutoff=None):
        w = torch.tanh(z)[:, None].repeat(1, self.num_ws, 1)
        cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
        w[:, :cutoff] = self.w_avg + truncation_psi * (w[:, :cutoff] - self.w_avg)
        return w

    def synthesis(self, ws, noise_mode="const"):
        image = torch.zeros(ws.shape[0], 3, 4, 4)
        for index in range(self.num_ws):
            row, col = divmod(index, 2)
            image[:, :, row * 2 : row * 2 + 2, col * 2 : col * 2 + 2] = ws[:, index, :, None, None]
        if noise_mode == "random":
            image = image + 0.1 * torch.randn_like(image)
        return image.clamp(-1, 1)


class TinyStyleModule(GANModule):
    family = "tinystyle"

    def __init__(self) -> None:
        super().__init__()
        self.G_ema = TinyStyleGenerator()


def test_seed_lists_parse_ranges_commas_and_lists():
    assert parse_int_list("0-3,10", "seeds") == [0, 1, 2, 3, 10]
    assert parse_int_list(7, "seeds") == [7]
    assert parse_int_list([1, "4-5"], "seeds") == [1, 4, 5]
    for bad in ("3-1", "a", "1,,2", "-4"):
        with pytest.raises(ConfigError, match="seeds="):
            parse_int_list(bad, "seeds")


def test_mixing_grid_styles_takes_exactly_the_listed_layers_from_the_columns():
    rows, cols = torch.zeros(2, 4, 3), torch.ones(3, 4, 3)
    mixed = mixing_grid_styles(rows, cols, [1, 2])
    assert mixed.shape == (2, 3, 4, 3)
    assert mixed[:, :, [1, 2]].eq(1).all() and mixed[:, :, [0, 3]].eq(0).all()


def test_style_mixing_grid_layout(tmp_path):
    module = TinyStyleModule()
    grid = generate_style_mixing(module, [1, 2], [3, 4, 5], [0], OPTIONS, OutputDir(tmp_path, overwrite=False))
    assert grid.shape == (3, 3 * 4, 4 * 4)  # (rows + 1) x (cols + 1) cells of 4x4
    cells = grid.unfold(1, 4, 4).unfold(2, 4, 4)  # [C, 3, 4, 4, 4]
    assert cells[:, 0, 0].eq(255).all()  # blank corner
    # a mixed cell's first quadrant (style 0) comes from its column, the rest from its row
    column, row, mixed = cells[:, 0, 2], cells[:, 1, 0], cells[:, 1, 2]
    assert torch.equal(mixed[:, :2, :2], column[:, :2, :2]) and torch.equal(mixed[:, 2:, 2:], row[:, 2:, 2:])
    assert (tmp_path / "style_mixing.png").is_file() and (tmp_path / "r2-c4.png").is_file()
    with pytest.raises(ConfigError, match="style inputs, 0..3"):
        generate_style_mixing(module, [1], [2], [9], OPTIONS, OutputDir(tmp_path / "b", overwrite=False))


def test_same_seed_same_image_whatever_the_batch_also_with_random_noise(tmp_path):
    module = TinyStyleModule()
    options = {**OPTIONS, "noise_mode": "random"}
    alone = generate_images(module, [5], options, OutputDir(tmp_path / "a", overwrite=False))
    together = generate_images(module, [1, 5, 9], options, OutputDir(tmp_path / "b", overwrite=False))
    assert torch.equal(alone[0], together[1])
    assert (tmp_path / "b/seed0009.png").is_file() and (tmp_path / "b/grid.png").is_file()


def test_truncation_zero_gives_the_average_image(tmp_path):
    module = TinyStyleModule()
    images = generate_images(module, [1, 2], {**OPTIONS, "truncation": 0.0}, OutputDir(tmp_path, overwrite=False))
    assert images.eq(128).all()  # w_avg = 0 -> mid grey


def test_existing_files_are_not_overwritten_unless_asked(tmp_path):
    module = TinyStyleModule()
    generate_images(module, [1], OPTIONS, OutputDir(tmp_path, overwrite=False))
    with pytest.raises(ConfigError, match="overwrite=true"):
        generate_images(module, [1], OPTIONS, OutputDir(tmp_path, overwrite=False))
    generate_images(module, [1], OPTIONS, OutputDir(tmp_path, overwrite=True))


def test_interpolation_path_hits_every_seed_and_writes_a_gif(tmp_path):
    assert path_positions(3, 5) == [(0, 0.0), (0, 0.5), (1, 0.0), (1, 0.5), (1, 1.0)]
    a, b = torch.randn(2, 8), torch.randn(2, 8)
    assert torch.allclose(slerp_latents(a, b, torch.zeros(2, 1)), a, atol=1e-6) and torch.allclose(slerp_latents(a, b, torch.ones(2, 1)), b, atol=1e-5)
    module = TinyStyleModule()
    frames, notes = generate_interpolation(module, [0, 1, 2], 5, "w", 10, OPTIONS, OutputDir(tmp_path, overwrite=False))
    first = generate_images(module, [0], OPTIONS, OutputDir(tmp_path / "first", overwrite=False))
    assert torch.equal(frames[0], first[0])
    assert (tmp_path / "interpolation.gif").is_file() and len(list(tmp_path.glob("frame*.png"))) == 5
    assert all("PyAV" in note for note in notes)
