"""prepare_dataset: a downloaded data set -> the NVlabs-style zip that `data=folder` and the presets read.

The main process reads records from the source, hands chunks of them to the worker processes
(decode, crop/resize, PNG) and writes the results in order, so the zip's numbering follows the
source's order whatever the worker count. Every written image must have the first one's square
size. An unreadable image stops the run naming it, unless skip_bad lists it and goes on.
"""

import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from gan_zoo.data.errors import DataError
from gan_zoo.data.prepare import crops
from gan_zoo.data.prepare.detect import open_source
from gan_zoo.data.prepare.encode import Encoder, Outcome
from gan_zoo.data.prepare.parallel import OrderedPool
from gan_zoo.data.prepare.source import Record
from gan_zoo.data.prepare.zip_writer import AtomicZipWriter

CHUNK = 16  # records per task sent to a worker: large enough to amortise the hand-over


@dataclass
class PrepareResult:
    dest: Path
    description: str  # what the source was recognised as
    written: int  # images in the zip
    size: tuple[int, int] | None  # (width, height) of every image
    channels: int
    num_classes: int  # 0: dataset.json has "labels": null
    dropped: int = 0  # images center-crop-wide left out (too narrow), as dataset_tool does
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (image, problem) skipped with skip_bad
    seconds: float = 0.0


def default_workers() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, 8)


def _chunks(records: Iterator[Record], limit: int | None) -> Iterator[list[Record]]:
    records = itertools.islice(records, limit)
    while chunk := list(itertools.islice(records, CHUNK)):
        yield chunk


def prepare_dataset(
    source: str | os.PathLike[str],  # the downloaded file or folder (detect.FORMATS)
    dest: str | os.PathLike[str],  # the .zip to write
    resolution: int | str | None = None,  # output side in px (or WIDTHxHEIGHT); None: the source's own size
    transform: str = "none",  # none | center-crop | center-crop-wide (crops.py)
    labels: str = "auto",  # folder/zip sources: auto | folders | none
    split: str | None = "train",  # CIFAR-10 train | test; folder/zip sources: the split folder read when present (None: all)
    subset: str | None = None,  # folder/zip sources: read only this folder inside the source
    max_images: int | None = None,  # stop after this many source images; None: all
    channels: int | None = None,  # 3 RGB, 1 grey; None: the source's own (1 for MNIST)
    workers: int | None = None,  # decoding processes; 0: this process only; None: one per core, at most 8
    skip_bad: bool = False,  # list and skip unreadable images instead of stopping at the first
    overwrite: bool = False,  # replace an existing dest
    compress_level: int = 0,  # PNG zlib level 0-9; 0 as dataset_tool (largest files, fastest to read)
    progress: bool = True,  # a progress bar with images/s and ETA on stderr
) -> PrepareResult:
    start = time.perf_counter()
    if transform not in crops.TRANSFORMS:
        raise DataError(f"transform={transform} is not one of {', '.join(crops.TRANSFORMS)}")
    try:
        size = crops.parse_size(resolution, transform)
    except ValueError as error:
        raise DataError(str(error)) from error
    if channels not in (None, 1, 3):
        raise DataError(f"channels={channels} is not supported; use 3 (RGB), 1 (grey) or null (the source's own)")
    if max_images is not None and max_images < 1:
        raise DataError(f"max_images={max_images} must be at least 1 (or null for all images)")
    dest = Path(dest).expanduser()
    writer = AtomicZipWriter(dest, overwrite)  # refuses an existing dest before any work
    opened = open_source(Path(source).expanduser(), labels, split, subset)
    channels = channels or opened.channels
    encoder = Encoder(opened, transform, size, "RGB" if channels == 3 else "L", compress_level)
    total = len(opened) if max_images is None else min(len(opened), max_images)
    workers = default_workers() if workers is None else workers
    result = PrepareResult(dest, opened.description, 0, None, channels, 0)
    records = _chunks(opened.records(), max_images)
    with OrderedPool(encoder, workers) as pool, writer, tqdm(total=total, unit="img", disable=not progress, dynamic_ncols=True, desc=dest.name) as bar:
        # Two iterators over one stream: the records (for names and labels) and their outcomes.
        sent: list[list[Record]] = []

        def remember() -> Iterator[list[Record]]:
            for chunk in records:
                sent.append(chunk)
                yield chunk

        for outcomes in pool.map(remember()):
            for record, outcome in zip(sent.pop(0), outcomes):
                _write(record, outcome, writer, result, skip_bad)
            bar.update(len(outcomes))
        if writer.count == 0:  # raised inside the writer's block, so no empty zip is published
            raise DataError(
                f"no image of {source} was written ({result.dropped} dropped by transform={transform}, {len(result.skipped)} unreadable); "
                "check resolution= and transform="
            )
    result.written = writer.count
    result.num_classes = max(label for _, label in writer.labels) + 1 if all(label is not None for _, label in writer.labels) else 0
    result.seconds = time.perf_counter() - start
    return result


def _write(record: Record, outcome: Outcome, writer: AtomicZipWriter, result: PrepareResult, skip_bad: bool) -> None:
    if outcome.problem is not None:
        if not skip_bad:
            raise DataError(
                f"{record.where} is not a readable image ({outcome.problem}); replace or delete it, or pass skip_bad=true to skip unreadable images"
            )
        result.skipped.append((record.where, outcome.problem))
        return
    if outcome.png is None:
        result.dropped += 1
        return
    assert outcome.size is not None
    width, height = outcome.size
    if result.size is None:
        if width != height:
            raise DataError(
                f"{record.where} is {width}x{height}; the zip holds square images: "
                "pass resolution=N with transform=center-crop (crops to a square) or transform=none (stretches)"
            )
        result.size = outcome.size
    elif outcome.size != result.size:
        raise DataError(
            f"{record.where} is {width}x{height} but the images before it are {result.size[0]}x{result.size[1]}; pass resolution=N so every image gets one size"
        )
    writer.add(outcome.png, record.label)
