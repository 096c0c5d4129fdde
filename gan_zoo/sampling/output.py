"""Writing what `generate` makes: PNGs, grids, GIF/MP4 — never over an existing file unless asked."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid

from gan_zoo.errors import ConfigError


class OutputDir:
    def __init__(
        self,
        path: str | Path,  # the folder the files go to (created)
        overwrite: bool,  # false: an existing file of the same name stops the command before anything is written
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.overwrite = overwrite
        self.written: list[Path] = []

    def check_free(self, names: list[str]) -> None:
        """Refuse up front, so a half-written set never mixes with an older one."""
        if self.overwrite:
            return
        taken = [name for name in names if (self.path / name).exists()]
        if taken:
            raise ConfigError(f"{self.path} already has {len(taken)} of the files to write ({taken[0]}, ...); choose another outdir=... or pass overwrite=true")

    def png(self, name: str, image: Tensor) -> Path:
        """image: uint8 [C, H, W]."""
        array = image.permute(1, 2, 0).numpy()
        return self._save(name, Image.fromarray(array[..., 0] if array.shape[2] == 1 else array))

    def grid(self, name: str, images: Tensor, columns: int) -> Path:
        """images: uint8 [N, C, H, W], laid out row by row with `columns` per row."""
        return self.png(name, make_grid(images, nrow=columns, padding=0))

    def gif(self, name: str, frames: Tensor, fps: float) -> Path:
        pictures = [Image.fromarray(frame.permute(1, 2, 0).numpy().squeeze()) for frame in frames]
        path = self._target(name)
        pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=int(round(1000 / fps)), loop=0)
        self.written.append(path)
        return path

    def mp4(self, name: str, frames: Tensor, fps: float) -> Path | None:
        """An H.264 MP4 when PyAV is installed (torchvision's writer uses it); None otherwise."""
        try:
            import av  # noqa: F401  (torchvision.io.write_video needs it)
        except ImportError:
            return None
        from torchvision.io import write_video

        video = frames.permute(0, 2, 3, 1)
        if video.shape[-1] == 1:
            video = video.expand(-1, -1, -1, 3)
        # H.264 wants even sizes
        height, width = video.shape[1] - video.shape[1] % 2, video.shape[2] - video.shape[2] % 2
        path = self._target(name)
        write_video(str(path), video[:, :height, :width].contiguous(), fps=fps)
        self.written.append(path)
        return path

    def _target(self, name: str) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path / name

    def _save(self, name: str, picture: Image.Image) -> Path:
        path = self._target(name)
        picture.save(path)
        self.written.append(path)
        return path


def as_uint8_batch(images: list[Tensor]) -> Tensor:
    return torch.cat(images) if images else torch.empty(0, dtype=torch.uint8)


def tile_side(count: int) -> int:
    return max(1, int(np.ceil(np.sqrt(count))))
