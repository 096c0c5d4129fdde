"""NVIDIA's VGG16 metric network (`vgg16.pt` / `vgg16.pkl`), run as the StyleGAN references run it.

StyleGAN2-ADA and StyleGAN3 compute precision/recall and PPL with one TorchScript file: VGG16 with
Zhang et al.'s LPIPS calibration built in, called as `net(images, resize_images=..., return_features=...,
return_lpips=...)`. gan-zoo calls the file itself instead of converting it, so these two metrics are
the reference computation by construction:

* precision/recall: uint8 RGB images (grey repeated to RGB), `return_features=True` with the file's
  own resize to 224 -> fc2 features [N, 4096];
* PPL: images in [-1, 1] mapped to [0, 255] by (x + 1) * 255 / 2, both ends of the pairs in one call
  with `resize_images=False, return_lpips=True`, distance = squared difference summed over the
  returned LPIPS feature vector (before the division by epsilon², done by metrics.ppl).

The torchvision-format files (`vgg16-397923af.pth` + LPIPS `vgg.pth`) are the other way to get these
networks (metrics.extractors.VGG16Features, metrics.lpips.LPIPSVGG); the protocol card says which ran.
"""

import inspect
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.errors import WeightsError
from gan_zoo.features import weights
from gan_zoo.features.torchscript_files import load_module

CALL_ARGUMENTS = ("resize_images", "return_features", "return_lpips")  # the keyword interface of NVIDIA's file


def _argument_names(module: nn.Module) -> set[str]:
    schema = getattr(getattr(module, "forward", None), "schema", None)
    if schema is not None:  # TorchScript: the compiled signature
        return {argument.name for argument in schema.arguments}
    return set(inspect.signature(module.forward).parameters)


def load_nvidia_vgg16(path: Path) -> nn.Module:
    """The file's module, frozen in eval mode; WeightsError when it lacks NVIDIA's call interface."""
    module = load_module(path, "vgg16")
    missing = [name for name in CALL_ARGUMENTS if name not in _argument_names(module)]
    if missing:
        raise WeightsError(
            f"vgg16 weights: {path} is a TorchScript/pickled module, but its forward() has no {', '.join(missing)} "
            f"argument(s), so it is not NVIDIA's VGG16 metric network (vgg16.pt / vgg16.pkl); {weights.VGG16.how_to_get()}"
        )
    for parameter in module.parameters():  # ScriptModules have no requires_grad_()
        parameter.requires_grad_(False)
    return module.eval()


def describe_file(path: Path) -> dict[str, Any]:
    digest = weights.sha256_of(path)
    pinned = dict(weights.VGG16.other_formats).get(path.name)
    return {
        "weights": path.name,
        "weights_sha256": digest,
        "weights_format": "NVIDIA VGG16 TorchScript/pickle, run as is",
        "reference_weights": pinned is not None and digest.startswith(pinned),
    }


class NvidiaVGG16Features:
    """Precision/recall features from NVIDIA's file: the same interface as extractors.VGG16Features."""

    def __init__(
        self,
        path: Path,  # the resolved, hash-checked vgg16.pt / vgg16.pkl
        device: str | torch.device = "cpu",  # where the network runs
    ) -> None:
        self.device = torch.device(device)
        self.network = load_nvidia_vgg16(path).to(self.device)
        self.weights = describe_file(path)

    def describe(self) -> dict[str, Any]:
        return {
            "extractor": "NVIDIA VGG16 (StyleGAN2-ADA/3 metrics file), return_features=True",
            **self.weights,
            "resize": "the file's own (resize_images=True, to 224)",
            "input": "uint8 RGB [0,255]",
        }

    @staticmethod
    def dims(output: str = "fc2") -> int:
        return 4096

    @torch.inference_mode()
    def __call__(self, images: Tensor, outputs: tuple[str, ...] = ("fc2",)) -> dict[str, Tensor]:
        assert images.dtype == torch.uint8, f"NvidiaVGG16Features takes uint8 images (rounded), got {images.dtype}"
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        features = self.network(images.to(self.device), resize_images=True, return_features=True, return_lpips=False)
        return {"fc2": features.float()}


class NvidiaLPIPS(nn.Module):
    """PPL's distance from NVIDIA's file: images [N, 3, H, W] in [-1, 1] x2 -> [N] (not yet / epsilon²)."""

    def __init__(
        self,
        path: Path,  # the resolved, hash-checked vgg16.pt / vgg16.pkl
    ) -> None:
        super().__init__()
        self.network = load_nvidia_vgg16(path)
        self.files = {"vgg16": describe_file(path)["weights_sha256"]}
        self.card = {"distance_network": f"NVIDIA {path.name}, resize_images=False, return_lpips=True"}

    @torch.no_grad()
    def forward(self, x0: Tensor, x1: Tensor) -> Tensor:
        images = (torch.cat([x0, x1]).float() + 1) * (255 / 2)
        lpips0, lpips1 = self.network(images, resize_images=False, return_features=False, return_lpips=True).float().chunk(2)
        return (lpips0 - lpips1).square().sum(1)
