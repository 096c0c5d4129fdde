"""`gan-zoo data check`: walk a configured data set before training; counts per split/domain, first problem.

Paired label-map sets (Cityscapes, ADE20K, COCO-Stuff, a paired folder) are checked split by split
with the readers training uses (`paired_layouts`, `label_maps`): a missing label or instance map,
an image whose maps differ in size, a label value outside data.label_nc. Domain sets (AFHQ and
CelebA-HQ for StarGAN v2) are counted per split and domain and every image is decoded. Image
folders and zips are built as training builds them (every header and size checked). The files are
read in worker processes (`prepare.parallel`); the first problem in file order is reported.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from gan_zoo.data.domains import DomainFolderImages
from gan_zoo.data.errors import DataError
from gan_zoo.data.label_maps import convert_labels, read_integer_map
from gan_zoo.data.paired_layouts import Pair, folder_pairs, layout_pairs
from gan_zoo.data.prepare.encode import UNREADABLE
from gan_zoo.data.prepare.parallel import OrderedPool

LAYOUT_SPLITS = {"cityscapes": ("train", "val"), "ade20k": ("training", "validation"), "cocostuff": ("train", "val")}
_CHUNK = 8  # files per worker task


@dataclass
class CheckReport:
    kind: str  # what was checked, e.g. "cityscapes label maps at /data/cityscapes"
    counts: dict[str, int] = field(default_factory=dict)  # "train" or "train/cat" -> images
    problem: str | None = None  # the first problem found; None: every file is usable


@dataclass(frozen=True)
class PairChecker:
    label_nc: int  # labels without dontcare
    label_shift: int  # raw value of label 0
    dontcare_values: tuple[int, ...]  # raw values meaning unlabelled
    contain_dontcare_label: bool  # dontcare values are allowed (as label label_nc)

    def __call__(self, pairs: list[Pair]) -> list[str | None]:
        return [self.problem(pair) for pair in pairs]

    def problem(self, pair: Pair) -> str | None:
        try:
            with Image.open(pair.image) as image:
                image.load()
                width, height = image.size
        except UNREADABLE as error:
            return f"{pair.image} is not a readable image ({error}); replace or delete it"
        try:
            for path in (pair.label, pair.instance):
                if path is None:
                    continue
                values = read_integer_map(path)
                if values.shape != (height, width):
                    return f"{path} is {values.shape[1]}x{values.shape[0]} but its image {pair.image} is {width}x{height}; they must be the same size"
                if path == pair.label:
                    convert_labels(values, self.label_nc, path, self.label_shift, self.dontcare_values, self.contain_dontcare_label)
        except DataError as error:
            return str(error)
        return None


def _decode_problems(paths: list[Path]) -> list[str | None]:
    problems: list[str | None] = []
    for path in paths:
        try:
            with Image.open(path) as image:
                image.load()
            problems.append(None)
        except UNREADABLE as error:
            problems.append(f"{path} cannot be decoded ({error}); replace or delete it")
    return problems


def _first_problem(task: Callable[[list[Any]], list[str | None]], items: list[Any], workers: int) -> str | None:
    chunks: Iterator[list[Any]] = (items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK))
    with OrderedPool(task, workers) as pool:
        for problems in pool.map(chunks):
            found = next((p for p in problems if p is not None), None)
            if found is not None:
                return found
    return None


def check_pairs(settings: dict[str, Any], workers: int, splits: list[str] | None = None) -> CheckReport:
    """A LayoutDataset (`layout`) or PairedFolderDataset config's files, every split of the layout by default."""
    if settings.get("label_nc") is None:
        raise DataError("data.label_nc is not set; set it to the number of labels in the label maps (e.g. data.label_nc=20)")
    checker = PairChecker(
        int(settings["label_nc"]),
        int(settings.get("label_shift", 0)),
        tuple(settings.get("dontcare_values") or ()),
        bool(settings.get("contain_dontcare_label", False)),
    )
    hint = settings.get("prepare_hint")
    root = Path(settings["path"]).expanduser()
    layout = settings.get("layout")
    report = CheckReport(f"{layout or 'paired folder'} label maps at {root}")
    if layout is None:
        instances = settings.get("instances")
        listings: list[tuple[str, Callable[[], list[Pair]]]] = [
            (
                str(settings.get("images", "images")),
                lambda: folder_pairs(
                    root / settings.get("images", "images"), root / settings.get("labels", "labels"), None if instances is None else root / instances, hint=hint
                ),
            )
        ]
    else:
        if layout not in LAYOUT_SPLITS:
            raise DataError(f"data.dataset.layout={layout} is not one of {', '.join(LAYOUT_SPLITS)}")
        use_instance = bool(settings.get("use_instance", False))
        listings = [(split, lambda split=split: layout_pairs(layout, root, split, use_instance, hint)) for split in (splits or LAYOUT_SPLITS[layout])]
    every_split = []
    for split, listing in listings:
        try:
            pairs = listing()
        except DataError as error:
            report.problem = str(error)
            return report
        report.counts[split] = len(pairs)
        every_split += pairs
    report.problem = _first_problem(checker, every_split, workers)
    return report


def check_domains(settings: dict[str, Any], workers: int) -> CheckReport:
    """A StarGAN v2 domain-folder config: images per split and domain, every image decoded."""
    root = Path(settings["path"]).expanduser()
    report = CheckReport(f"domain folders at {root}")
    splits = [s for s in (settings.get("train_split", "train"), settings.get("val_split", "val")) if s]
    found: list[DomainFolderImages] = []
    for split in splits:
        try:
            images = DomainFolderImages(root, split, int(settings.get("channels", 3)), settings.get("prepare_hint"))
        except DataError as error:
            report.problem = str(error)
            return report
        for domain, name in enumerate(images.names):
            report.counts[f"{split}/{name}"] = len(images.members(domain))
        found.append(images)
    if len(found) == 2 and found[0].names != found[1].names:
        report.problem = (
            f"the {splits[1]} domains {found[1].names} differ from the {splits[0]} domains {found[0].names}; give both splits the same domain folders"
        )
        return report
    for images in found:
        report.problem = _first_problem(_decode_problems, [images.path(i) for i in range(len(images))], workers)
        if report.problem:
            break
    return report


def check_built(dataset_factory: Callable[[], Any], where: str) -> CheckReport:
    """Any other data set: build it as training does (image folders and zips check every header and size)."""
    report = CheckReport(where)
    try:
        dataset = dataset_factory()
    except DataError as error:
        report.problem = str(error)
        return report
    classes = f" ({dataset.num_classes} classes)" if dataset.num_classes else ""
    report.counts[f"images{classes}"] = len(dataset)
    return report
