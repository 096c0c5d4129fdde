"""The per-image work, done in the worker processes: decode, convert, crop/resize, encode as PNG."""

import io
import zipfile
from dataclasses import dataclass

from PIL import Image

from gan_zoo.data.prepare import crops
from gan_zoo.data.prepare.source import PrepareSource, Record

# What PIL, zipfile and LMDB values raise for a truncated, corrupt or vanished file.
UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, zipfile.BadZipFile, Image.DecompressionBombError)


@dataclass(frozen=True)
class Outcome:
    png: bytes | None  # None: dropped by the transform, or unreadable (problem says why)
    size: tuple[int, int] | None  # (width, height) written
    problem: str | None  # why the image could not be read


@dataclass(frozen=True)
class Encoder:
    source: PrepareSource  # decodes each record
    transform: str  # crops.TRANSFORMS
    size: tuple[int, int] | None  # output (width, height) of the content; None: the source's own
    mode: str  # "RGB" or "L"
    compress_level: int  # PNG zlib level; 0 (stored) as dataset_tool writes them

    def __call__(self, records: list[Record]) -> list[Outcome]:
        return [self.encode(record) for record in records]

    def encode(self, record: Record) -> Outcome:
        try:
            image = self.source.read(record.key, self.mode)
        except UNREADABLE as error:
            return Outcome(None, None, f"{type(error).__name__}: {error}")
        image = crops.apply(image, self.transform, self.size)
        if image is None:
            return Outcome(None, None, None)
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=self.compress_level, optimize=False)
        return Outcome(buffer.getvalue(), image.size, None)
