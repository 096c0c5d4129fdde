"""FolderSource: the files under a directory (recursive), labelled by their first-level subfolder."""

from pathlib import Path
from typing import BinaryIO

from gan_zoo.data.errors import DataError


class FolderSource:
    """Files under `root`, named by their '/'-separated path relative to it."""

    def __init__(self, root: Path) -> None:
        self.root = root  # an existing directory

    def names(self) -> list[str]:
        # Sorted posix paths, so the image order (and with it every index) is the same on every OS.
        return sorted(path.relative_to(self.root).as_posix() for path in self.root.rglob("*") if path.is_file())

    def open(self, name: str) -> BinaryIO:
        return (self.root / name).open("rb")

    def where(self, name: str) -> str:
        return str(self.root / name)

    def labels(self, names: list[str]) -> tuple[list[int], int]:
        """Class index of each name = rank of its first-level subfolder among the sorted subfolders."""
        top_level = [name for name in names if "/" not in name]
        if len(top_level) == len(names):
            raise DataError(
                f"data.dataset.use_labels=true but {self.root} has no class subfolders; put each class's images in a "
                "subfolder of their own (the sorted subfolder names become classes 0, 1, ...) or set data.dataset.use_labels=false"
            )
        if top_level:
            raise DataError(
                f"{self.where(top_level[0])} is not inside a class subfolder ({len(top_level)} such image(s)); "
                "with data.dataset.use_labels=true move every image into its class's subfolder"
            )
        # Classes come from the subfolders that hold images, so an empty folder cannot shift the indices.
        classes = sorted({name.split("/", 1)[0] for name in names})
        index = {folder: label for label, folder in enumerate(classes)}
        return [index[name.split("/", 1)[0]] for name in names], len(classes)
