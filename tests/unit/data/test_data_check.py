"""`gan-zoo data check`: counts per split/domain and the first problem of paired and domain layouts."""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.unit.data_sources import encoded, smooth_image, write_tree


def _map(values: np.ndarray) -> Image.Image:
    return Image.fromarray(values.astype(np.uint8), "L")


def cityscapes(root: Path, label_value: int = 7, label_size: tuple[int, int] = (16, 8)) -> None:
    files: dict = {}
    for split, city, count in (("train", "aachen", 2), ("val", "bonn", 1)):
        for i in range(count):
            stem = f"{city}_{i:06d}_000019"
            files[f"leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png"] = smooth_image(16, 8, i)
            files[f"gtFine/{split}/{city}/{stem}_gtFine_labelIds.png"] = _map(np.full(label_size[::-1], 7))
            files[f"gtFine/{split}/{city}/{stem}_gtFine_instanceIds.png"] = _map(np.zeros((8, 16)))
    files["gtFine/val/bonn/bonn_000000_000019_gtFine_labelIds.png"] = _map(np.full(label_size[::-1], label_value))
    write_tree(root, files)


def check(cli, *overrides, ok=True):
    return cli("data", "check", *overrides, "workers=0", check=ok)


def test_cityscapes_counts_per_split_and_no_problem(cli_in_process, tmp_path):
    cityscapes(tmp_path / "cityscapes")
    out = check(cli_in_process, "data=cityscapes", f"data.dataset.path={tmp_path / 'cityscapes'}").stdout
    assert "train: 2" in out and "val: 1" in out and "no problem found" in out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"label_value": 40}, "bonn_000000_000019_gtFine_labelIds.png has the label value 40, outside the 35 labels"),
        ({"label_size": (8, 8)}, "gtFine_labelIds.png is 8x8 but its image .* is 16x8; they must be the same size"),
    ],
)
def test_cityscapes_first_problem_is_named(cli_in_process, tmp_path, damage, message):
    cityscapes(tmp_path / "cityscapes", **damage)
    result = check(cli_in_process, "data=cityscapes", f"data.dataset.path={tmp_path / 'cityscapes'}", ok=False)
    assert result.returncode == 2 and "train: 2" in result.stdout
    assert "gan-zoo data check: error:" in result.stderr
    assert re.search(message, result.stderr), result.stderr


def test_a_missing_label_map_is_named(cli_in_process, tmp_path):
    cityscapes(tmp_path / "cityscapes")
    (tmp_path / "cityscapes/gtFine/val/bonn/bonn_000000_000019_gtFine_labelIds.png").unlink()
    result = check(cli_in_process, "data=cityscapes", f"data.dataset.path={tmp_path / 'cityscapes'}", ok=False)
    assert result.returncode == 2 and "bonn_000000_000019_leftImg8bit.png has no label map" in result.stderr


def test_domain_folders_counted_per_split_and_domain(cli_in_process, tmp_path):
    files = {f"{split}/{kind}/{i}.jpg": smooth_image(12, 12, i) for split, n in (("train", 3), ("val", 1)) for kind in ("cat", "dog", "wild") for i in range(n)}
    write_tree(tmp_path / "afhq", files)
    out = check(cli_in_process, "data=afhq_domains", f"data.dataset.path={tmp_path / 'afhq'}").stdout
    assert "train/cat: 3" in out and "train/wild: 3" in out and "val/dog: 1" in out and "no problem found" in out
    (tmp_path / "afhq/val/dog/0.jpg").write_bytes(encoded(smooth_image(12, 12, 0), "jpeg")[:30])
    result = check(cli_in_process, "data=afhq_domains", f"data.dataset.path={tmp_path / 'afhq'}", ok=False)
    assert result.returncode == 2 and "val/dog/0.jpg cannot be decoded" in result.stderr


PREPARED_PRESETS = {
    "cifar10": "cifar10.zip",
    "ffhq": "ffhq1024.zip",
    "lsun_church": "lsun_church256.zip",
    "afhq": "afhq512.zip",
    "celebahq": "celebahq1024.zip",
    "imagenet": "imagenet256.zip",
}


@pytest.mark.parametrize("preset", sorted(PREPARED_PRESETS))
def test_presets_read_the_prepared_zip_and_say_the_command_that_writes_it(preset, tmp_path, monkeypatch):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.utils import instantiate

    from gan_zoo.config_dir import CONFIG_DIR
    from gan_zoo.data import DataError

    monkeypatch.setenv("GAN_ZOO_DATA", str(tmp_path))
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("data_check", overrides=[f"data={preset}"])
    with pytest.raises(DataError) as info:
        instantiate(cfg.data, _convert_="all").setup()
    dest = tmp_path / PREPARED_PRESETS[preset]
    assert f"The zip {dest} does not exist" in str(info.value)
    assert re.search(rf"gan-zoo data prepare source=\S+ dest={re.escape(str(dest))}( |$)", str(info.value)), str(info.value)


def test_a_missing_preset_zip_is_one_line_through_the_cli(cli_in_process, tmp_path):
    result = cli_in_process("data", "check", "data=cifar10", env={"GAN_ZOO_DATA": str(tmp_path / "data")}, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"gan-zoo data prepare source=cifar-10-python.tar.gz dest={tmp_path / 'data' / 'cifar10.zip'}" in result.stderr
