"""VGG19 perceptual loss (pix2pixHD / SPADE `VGGLoss`, NVlabs/SPADE `models/networks/loss.py`).

L1 between VGG19 features of the fake and the (detached) real image at relu1_1, relu2_1, relu3_1,
relu4_1 and relu5_1 (torchvision `features[0:2]`, `[2:7]`, `[7:12]`, `[12:21]`, `[21:30]`), weighted
1/32, 1/16, 1/8, 1/4, 1; images go in as they are, in [-1, 1], without ImageNet normalisation
(the slices are SPADE's `VGG19`, NVlabs/SPADE `models/networks/architecture.py`).

The weights are torchvision's ImageNet VGG19 file (`vgg19-dcbb9e9d.pth`), read from a configured
path or torch.hub's checkpoint folder, never downloaded. Only the `features.*` tensors up to
relu5_1 are used. The network is a plain attribute holder, not a sub-module of the GANModule, so it
never enters a model checkpoint.
"""

import os
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor, nn

from gan_zoo.errors import GanZooError

VGG19_FILE = "vgg19-dcbb9e9d.pth"  # torchvision's ImageNet VGG19 (its torch.hub name)
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_ENV = "GAN_ZOO_VGG19_WEIGHTS"  # environment variable that may point at the file
SLICES = ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30))  # features[a:b] ending at relu1_1 .. relu5_1
LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


class PerceptualWeightsError(GanZooError):
    """The VGG19 weight file of the perceptual loss is missing or does not fit."""


def default_vgg19_path() -> Path:
    """$GAN_ZOO_VGG19_WEIGHTS, else torch.hub's checkpoint folder (where torchvision downloads it)."""
    explicit = os.environ.get(VGG19_ENV)
    return Path(explicit) if explicit else Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def _how_to_get(path: Path) -> str:
    return (
        f"the VGG19 perceptual loss needs torchvision's ImageNet VGG19 weights {VGG19_FILE}: download {VGG19_URL} on a "
        f"machine with internet access and put it at {path} (or point model.vgg_weights=/path/to/file or {VGG19_ENV} "
        "at it), or train without the loss with model.lambda_vgg=0"
    )


def vgg19_trunk() -> nn.Sequential:
    """torchvision's VGG19 `features[:30]` (up to relu5_1), randomly initialised."""
    return nn.Sequential(*list(torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"]))[:30])


def load_vgg19_trunk(path: str | os.PathLike[str] | None) -> nn.Sequential:
    """The frozen trunk with the weights of the torchvision-format file at `path` (None: the default place)."""
    path = Path(path).expanduser() if path else default_vgg19_path()
    if not path.is_file():
        raise PerceptualWeightsError(f"VGG19 weights: {path} does not exist; {_how_to_get(path)}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise PerceptualWeightsError(f"VGG19 weights: {path} cannot be read as a PyTorch state dict ({error}); {_how_to_get(path)}") from error
    trunk = vgg19_trunk()
    wanted = {key.removeprefix("features."): value for key, value in state.items() if key.startswith("features.")}
    wanted = {key: value for key, value in wanted.items() if int(key.split(".")[0]) < 30}
    try:
        trunk.load_state_dict(wanted, strict=True)
    except RuntimeError as error:
        raise PerceptualWeightsError(
            f"VGG19 weights: {path} is not a torchvision VGG19 state dict ({str(error).splitlines()[0]}); {_how_to_get(path)}"
        ) from error
    return trunk.eval().requires_grad_(False)


class VGGPerceptualLoss:
    def __init__(
        self,
        trunk: nn.Sequential,  # VGG19 features[:30] (load_vgg19_trunk)
    ) -> None:
        self.slices = [trunk[a:b] for a, b in SLICES]

    def to(self, device: torch.device) -> "VGGPerceptualLoss":
        self.slices = [s.to(device) for s in self.slices]
        return self

    def features(self, x: Tensor) -> list[Tensor]:
        outputs = []
        for block in self.slices:
            x = block(x)
            outputs.append(x)
        return outputs

    def __call__(self, fake: Tensor, real: Tensor) -> Tensor:
        """sum_i w_i * mean |VGG_i(fake) - VGG_i(real)|; gradients flow to `fake` only."""
        fake_features = self.features(fake)
        with torch.no_grad():
            real_features = self.features(real)
        return sum(w * F.l1_loss(f, r) for w, f, r in zip(LAYER_WEIGHTS, fake_features, real_features, strict=True))  # type: ignore[return-value]
