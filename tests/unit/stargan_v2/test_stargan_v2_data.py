"""StarGAN v2 data: domain folders in the official layout, the per-item draws (source, reference pair,
target domain, augmentation) as a pure function of (seed, index), the errors, shapes as domains."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.data import DataError
from gan_zoo.data.domain_pairs import domain_folder_pairs, shapes_domain_pairs
from gan_zoo.data.domains import DomainFolderImages
from gan_zoo.data.resized_crop import augment, crop_box, resize

DOMAIN_COLOURS = {"cat": (255, 0, 0), "dog": (0, 255, 0), "wild": (0, 0, 255)}


def write_domains(root: Path, split: str, counts: dict[str, int], size: int = 20) -> None:
    for name, count in counts.items():
        folder = root / split / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            # a domain colour plus a brightness per image, so each file is recognisable from its pixels
            colour = tuple(int(c * (0.5 + 0.5 * i / max(count, 1))) for c in DOMAIN_COLOURS[name])
            Image.new("RGB", (size, size + 4), colour).save(folder / f"{i:03d}.png")


@pytest.fixture
def afhq_like(tmp_path: Path) -> Path:
    write_domains(tmp_path, "train", {"cat": 3, "dog": 5, "wild": 2})
    write_domains(tmp_path, "val", {"cat": 2, "dog": 2, "wild": 2})
    return tmp_path


def dominant_domain(image: torch.Tensor) -> int:
    return int(image.mean((1, 2)).argmax())  # red cat, green dog, blue wild


def test_domain_folders_give_sources_reference_pairs_and_target_domains(afhq_like: Path) -> None:
    dataset = domain_folder_pairs(afhq_like, resolution=16, seed=0, draws_per_image=4)
    assert dataset.domain_names == ["cat", "dog", "wild"] and dataset.num_classes == 3
    assert len(dataset) == 10 * 4 and dataset.validation is not None and len(dataset.validation) == 6
    assert dataset.provides == {"image", "label", "ref_image", "ref_image2", "ref_label"}
    sources, targets = [], []
    for index in range(len(dataset)):
        item = dataset[index]
        assert item["image"].shape == item["ref_image"].shape == item["ref_image2"].shape == (3, 16, 16)
        assert dominant_domain(item["image"]) == int(item["label"])
        assert dominant_domain(item["ref_image"]) == dominant_domain(item["ref_image2"]) == int(item["ref_label"])
        sources.append(int(item["label"]))
        targets.append(int(item["ref_label"]))
    assert set(sources) == set(targets) == {0, 1, 2}


def test_items_are_a_pure_function_of_seed_and_index(afhq_like: Path) -> None:
    a = domain_folder_pairs(afhq_like, resolution=16, seed=0)
    b = domain_folder_pairs(afhq_like, resolution=16, seed=0)
    c = domain_folder_pairs(afhq_like, resolution=16, seed=1)
    for index in (0, 7, 33):
        item_a, item_b = a[index], b[index]
        assert all(torch.equal(item_a[k], item_b[k]) for k in item_a)
    assert any(not torch.equal(a[i]["image"], c[i]["image"]) for i in range(20))
    torch.manual_seed(5)
    np.random.seed(5)
    state = torch.get_rng_state()
    a[3]
    assert torch.equal(state, torch.get_rng_state())  # no global randomness is consumed


def test_errors_name_the_folder_and_what_is_needed(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"train does not exist.*train/<domain>/"):
        DomainFolderImages(tmp_path / "missing")
    write_domains(tmp_path, "train", {"cat": 2})
    with pytest.raises(DataError, match=r"only the domain 'cat'.*at least two domain subfolders"):
        DomainFolderImages(tmp_path)
    (tmp_path / "train" / "dog").mkdir()
    with pytest.raises(DataError, match=r"train/dog has no images"):
        DomainFolderImages(tmp_path)
    write_domains(tmp_path, "train", {"dog": 1})
    Image.new("RGB", (8, 8)).save(tmp_path / "train" / "stray.png")
    with pytest.raises(DataError, match=r"stray.png is not inside a domain subfolder"):
        DomainFolderImages(tmp_path)
    (tmp_path / "train" / "stray.png").unlink()
    write_domains(tmp_path, "val", {"cat": 1, "wild": 1})
    with pytest.raises(DataError, match="validation domains"):
        domain_folder_pairs(tmp_path, resolution=8)
    (tmp_path / "train" / "cat" / "000.png").write_bytes(b"not a png")
    dataset = domain_folder_pairs(tmp_path, resolution=8, val_split=None)
    with pytest.raises(DataError, match="000.png cannot be decoded"):
        [dataset.images.image(i) for i in range(len(dataset.images))]


def test_random_resized_crop_follows_the_official_ranges() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        top, left, h, w = crop_box(rng, 100, 120, (0.8, 1.0), (0.9, 1.1))
        assert 0 <= top <= 100 - h and 0 <= left <= 120 - w
        assert 0.8 * 12000 * 0.97 <= h * w <= 12000
        assert 0.9 * 0.97 <= w / h <= 1.1 * 1.03
    image = torch.arange(2 * 10 * 10, dtype=torch.float32).reshape(2, 10, 10)
    outputs = [augment(image, np.random.default_rng(s), 8, prob=0.5) for s in range(40)]
    assert all(o.shape == (2, 8, 8) for o in outputs)
    plain = augment(image, np.random.default_rng(0), 8, prob=0.0, flip=False)
    distinct = {tuple(o.flatten().tolist()) for o in outputs}
    assert len(distinct) > 10  # crops and flips vary with the seed
    assert any(torch.allclose(o, plain) for o in outputs) and any(torch.allclose(o, plain.flip(-1)) for o in outputs)


def test_unaugmented_items_and_preview_are_the_resized_images(afhq_like: Path) -> None:
    dataset = domain_folder_pairs(afhq_like, resolution=16, augment=False)
    preview = dataset.preview(0)
    assert preview["image"].shape == (3, 16, 16) and int(preview["label"]) == 0
    resized = [resize(dataset.images.image(i), 16) for i in range(len(dataset.images))]
    for index in range(10):
        item = dataset[index]
        assert any(torch.equal(item["image"], r) for r in resized)
        assert any(torch.equal(item["ref_image"], r) for r in resized)


def test_shapes_as_domains() -> None:
    dataset = shapes_domain_pairs(resolution=16, num_images=300, val_images=100, kinds=[1, 3], single_shape=True, draws_per_image=2)
    assert dataset.domain_names == ["square", "cross"] and dataset.num_classes == 2
    assert len(dataset) == 2 * len(dataset.images)
    labels = {int(dataset[i]["ref_label"]) for i in range(40)}
    assert labels == {0, 1}
    with pytest.raises(DataError, match="at least two domain"):
        shapes_domain_pairs(resolution=16, num_images=10, kinds=[2])
    with pytest.raises(DataError, match="distinct shape kinds"):
        shapes_domain_pairs(resolution=16, num_images=10, kinds=[0, 7])


def test_mirrored_indices_flip_the_references_with_the_source(afhq_like: Path) -> None:
    dataset = domain_folder_pairs(afhq_like, resolution=16)
    item, mirrored = dataset[3], dataset[len(dataset) + 3]
    for key in ("image", "ref_image", "ref_image2"):
        assert torch.equal(mirrored[key], item[key].flip(-1)), key
    assert torch.equal(mirrored["ref_label"], item["ref_label"])
