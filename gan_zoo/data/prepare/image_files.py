"""A folder or zip of image files: FFHQ's images1024x1024/, CelebA-HQ, AFHQ's zip, ImageNet's train/.

Which images are read:
* a folder (or zip) holding nothing but one folder is entered (afhq.zip holds afhq/);
* `subset=train/cat` reads only that folder (relative to the source, or to the folder entered);
* otherwise, when the images sit in `<split>/` beside other splits (AFHQ and StarGAN v2's
  CelebA-HQ: train/ and val/), only `<split>/` is read (split=train by default);
* every image file below, in sorted '/'-path order (NVlabs stylegan3 `dataset_tool.py` sorts too).

Labels (`labels=`):
* auto: a `dataset.json` at the source's root (the NVlabs format, as dataset_tool reads it: an
  image it does not list leaves the whole set unlabelled), else the class folders when every image
  sits in a first-level subfolder and there are at least two that are not all numbers (ImageNet's
  wnids, AFHQ's cat/dog/wild; FFHQ's 00000/, 01000/ ... are not classes), else none;
* folders: the sorted first-level subfolder names are classes 0, 1, ... (as StyleGAN-XL's
  ImageNet zips: sorted wnids);
* none.
"""

import json
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from gan_zoo.data.errors import DataError
from gan_zoo.data.folder_source import FolderSource
from gan_zoo.data.image_folder import IMAGE_EXTENSIONS
from gan_zoo.data.prepare.source import Record
from gan_zoo.data.zip_source import LABELS_FILE, ZipSource

LABEL_MODES = ("auto", "folders", "none")


def _subfolders(names: list[str], prefix: str) -> list[str]:
    return sorted({name[len(prefix) :].split("/", 1)[0] for name in names if name.startswith(prefix) and "/" in name[len(prefix) :]})


def _under(names: list[str], prefix: str) -> list[str]:
    return [name for name in names if name.startswith(prefix)]


def choose_root(names: list[str], subset: str | None, split: str | None) -> str:
    """The '/'-terminated prefix of the images to read ('' = everything)."""
    root = ""
    while not any("/" not in name[len(root) :] for name in _under(names, root)) and len(_subfolders(names, root)) == 1:
        root += _subfolders(names, root)[0] + "/"
    if subset:
        wanted = subset.strip("/") + "/"
        for candidate in (wanted, root + wanted):
            if _under(names, candidate):
                return candidate
        raise DataError(f"subset={subset} holds no images; choose one of the folders {', '.join(_subfolders(names, root)) or '(none)'}")
    if split and split in _subfolders(names, root) and len(_subfolders(names, root)) > 1:
        return root + split + "/"
    return root


def _classes_of(names: list[str], root: str) -> list[str] | None:
    """The first-level folder of each image below root, None when some image sits directly in root."""
    relative = [name[len(root) :] for name in names]
    if any("/" not in name for name in relative):
        return None
    return [name.split("/", 1)[0] for name in relative]


class ImageFilesSource:
    channels = 3

    def __init__(
        self,
        path: Path,  # a folder or a zip archive
        labels: str = "auto",  # auto | folders | none (module docstring)
        split: str | None = "train",  # the folder read when the images come in split folders; None: never enter one
        subset: str | None = None,  # a folder inside the source to read instead (e.g. train/cat)
    ) -> None:
        if labels not in LABEL_MODES:
            raise DataError(f"labels={labels} is not one of {', '.join(LABEL_MODES)}")
        self.path = path
        self.files = FolderSource(path) if path.is_dir() else ZipSource(path)
        # macOS zips carry __MACOSX/ copies and ._* resource files named like the images: not images.
        everything = [name for name in self.files.names() if not name.startswith("__MACOSX/") and not name.rsplit("/", 1)[-1].startswith("._")]
        images = [name for name in everything if name.lower().endswith(IMAGE_EXTENSIONS)]
        if not images:
            if any(name.rsplit("/", 1)[-1] == "data.mdb" for name in everything):
                raise DataError(f"{path} holds an LMDB database (LSUN), not images; unzip it and pass source=<the *_lmdb folder>")
            raise DataError(f"{path} holds no images (accepted extensions: {', '.join(IMAGE_EXTENSIONS)}); point source= at the downloaded images")
        self.root = choose_root(images, subset, split)
        self.names = _under(images, self.root)
        self.labels, self.class_names = self._labels(labels, LABELS_FILE in everything)
        self.num_classes = len(self.class_names) if self.class_names else (max(self.labels) + 1 if self.labels else 0)
        where = f"{path}" + (f" ({self.root.rstrip('/')})" if self.root else "")
        classes = f"{self.num_classes} classes" + (
            f" from its folders {self.class_names[0]} .. {self.class_names[-1]}" if self.class_names else " from dataset.json"
        )
        self.description = f"images in {where}: {len(self.names):,} files, {classes if self.labels else 'no labels'}"

    def _labels(self, mode: str, has_json: bool) -> tuple[list[int] | None, list[str]]:
        if mode == "none":
            return None, []
        if mode == "auto" and has_json:
            return self._json_labels(), []
        folders = _classes_of(self.names, self.root)
        if mode == "folders" and folders is None:
            loose = next(name for name in self.names if "/" not in name[len(self.root) :])
            raise DataError(
                f"labels=folders but {self.files.where(loose)} is not inside a class folder; move every image into its class's folder or pass labels=none"
            )
        if folders is None:
            return None, []
        names = sorted(set(folders))
        if mode == "auto" and (len(names) < 2 or all(name.isdigit() for name in names)):
            return None, []
        index = {name: label for label, name in enumerate(names)}
        return [index[folder] for folder in folders], names

    def _json_labels(self) -> list[int] | None:
        where = self.files.where(LABELS_FILE)
        try:
            with self.files.open(LABELS_FILE) as file:
                entries = json.load(file).get("labels")
            by_name = {str(name): int(label) for name, label in entries} if entries is not None else {}
        except (ValueError, TypeError, AttributeError) as error:
            raise DataError(f"{where} is not NVlabs dataset.json ({error}); fix it or pass labels=none") from error
        labels = [by_name.get(name) for name in self.names]
        return None if any(label is None for label in labels) else labels  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.names)

    def records(self) -> Iterator[Record]:
        for index, name in enumerate(self.names):
            yield Record(name, self.files.where(name), None if self.labels is None else self.labels[index])

    def read(self, key: str, mode: str) -> Image.Image:
        with self.files.open(key) as file, Image.open(file) as image:
            return image.convert(mode)
