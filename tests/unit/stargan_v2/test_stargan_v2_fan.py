"""The frozen FAN landmark network of the StarGAN v2 face models: the official parameter count and
state-dict keys, the CoordConv coordinate grid (the official formula, bit for bit), loading a file in
the official wing.ckpt format, the face masks computed from its heatmaps (checked by hand on
constructed heatmaps), and the errors for missing or foreign files."""

from pathlib import Path

import pytest
import torch

from gan_zoo.errors import ConfigError
from gan_zoo.models.stargan_v2.fan import FAN, coordinate_channels
from gan_zoo.models.stargan_v2.landmarks import FanFaceMasker, load_face_masker, masks_from_heatmaps

OFFICIAL_FAN_PARAMETERS = 6_333_603  # the official solver (clovaai/stargan-v2 `core/solver.py`) prints "Number of parameters of fan: 6333603"


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def random_fan() -> FAN:
    """A FAN with random weights and non-trivial batch-norm statistics (as a trained file would have)."""
    fan = FAN()
    for module in fan.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    return fan


def write_official_format(path: Path, state_dict: dict[str, torch.Tensor]) -> Path:
    """The layout of the released wing.ckpt: the state dict under 'state_dict'."""
    torch.save({"state_dict": state_dict}, path)
    return path


def test_the_official_parameter_count_and_state_dict_keys() -> None:
    fan = FAN()
    assert sum(p.numel() for p in fan.parameters()) == OFFICIAL_FAN_PARAMETERS
    keys = set(fan.state_dict())
    # a sample of the released names: CoordConv stem, bottleneck shortcuts, the hourglass levels, the head
    assert {
        "conv1.conv.weight",
        "conv1.conv.bias",
        "bn1.running_var",
        "conv2.downsample.0.weight",
        "conv2.downsample.2.weight",
        "conv4.conv3.weight",
        "m0.coordconv.conv.weight",
        "m0.b1_4.bn1.weight",
        "m0.b2_plus_1.conv3.weight",
        "m0.b3_1.conv1.weight",
        "top_m_0.conv1.weight",
        "conv_last0.bias",
        "bn_end0.running_mean",
        "l0.weight",
    } <= keys
    assert "conv3.downsample.0.weight" not in keys  # 128 -> 128: identity shortcut
    assert not any("coords" in key for key in keys)  # the coordinate channels are recomputed, not stored
    assert fan.conv1.conv.weight.shape == (64, 6, 7, 7)  # RGB + rows, columns, radius
    assert fan.m0.coordconv.conv.weight.shape == (256, 259, 1, 1)
    assert fan.l0.weight.shape == (99, 256, 1, 1)  # 98 landmarks + the boundary channel
    assert sorted(k for k in keys if k.startswith("m0.b") and k.endswith(".conv1.weight")) == sorted(
        f"m0.{name}.conv1.weight" for name in ["b1_4", "b2_4", "b3_4", "b1_3", "b2_3", "b3_3", "b1_2", "b2_2", "b3_2", "b1_1", "b2_1", "b3_1", "b2_plus_1"]
    )


@pytest.mark.parametrize("size", [64, 256])
def test_coordinate_grid_is_the_official_formula_bit_for_bit(size: int) -> None:
    # clovaai/stargan-v2 `core/wing.py` (AddCoordsTh): float(i) / (size - 1) * 2 - 1, rows then columns,
    # then the radius divided by its maximum. linspace(-1, 1, size) rounds differently at many entries.
    ramp = torch.arange(size).float() / (size - 1) * 2 - 1
    linspace = torch.linspace(-1.0, 1.0, size)
    assert not torch.equal(ramp, linspace)  # so the check below can tell the two apart
    rows, cols = ramp[:, None].expand(size, size), ramp[None, :].expand(size, size)
    radius = torch.sqrt(rows**2 + cols**2)
    grid = coordinate_channels(size)
    assert grid.shape == (1, 3, size, size) and grid.dtype == torch.float32
    assert torch.equal(grid[0, 0], rows) and torch.equal(grid[0, 1], cols)
    assert torch.equal(grid[0, 2], radius / radius.max())
    assert not torch.equal(grid[0, 0, :, 0], linspace)


def test_the_coordconvs_see_the_official_grid() -> None:
    fan = FAN()
    assert torch.equal(fan.conv1.coords, coordinate_channels(256))  # the stem, at 256 px
    assert torch.equal(fan.m0.coordconv.coords, coordinate_channels(64))  # the hourglass, at 64 px
    # the appended channels are exactly these: a 1x1 conv that passes channel 3 + k through reads them back
    conv = fan.m0.coordconv
    with torch.no_grad():
        conv.conv.weight.zero_()
        conv.conv.bias.zero_()
        for k in range(3):
            conv.conv.weight[k, 256 + k] = 1.0
        out = conv(torch.randn(2, 256, 64, 64))
    assert torch.equal(out[:, :3], coordinate_channels(64).expand(2, -1, -1, -1))


def test_a_file_in_the_official_format_loads_and_gives_frozen_masks(tmp_path) -> None:
    reference = random_fan().eval()
    path = write_official_format(tmp_path / "wing.ckpt", reference.state_dict())
    masker = load_face_masker(str(path), torch.device("cpu"))
    assert isinstance(masker, FanFaceMasker)
    fan = masker.fan
    for key, value in reference.state_dict().items():
        assert torch.equal(fan.state_dict()[key], value), key
    assert not fan.training and not any(p.requires_grad for p in fan.parameters())
    fan.train()
    assert not fan.training  # always eval: the released batch-norm statistics are used
    images = (torch.rand(1, 3, 64, 64) * 2 - 1).requires_grad_(True)  # any size: the FAN sees 256 px
    first, second = masker(images)
    assert first.shape == second.shape == (1, 1, 256, 256)
    assert not first.requires_grad and not second.requires_grad
    for mask in (first, second):
        assert mask.min() >= 0 and mask.max() <= 1 and torch.isfinite(mask).all()
    assert torch.all(second <= first + 1e-6)  # the second mask is a subset of the landmark groups
    # the heatmaps are the FAN's (boundary channel dropped) upsampled from 64 px, on images mapped to [0, 1]
    with torch.no_grad():
        raw = reference(torch.nn.functional.interpolate(images.detach(), size=256, mode="bilinear") * 0.5 + 0.5)
    heatmaps = masker.heatmaps(images)
    assert heatmaps.shape == (1, 98, 256, 256)
    # align_corners: output pixels 0, 85, 170, 255 sit exactly on the 64 px pixels 0, 21, 42, 63
    torch.testing.assert_close(heatmaps[..., ::85, ::85], raw[:, :98, ::21, ::21], atol=1e-5, rtol=1e-5)


def test_files_without_num_batches_tracked_or_with_extra_keys_still_load(tmp_path) -> None:
    # Files written by older PyTorch lack the batch-norm step counters; the official loader also
    # ignores keys the FAN does not have.
    state = {k: v for k, v in random_fan().state_dict().items() if not k.endswith("num_batches_tracked")}
    state["m1.coordconv.conv.weight"] = torch.zeros(1)
    masker = load_face_masker(str(write_official_format(tmp_path / "old.ckpt", state)), torch.device("cpu"))
    assert torch.equal(masker.fan.l0.weight, state["l0.weight"])


def test_masks_from_constructed_heatmaps_by_hand() -> None:
    h = torch.zeros(1, 98, 256, 256)
    h[0, 60, 100, 50] = 0.8  # an eye: rolled down 8 and cubed, plus rolled down 24
    h[0, 60, 10, 10] = 0.05  # below the 0.1 floor: dropped
    h[0, 61, 250, 200] = 0.5  # an eye near the bottom: the rolls wrap around to the top rows
    h[0, 40, 60, 120], h[0, 40, 60, 130] = 0.4, 0.2  # a brow: normalised to 1 and 0.5, down 7, squared
    h[0, 20, 200, 128], h[0, 20, 200, 140] = 1.0, 0.5  # the jaw: in place, cubed
    h[0, 53, 150, 128] = 0.3  # the nose bridge below its top point: up 4
    h[0, 51, 140, 100] = 0.6  # the top of the nose: as is
    h[0, 56, 170, 128], h[0, 56, 170, 132] = 0.5, 0.25  # a nostril: up 8, fourth power
    h[0, 90, 220, 128] = 0.5  # the inner lip: down 2, cubed
    h[0, 0, 30, 30] = h[0, 30, 40, 40] = h[0, 46, 50, 50] = h[0, 82, 60, 60] = 0.9  # dropped landmarks
    h[0, 96, 100, 60] = h[0, 97, 100, 60] = 0.5  # both pupils on one pixel: 1 + 1, clamped to 1
    first, second = masks_from_heatmaps(h)

    both = {
        (108, 50): 1.0,
        (124, 50): 1.0,
        (2, 200): 1.0,
        (18, 200): 1.0,
        (146, 128): 1.0,
        (140, 100): 1.0,
        (162, 128): 1.0,
        (162, 132): 0.5**4,
        (100, 60): 1.0,
    }
    face_only = {(67, 120): 1.0, (67, 130): 0.25, (200, 128): 1.0, (200, 140): 0.125, (222, 128): 1.0}
    expected_first, expected_second = torch.zeros(1, 1, 256, 256), torch.zeros(1, 1, 256, 256)
    for (row, col), value in both.items():
        expected_first[0, 0, row, col] = expected_second[0, 0, row, col] = value
    for (row, col), value in face_only.items():
        expected_first[0, 0, row, col] = value
    torch.testing.assert_close(first, expected_first, atol=2e-5, rtol=0)  # the min-max eps costs ~1e-6
    torch.testing.assert_close(second, expected_second, atol=2e-5, rtol=0)
    with pytest.raises(ValueError, match="98 landmark heatmaps"):
        masks_from_heatmaps(torch.zeros(1, 99, 256, 256))


def test_missing_or_foreign_files_are_refused_with_what_to_do(tmp_path) -> None:
    cpu = torch.device("cpu")
    with pytest.raises(ConfigError, match=r"model.fan_path=/path/to/wing.ckpt.*download.sh wing.*model.w_hpf=0"):
        load_face_masker(None, cpu)
    missing = tmp_path / "nowhere" / "wing.ckpt"
    with pytest.raises(ConfigError, match=rf"{missing} does not exist.*official wing.ckpt of the StarGAN v2 release"):
        load_face_masker(str(missing), cpu)
    foreign = write_official_format(tmp_path / "other.ckpt", {"features.0.weight": torch.zeros(3)})
    with pytest.raises(
        ConfigError, match=rf"{foreign} is not the StarGAN v2 FAN: 281 of its 281 tensors are missing \(first: conv1.conv.weight.*model.w_hpf=0"
    ):
        load_face_masker(str(foreign), cpu)
    state = random_fan().state_dict()
    state["l0.weight"] = torch.zeros(69, 256, 1, 1)  # a 68-landmark head
    with pytest.raises(ConfigError, match=r"other shapes \(l0.weight \[69, 256, 1, 1\] != \[99, 256, 1, 1\]"):
        load_face_masker(str(write_official_format(tmp_path / "fan68.ckpt", state)), cpu)
    torch.save([1, 2, 3], tmp_path / "list.ckpt")
    with pytest.raises(ConfigError, match="holds no FAN state dict"):
        load_face_masker(str(tmp_path / "list.ckpt"), cpu)
    (tmp_path / "text.ckpt").write_text("not a checkpoint")
    with pytest.raises(ConfigError, match="cannot be read as FAN weights"):
        load_face_masker(str(tmp_path / "text.ckpt"), cpu)
