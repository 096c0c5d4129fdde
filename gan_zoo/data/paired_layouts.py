"""Where the standard semantic-synthesis data sets keep their files (NVlabs/SPADE `data/`): each layout
function returns the (image, label map, instance map or None) triples of a split, sorted, and fails
with a DataError naming the first image whose label (or instance) map is missing."""

import os
from dataclasses import dataclass
from pathlib import Path

from gan_zoo.data.errors import DataError
from gan_zoo.data.image_folder import IMAGE_EXTENSIONS


@dataclass(frozen=True)
class Pair:
    image: Path
    label: Path
    instance: Path | None


def _require_dir(path: Path, what: str, hint: str | None) -> None:
    if not path.is_dir():
        extra = f" {hint}" if hint else ""
        raise DataError(f"The {what} folder {path} does not exist; point data.dataset.path at the data set's root.{extra}")


def _files(root: Path, suffix: str) -> list[Path]:
    return sorted(p for p in root.rglob(f"*{suffix}") if p.is_file())


def _missing(kind: str, image: Path, expected: Path) -> DataError:
    return DataError(f"{image} has no {kind} map (expected {expected}); add it or remove the image")


def cityscapes_pairs(root: Path, split: str, use_instance: bool, hint: str | None = None) -> list[Pair]:
    """leftImg8bit/<split>/<city>/X_leftImg8bit.png with gtFine/<split>/<city>/X_gtFine_labelIds.png and _instanceIds.png."""
    images_dir, labels_dir = root / "leftImg8bit" / split, root / "gtFine" / split
    _require_dir(images_dir, "Cityscapes image", hint)
    _require_dir(labels_dir, "Cityscapes label", hint)
    pairs = []
    for image in _files(images_dir, "_leftImg8bit.png"):
        stem = image.name.removesuffix("_leftImg8bit.png")
        folder = labels_dir / image.parent.relative_to(images_dir)
        label, instance = folder / f"{stem}_gtFine_labelIds.png", folder / f"{stem}_gtFine_instanceIds.png"
        if not label.is_file():
            raise _missing("label", image, label)
        if use_instance and not instance.is_file():
            raise _missing("instance", image, instance)
        pairs.append(Pair(image, label, instance if use_instance else None))
    return pairs


def ade20k_pairs(root: Path, split: str, use_instance: bool, hint: str | None = None) -> list[Pair]:
    """ADEChallengeData2016/images/<split>/X.jpg with annotations/<split>/X.png (root may be its parent)."""
    if (root / "ADEChallengeData2016").is_dir():
        root = root / "ADEChallengeData2016"
    return folder_pairs(root / "images" / split, root / "annotations" / split, None, hint=hint, what="ADE20K")


def cocostuff_pairs(root: Path, split: str, use_instance: bool, hint: str | None = None) -> list[Pair]:
    """<split>_img/X.jpg with <split>_label/X.png and <split>_inst/X.png (split: train or val)."""
    instances = root / f"{split}_inst" if use_instance else None
    return folder_pairs(root / f"{split}_img", root / f"{split}_label", instances, hint=hint, what="COCO-Stuff")


def folder_pairs(images_dir: Path, labels_dir: Path, instances_dir: Path | None, hint: str | None = None, what: str = "paired") -> list[Pair]:
    """Every image under images_dir with the .png of the same relative path and stem under labels_dir (and instances_dir)."""
    _require_dir(images_dir, f"{what} image", hint)
    _require_dir(labels_dir, f"{what} label", hint)
    if instances_dir is not None:
        _require_dir(instances_dir, f"{what} instance", hint)
    images = sorted(p for p in images_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        extra = f" {hint}" if hint else ""
        raise DataError(f"No images found in {images_dir} (accepted extensions: {', '.join(IMAGE_EXTENSIONS)}).{extra}")
    pairs = []
    for image in images:
        relative = image.relative_to(images_dir).with_suffix(".png")
        label = labels_dir / relative
        if not label.is_file():
            raise _missing("label", image, label)
        instance = None if instances_dir is None else instances_dir / relative
        if instance is not None and not instance.is_file():
            raise _missing("instance", image, instance)
        pairs.append(Pair(image, label, instance))
    return pairs


LAYOUTS = {"cityscapes": cityscapes_pairs, "ade20k": ade20k_pairs, "cocostuff": cocostuff_pairs}


def layout_pairs(layout: str, root: str | os.PathLike[str], split: str, use_instance: bool, hint: str | None = None) -> list[Pair]:
    if layout not in LAYOUTS:
        raise DataError(f"data.dataset.layout={layout} is not one of {', '.join(LAYOUTS)}")
    return LAYOUTS[layout](Path(root).expanduser(), split, use_instance, hint)
