"""Lightning's checkpoint I/O through gan_zoo.checkpoints: files never half-written, loaded without unpickling code."""

import os
from typing import Any

from lightning.pytorch.plugins.io import TorchCheckpointIO

from gan_zoo.checkpoints import atomic_save, load_checkpoint_file


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        atomic_save(checkpoint, path)

    def load_checkpoint(self, path: str | os.PathLike, map_location: Any = None, weights_only: bool | None = None) -> dict[str, Any]:
        return load_checkpoint_file(path, map_location)
