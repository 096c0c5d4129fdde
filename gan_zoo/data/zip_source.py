"""ZipSource: the files of an NVlabs-style zip, labelled by its `dataset.json`.

`dataset.json` at the archive root holds `{"labels": [["00000/img00000000.png", 6], ...]}` (or
`{"labels": null}`), as written by the NVlabs dataset_tool and gan-zoo's prepare tool.
"""

import json
import os
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from gan_zoo.data.errors import DataError

LABELS_FILE = "dataset.json"


def _first(names: list[str], count: int = 3) -> str:
    """A short listing for error messages: the first `count` names and how many more there are."""
    shown = ", ".join(names[:count])
    return shown if len(names) <= count else f"{shown} and {len(names) - count} more"


class ZipSource:
    """Members of the zip archive at `path`, named as the archive names them ('/'-separated)."""

    def __init__(self, path: Path) -> None:
        self.path = path  # an existing zip file
        self._archive: zipfile.ZipFile | None = None
        self._owner_pid: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        # An open handle cannot be pickled into spawned workers; they open their own.
        return {**self.__dict__, "_archive": None, "_owner_pid": None}

    def _zip(self) -> zipfile.ZipFile:
        # One handle per process: a handle inherited across fork shares its file offset with the
        # parent, so concurrent reads from parent and workers would corrupt each other.
        if self._archive is None or self._owner_pid != os.getpid():
            self._archive = zipfile.ZipFile(self.path)
            self._owner_pid = os.getpid()
        return self._archive

    def names(self) -> list[str]:
        return sorted(info.filename for info in self._zip().infolist() if not info.is_dir())

    def open(self, name: str) -> BinaryIO:
        return self._zip().open(name)

    def where(self, name: str) -> str:
        return f"{self.path}:{name}"

    def _entries(self) -> list[Any]:
        """The "labels" list of dataset.json, or a DataError saying what is wrong with the file."""
        where = self.where(LABELS_FILE)
        if LABELS_FILE not in self._zip().NameToInfo:
            raise DataError(
                f"data.dataset.use_labels=true but {self.path} has no {LABELS_FILE}; add one holding "
                '{"labels": [["<file in the zip>", <class index>], ...]} or set data.dataset.use_labels=false'
            )
        try:
            meta = json.loads(self._zip().read(LABELS_FILE))
        except ValueError as exc:
            raise DataError(f"{where} is not valid JSON ({exc}); rewrite it") from exc
        entries = meta.get("labels") if isinstance(meta, dict) else None
        if entries is None:
            raise DataError(f'{where} has no "labels" list; set data.dataset.use_labels=false or list a [file, class] pair per image')
        if not isinstance(entries, list):
            raise DataError(f'{where} has "labels" of type {type(entries).__name__}; make it a list of [file, class] pairs')
        return entries

    def labels(self, names: list[str]) -> tuple[list[int], int]:
        """Class index of each name from dataset.json; every image needs exactly one entry and vice versa."""
        where = self.where(LABELS_FILE)
        by_name: dict[str, int] = {}
        repeated: list[str] = []
        for entry in self._entries():
            if not (
                isinstance(entry, list)
                and len(entry) == 2
                and isinstance(entry[0], str)
                and type(entry[1]) is int  # bool is an int subclass but never a class index
                and entry[1] >= 0
            ):
                raise DataError(f"{where} has the entry {entry!r}; each entry must be [file, class index >= 0]")
            if entry[0] in by_name:
                repeated.append(entry[0])
            by_name[entry[0]] = entry[1]
        if repeated:
            raise DataError(f"{where} labels {_first(repeated)} more than once; keep exactly one entry per image")
        unlabelled = [name for name in names if name not in by_name]
        if unlabelled:
            raise DataError(
                f"{where} has no label for {len(unlabelled)} image(s) ({_first(unlabelled)}); "
                "add a [file, class] entry for each or set data.dataset.use_labels=false"
            )
        known = set(names)
        orphans = [name for name in by_name if name not in known]
        if orphans:
            raise DataError(f"{where} labels {len(orphans)} file(s) that are not images in the zip ({_first(orphans)}); remove those entries or add the images")
        labels = [by_name[name] for name in names]
        return labels, max(labels) + 1
