"""The face masks of the face models' high-pass skip path (w_hpf > 0), from a frozen FAN's heatmaps.

The official CelebA-HQ model runs a frozen FAN (98 landmarks, trained with the wing loss; official
weights `wing.ckpt`, 6,333,603 parameters; see fan.py) on every source image and turns its
landmark heatmaps into two soft masks [N, 1, 256, 256] in [0, 1]: the first covers the whole face
(contour, brows, eyes, nose, mouth) and gates the 32 px skip, the second leaves out the contour,
brows and mouth and gates the 64 and 128 px skips. The network is not trained, not counted by
`gan-zoo summary` and not stored in gan-zoo checkpoints: it loads from `model.fan_path` when first
needed. AFHQ-style models (w_hpf = 0) never need it.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.errors import ConfigError
from gan_zoo.models.stargan_v2.fan import FAN, NUM_LANDMARKS

FaceMasker = Callable[[Tensor], tuple[Tensor, Tensor]]  # images [N, 3, H, W] in [-1, 1] -> two masks [N, 1, h, w]

_HOW_TO_GET = (
    "expected: the official wing.ckpt of the StarGAN v2 release, which the official repository's "
    "`bash download.sh wing` saves as expr/checkpoints/wing.ckpt; put it there (the CelebA-HQ preset "
    "looks in ${paths.data_dir}/wing.ckpt) or point model.fan_path= at it; or train without the face "
    "skip path with model.w_hpf=0"
)

MASK_SIZE = 256  # the FAN sees, and the masks come out at, 256 px whatever the image size

# How each landmark group of the 98-point (WFLW) layout enters the masks, after the heatmaps are
# thresholded and min-max normalised: rolled up by `shift` pixels at 256 px (negative: down; the
# official offsets, wrapping around like the official row permutation) and raised to `power` (a
# higher power narrows a blob around its peak). Groups are [first, end) channel ranges; landmarks
# in no group (51, the top of the nose; 96 and 97, the pupils) enter as normalised.
GROUPS = {  # name: (first, end, shift, power)
    "jaw": (8, 25, 0, 3),  # the lower contour; 0-7 and 25-32 (temples, ears) are dropped
    "eyebrows": (33, 51, -7, 2),
    "nose_bridge": (52, 55, 4, 1),  # the bridge below its top point 51, which stays in place
    "nostrils": (55, 60, 8, 4),
    "upper_lip": (77, 82, -8, 4),
    "lower_lip": (83, 88, 8, 4),
    "inner_lip": (88, 96, -2, 3),
}
EYES = (60, 76)  # each eye heatmap becomes roll_down(h, 8)^3 + roll_down(h, 24) (fixed pixel offsets)
DROPPED = (*range(0, 8), *range(25, 33), 33, 46, 76, 82)  # outer contour, the brows' outer ends, the mouth corners
# The second mask leaves out the jaw, the brows and the whole mouth (76-95): only eyes and nose remain.
NOT_IN_SECOND = ((8, 25), (33, 51), (76, 96))
HEATMAP_FLOOR = 0.1  # heatmap values below this are noise and set to 0 before normalising


def roll_up(x: Tensor, pixels: int) -> Tensor:
    """Move [N, C, H, W] maps up by `pixels` rows (down when negative), wrapping around the border."""
    return torch.roll(x, shifts=-pixels, dims=2)


def masks_from_heatmaps(heatmaps: Tensor) -> tuple[Tensor, Tensor]:
    """[N, 98, H, W] landmark heatmaps (H = 256 for the official offsets) -> the two masks [N, 1, H, W] in [0, 1]."""
    if heatmaps.shape[1] != NUM_LANDMARKS:
        raise ValueError(f"expected {NUM_LANDMARKS} landmark heatmaps, got {heatmaps.shape[1]}")
    x = torch.where(heatmaps < HEATMAP_FLOOR, torch.zeros_like(heatmaps), heatmaps)
    low = x.amin(dim=(2, 3), keepdim=True)
    high = x.amax(dim=(2, 3), keepdim=True)
    x = (x - low) / (high - low + 1e-6)  # each landmark's heatmap to [0, 1]
    scale = heatmaps.shape[2] // MASK_SIZE  # the group offsets scale with the size; the eye offsets do not
    for first, end, shift, power in GROUPS.values():
        x[:, first:end] = roll_up(x[:, first:end], shift * scale) ** power
    eyes = x[:, EYES[0] : EYES[1]]
    x[:, EYES[0] : EYES[1]] = roll_up(eyes, -8) ** 3 + roll_up(eyes, -24)
    x[:, list(DROPPED)] = 0
    keep_second = torch.ones(NUM_LANDMARKS, dtype=x.dtype, device=x.device)
    for first, end in NOT_IN_SECOND:
        keep_second[first:end] = 0
    first_mask = x.sum(dim=1, keepdim=True)
    second_mask = (x * keep_second[None, :, None, None]).sum(dim=1, keepdim=True)
    return first_mask.nan_to_num(0.0).clamp(0, 1), second_mask.nan_to_num(0.0).clamp(0, 1)


class FanFaceMasker:
    """Callable images [N, 3, H, W] in [-1, 1] -> the two face masks [N, 1, 256, 256], no gradients.

    A plain object, not an nn.Module: kept in a list by the GANModule, the FAN stays out of its
    state dict, its parameter counts and its optimizers.
    """

    def __init__(self, fan: FAN) -> None:
        self.fan = fan.eval().requires_grad_(False)

    @torch.no_grad()
    def heatmaps(self, images: Tensor) -> Tensor:
        """[N, 98, 256, 256] landmark heatmaps of images in [-1, 1] (the boundary channel dropped)."""
        device = images.device
        if next(self.fan.parameters()).device != device:
            self.fan.to(device)
        # The FAN's batch norms and the 0.1 threshold were tuned in float32: keep mixed precision out.
        with torch.autocast(device.type, enabled=False):
            x = F.interpolate(images.float(), size=MASK_SIZE, mode="bilinear")
            maps = self.fan(x * 0.5 + 0.5)[:, :-1]  # the FAN expects [0, 1]
            return F.interpolate(maps, scale_factor=MASK_SIZE // maps.shape[-1], mode="bilinear", align_corners=True)

    @torch.no_grad()
    def __call__(self, images: Tensor) -> tuple[Tensor, Tensor]:
        first, second = masks_from_heatmaps(self.heatmaps(images))
        return first.to(images.dtype), second.to(images.dtype)


def fan_state_dict(stored: Any, file: Path) -> dict[str, Tensor]:
    """The FAN weights inside a loaded file: the official wing.ckpt keeps them under 'state_dict'
    (an official *_nets_ema.ckpt of a face model under 'fan', with nn.DataParallel's 'module.' prefix
    when saved from the wrapper); a bare state dict is taken as is."""
    if isinstance(stored, dict):
        for key in ("state_dict", "fan"):
            weights = stored.get(key)
            if isinstance(weights, dict):
                if weights and all(str(k).startswith("module.") for k in weights):
                    return {k[len("module.") :]: v for k, v in weights.items()}
                return weights
        if all(isinstance(v, Tensor) for v in stored.values()):
            return stored
    raise ConfigError(f"model.fan_path={file} holds no FAN state dict (no 'state_dict' entry); {_HOW_TO_GET}")


def load_fan(file: Path) -> FAN:
    """The frozen FAN with the weights in `file`, or a ConfigError naming the file and what it lacks."""
    try:
        stored = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle with objects, a truncated download, not a torch file at all
        raise ConfigError(
            f"model.fan_path={file} cannot be read as FAN weights ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); {_HOW_TO_GET}"
        ) from error
    weights = fan_state_dict(stored, file)
    fan = FAN()
    expected = fan.state_dict()
    # Like the official loader, keys the FAN does not have are ignored, and so are missing batch-norm
    # step counters (files from older PyTorch lack them; eval mode never reads them). Every weight
    # and running statistic must be there: a partly loaded FAN would silently give wrong masks.
    required = [k for k in expected if not k.endswith("num_batches_tracked")]
    missing = [k for k in required if k not in weights]
    if missing:
        raise ConfigError(
            f"model.fan_path={file} is not the StarGAN v2 FAN: {len(missing)} of its {len(required)} "
            f"tensors are missing (first: {', '.join(missing[:3])}); {_HOW_TO_GET}"
        )
    wrong = [f"{k} {list(weights[k].shape)} != {list(v.shape)}" for k, v in expected.items() if k in weights and weights[k].shape != v.shape]
    if wrong:
        raise ConfigError(f"model.fan_path={file} has FAN weights of other shapes ({'; '.join(wrong[:3])}); {_HOW_TO_GET}")
    fan.load_state_dict({**expected, **{k: weights[k] for k in expected if k in weights}}, strict=True)
    return fan.eval().requires_grad_(False)


def load_face_masker(path: str | None, device: torch.device) -> FaceMasker:
    """The face masks of the FAN stored at `path`, or a ConfigError saying what is missing."""
    if path in (None, ""):
        raise ConfigError(
            f"model.w_hpf > 0 needs the frozen FAN landmark network: set model.fan_path=/path/to/wing.ckpt, or "
            f"+overrides.fan_path=/path/to/wing.ckpt with an official checkpoint file ({_HOW_TO_GET})"
        )
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"model.fan_path={file} does not exist; {_HOW_TO_GET}")
    return FanFaceMasker(load_fan(file).to(device))
