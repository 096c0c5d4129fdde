"""The networks of StarGAN v2's official evaluation (its metrics/fid.py and metrics/lpips.py).

* `TorchvisionInceptionFeatures`: torchvision's ImageNet Inception-v3 (`inception_v3_google-0cc3c7bd.pth`)
  cut after the global average pool, 2048-d. Input as the official loader feeds it: uint8 RGB
  images resized to 299x299 by PIL (bilinear, on the uint8 image, as `transforms.Resize` on the
  decoded file or saved PNG), scaled to [0, 1] and normalised with the ImageNet mean/std; the blocks
  run directly, so torchvision's `transform_input` is not applied (as the official `InceptionV3`).
* `LPIPSAlex`: LPIPS on torchvision's ImageNet AlexNet (`alexnet-owt-7be5be79.pth`): inputs in
  [-1, 1] shifted/scaled by LPIPS's constants, the feature maps after each of the five ReLUs
  normalised over channels (eps 1e-10 outside the root), squared differences weighted by the 1x1
  linear layers (LPIPS v0.1 `alex.pth`, or StarGAN v2's `lpips_weights.ckpt`), spatial mean, summed
  over layers -> one distance per pair. The official value averages this over the batch.

Neither is a sub-module of a model, so neither enters a checkpoint.
"""

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import Tensor, nn

from gan_zoo.errors import WeightsError
from gan_zoo.features import weights
from gan_zoo.features.extractors import load_state_dict_file, load_strict
from gan_zoo.features.lpips import layer_distance, lpips_input

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_ALEX_CHANNELS = (64, 192, 384, 256, 256)  # after each ReLU of torchvision's AlexNet.features


def pil_resize(image: Tensor, size: int, rgb: bool = True) -> Tensor:
    """uint8 [C, H, W] -> uint8 [C', size, size] by PIL bilinear, as torchvision's Resize on a PIL image.

    C' is 3 with `rgb` (grey converted to RGB, as the official loader's `convert('RGB')`), else C.
    """
    array = image.permute(1, 2, 0).cpu().numpy()
    picture = Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)
    if rgb:
        picture = picture.convert("RGB")
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.Resampling.BILINEAR)
    out = torch.from_numpy(np.asarray(picture).copy())
    return out.unsqueeze(0) if out.ndim == 2 else out.permute(2, 0, 1)


class TorchvisionInceptionFeatures:
    def __init__(
        self,
        weights_path: str | Path | None = None,  # torchvision inception_v3_google-0cc3c7bd.pth; None: the cache
        sha256: str | None = None,  # expected SHA-256 (prefix) of weights_path; None: the reference file's
        device: str | torch.device = "cpu",  # where the network runs
    ) -> None:
        path = weights.resolve(weights.TV_INCEPTION, weights_path, sha256)
        network = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
        load_strict(network, load_state_dict_file(path, "tv_inception"), path, "tv_inception")
        n = network
        self.blocks = nn.Sequential(
            n.Conv2d_1a_3x3,
            n.Conv2d_2a_3x3,
            n.Conv2d_2b_3x3,
            nn.MaxPool2d(3, 2),
            n.Conv2d_3b_1x1,
            n.Conv2d_4a_3x3,
            nn.MaxPool2d(3, 2),
            n.Mixed_5b,
            n.Mixed_5c,
            n.Mixed_5d,
            n.Mixed_6a,
            n.Mixed_6b,
            n.Mixed_6c,
            n.Mixed_6d,
            n.Mixed_6e,
            n.Mixed_7a,
            n.Mixed_7b,
            n.Mixed_7c,
            nn.AdaptiveAvgPool2d(1),
        )
        digest = weights.sha256_of(path)
        self.weights = {"weights": path.name, "weights_sha256": digest, "reference_weights": digest.startswith(weights.TV_INCEPTION.sha256)}
        self.device = torch.device(device)
        self.blocks = self.blocks.eval().requires_grad_(False).to(self.device)
        self.mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": "torchvision Inception-v3 (ImageNet) avgpool, as StarGAN v2's metrics/fid.py",
            **self.weights,
            "resize": "PIL bilinear to 299 on uint8 images",
            "input": "uint8 RGB / 255, ImageNet mean/std, no transform_input",
        }

    @torch.inference_mode()
    def __call__(self, images: Tensor | list[Tensor]) -> Tensor:
        """uint8 images ([N, C, H, W], or a list of [C, H, W] of any sizes) -> features [N, 2048]."""
        batch = torch.stack([pil_resize(image, 299) for image in images]).to(self.device)
        x = (batch.float() / 255 - self.mean) / self.std
        return self.blocks(x).flatten(1).float()


def _lin_state(state: dict[str, Tensor], path: Path) -> dict[str, Tensor]:
    """`lins.<i>.weight` from LPIPS's `lin<i>.model.1.weight` or StarGAN v2's `lpips_weights.<i>.main.1.weight`."""
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0].startswith("lin") and parts[0][3:].isdigit():
            out[f"lins.{parts[0][3:]}.weight"] = value
        elif parts[0] == "lpips_weights" and parts[1].isdigit():
            out[f"lins.{parts[1]}.weight"] = value
    if len(out) != len(_ALEX_CHANNELS):
        raise WeightsError(
            f"lpips_alex weights: {path} holds {sorted(state)[:6]}..., not the five LPIPS AlexNet linear layers; {weights.LPIPS_ALEX.how_to_get()}"
        )
    return out


class LPIPSAlex(nn.Module):
    def __init__(
        self,
        alexnet_path: str | Path | None = None,  # torchvision alexnet-owt-7be5be79.pth; None: the cache
        lin_path: str | Path | None = None,  # LPIPS v0.1 alex.pth or StarGAN v2's lpips_weights.ckpt; None: torchmetrics' copy
        alexnet_sha256: str | None = None,  # expected hash of alexnet_path; None: the reference file's
        lin_sha256: str | None = None,  # expected hash of lin_path; None: the reference file's
    ) -> None:
        super().__init__()
        alex_file = weights.resolve(weights.ALEXNET, alexnet_path, alexnet_sha256)
        lin_file = weights.resolve(weights.LPIPS_ALEX, lin_path, lin_sha256)
        alexnet = torchvision.models.alexnet()
        load_strict(alexnet, load_state_dict_file(alex_file, "alexnet"), alex_file, "alexnet")
        self.features = alexnet.features
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in _ALEX_CHANNELS)
        load_strict(
            self.lins,
            {k.removeprefix("lins."): v for k, v in _lin_state(load_state_dict_file(lin_file, "lpips_alex"), lin_file).items()},
            lin_file,
            "lpips_alex",
        )
        self.files = {"alexnet": weights.sha256_of(alex_file), "lpips_alex": weights.sha256_of(lin_file)}
        self.card = {"distance_network": f"LPIPS AlexNet from {alex_file.name} (torchvision) + {lin_file.name}"}
        self.eval().requires_grad_(False)

    def forward(self, x0: Tensor, x1: Tensor) -> Tensor:
        """Distance per pair [N] for images [N, 3, H, W] in [-1, 1]."""
        h = lpips_input(x0, x1)
        total = torch.zeros(x0.shape[0], device=x0.device)
        lins = iter(self.lins)
        for module in self.features:
            h = module(h)
            if isinstance(module, nn.ReLU):  # LPIPS taps AlexNet after each of its five ReLUs
                total = total + layer_distance(h, next(lins))
        return total
