"""Images grouped into domains: the official domain-folder layout, or the embedded shapes by kind.

`DomainFolderImages(root, split)` reads `root/<split>/<domain>/*` (CelebA-HQ female/male, AFHQ
cat/dog/wild): the sorted subfolder names are domains 0, 1, ... `ShapesDomainImages` uses the
procedural shapes set, a shape kind per domain. Both give `image(i)` (float CHW in [-1, 1], any
size), `domain_of(i)` and `members(d)`; the translation dataset draws from them.
"""

from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from gan_zoo.data.errors import DataError
from gan_zoo.data.image_folder import _UNREADABLE, IMAGE_EXTENSIONS
from gan_zoo.data.shapes import SHAPE_KINDS, ShapesDataset
from gan_zoo.data.transforms import to_signed


class DomainImages:
    """Base: `names` (domain names), `_domains` (domain per image); subclasses implement `image`."""

    names: list[str]
    _domains: list[int]

    def __len__(self) -> int:
        return len(self._domains)

    def domain_of(self, index: int) -> int:
        return self._domains[index]

    def members(self, domain: int) -> list[int]:
        return [i for i, d in enumerate(self._domains) if d == domain]

    def image(self, index: int) -> Tensor:
        raise NotImplementedError


def _check_domain_count(names: list[str], where: str) -> None:
    if len(names) < 2:
        found = f"only the domain {names[0]!r}" if names else "no domain subfolders"
        raise DataError(
            f"{where} has {found}; StarGAN v2 translates between domains and needs at least two domain subfolders "
            "of images there (e.g. female/ and male/, or cat/ dog/ wild/)"
        )


class DomainFolderImages(DomainImages):
    def __init__(
        self,
        root: str | Path,  # the data set folder, holding <split>/<domain>/ image folders
        split: str = "train",  # train or val
        channels: int = 3,  # 3 = RGB, 1 = grey
        prepare_hint: str | None = None,  # how to obtain the data set, appended to missing-folder errors
    ) -> None:
        hint = f" {prepare_hint}" if prepare_hint else ""
        self.folder = Path(root).expanduser() / split
        self.channels = channels
        if not self.folder.is_dir():
            raise DataError(
                f"The domain folder {self.folder} does not exist; StarGAN v2 data needs {split}/<domain>/ image folders under data.dataset.path.{hint}"
            )
        stray = sorted(p.name for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if stray:
            raise DataError(
                f"{self.folder / stray[0]} is not inside a domain subfolder ({len(stray)} such image(s)); "
                f"move every image into its domain's folder, e.g. {split}/cat/"
            )
        self.names = sorted(p.name for p in self.folder.iterdir() if p.is_dir())
        _check_domain_count(self.names, str(self.folder))
        self._files: list[Path] = []
        self._domains = []
        for domain, name in enumerate(self.names):
            files = sorted(p for p in (self.folder / name).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
            if not files:
                raise DataError(
                    f"The domain folder {self.folder / name} has no images (accepted: {', '.join(IMAGE_EXTENSIONS)}); "
                    "put that domain's images there or delete the folder"
                )
            self._files += files
            self._domains += [domain] * len(files)

    def path(self, index: int) -> Path:
        return self._files[index]

    def image(self, index: int) -> Tensor:
        path = self._files[index]
        try:
            with Image.open(path) as encoded:
                return to_signed(encoded.convert("RGB" if self.channels == 3 else "L"))
        except _UNREADABLE as exc:
            raise DataError(f"{path} cannot be decoded ({exc}); replace or delete it") from exc


class ShapesDomainImages(DomainImages):
    """Shapes images with one domain per shape kind (the largest visible shape), generated once and kept."""

    def __init__(
        self,
        resolution: int = 32,  # pixels per side
        num_images: int = 4096,  # shapes images scanned (fewer are kept with single_shape or a kinds subset)
        seed: int = 0,  # which shapes (the validation set uses another seed)
        kinds: list[int] | None = None,  # shape kinds used as domains, in order (0 circle, 1 square, 2 triangle, 3 cross); None: all
        single_shape: bool = False,  # keep only images showing one shape, so the domain is the whole picture
        channels: int = 3,  # 3 = RGB, 1 = grey
    ) -> None:
        kinds = list(range(len(SHAPE_KINDS))) if kinds is None else [int(k) for k in kinds]
        if any(not 0 <= k < len(SHAPE_KINDS) for k in kinds) or len(set(kinds)) != len(kinds):
            raise DataError(f"data.dataset.kinds={kinds} must list distinct shape kinds from 0..{len(SHAPE_KINDS) - 1} ({', '.join(SHAPE_KINDS)})")
        self.names = [SHAPE_KINDS[k] for k in kinds]
        _check_domain_count(self.names, f"the shapes set with kinds={kinds}")
        shapes = ShapesDataset(resolution=resolution, num_images=num_images, seed=seed, channels=channels, with_segmaps=single_shape)
        images, self._domains = [], []
        for i in range(num_images):
            item = shapes.load(i)
            kind = int(item["label"])
            if kind not in kinds or (single_shape and int(item["instance"].max()) != 1):
                continue
            images.append(item["image"])
            self._domains.append(kinds.index(kind))
        for domain, name in enumerate(self.names):
            if domain not in self._domains:
                raise DataError(f"the shapes set (seed {seed}, {num_images} images) has no {name!r} images; raise data.dataset.num_images")
        self._images = torch.stack(images)

    def image(self, index: int) -> Tensor:
        return self._images[index]
