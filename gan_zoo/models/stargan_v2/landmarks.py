"""The frozen face-landmark network (FAN) behind the face models' high-pass skip path (w_hpf > 0).

The official CelebA-HQ model computes, from the heatmaps of a frozen FAN (98 landmarks, trained with
the wing loss; official weights `wing.ckpt`, 6,333,603 parameters), two soft face masks that gate
the encoder features the high-pass path adds back. The network is not trained, not counted by
`gan-zoo summary` and not stored in gan-zoo checkpoints: it loads from `model.fan_path` when first
needed. AFHQ-style models (w_hpf = 0) never need it.
"""

from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from gan_zoo.errors import ConfigError

FaceMasker = Callable[[Tensor], tuple[Tensor, Tensor]]  # images [N, 3, H, W] in [-1, 1] -> two masks [N, 1, h, w]

_HOW_TO_GET = ("the official StarGAN v2 repository's `bash download.sh wing` saves it as expr/checkpoints/wing.ckpt; "
               "or train without the face skip path with model.w_hpf=0")


def load_face_masker(path: str | None, device: torch.device) -> FaceMasker:
    """The face masks of the FAN stored at `path`, or a ConfigError saying what is missing."""
    if path in (None, ""):
        raise ConfigError(f"model.w_hpf > 0 needs the frozen FAN landmark network: set model.fan_path=/path/to/wing.ckpt ({_HOW_TO_GET})")
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"model.fan_path={file} does not exist; put the FAN weights (wing.ckpt) there ({_HOW_TO_GET})")
    raise ConfigError(
        f"model.fan_path={file} exists, but this gan-zoo version does not implement the FAN architecture yet, so the "
        "face models' high-pass skip path (w_hpf > 0) cannot run; train with model.w_hpf=0"
    )
