"""LPIPS VGG16 v0.1 (Zhang et al. 2018), the distance of StyleGAN's PPL.

VGG16 trunk from torchvision's ImageNet file (`vgg16-397923af.pth`, `features.*` keys), linear
calibration layers from LPIPS v0.1's `vgg.pth` (shipped in the torchmetrics and lpips wheels).
distance(x0, x1) = sum over relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 of the spatial mean of
w · (f0/|f0| - f1/|f1|)², channels normalised per pixel. Inputs in [-1, 1], no resize.
"""

from pathlib import Path

import torch
import torchvision
from torch import Tensor, nn

from gan_zoo.features import weights
from gan_zoo.features.extractors import load_state_dict_file, load_strict

_SLICES = ((0, 4), (4, 9), (9, 16), (16, 23), (23, 30))  # torchvision vgg16.features indices ending at each relu
_CHANNELS = (64, 128, 256, 512, 512)
LPIPS_SHIFT = (-0.030, -0.088, -0.188)  # LPIPS's input scaling layer: (x - shift) / scale for x in [-1, 1]
LPIPS_SCALE = (0.458, 0.448, 0.450)


def lpips_input(x0: Tensor, x1: Tensor) -> Tensor:
    """Both image batches in one, scaled as LPIPS's ScalingLayer (one trunk pass for the pair)."""
    shift = torch.tensor(LPIPS_SHIFT, device=x0.device).view(1, 3, 1, 1)
    scale = torch.tensor(LPIPS_SCALE, device=x0.device).view(1, 3, 1, 1)
    return (torch.cat([x0, x1]).float() - shift) / scale


def layer_distance(features: Tensor, lin: nn.Module) -> Tensor:
    """One layer's LPIPS term per pair [N] from the trunk's features of both batches [2N, C, H, W]:
    unit-normalised over channels (eps outside the root), squared difference, 1x1 weights, spatial mean."""
    f = features / (features.square().sum(1, keepdim=True).sqrt() + 1e-10)
    f0, f1 = f.chunk(2)
    return lin((f0 - f1).square()).mean(dim=(1, 2, 3))


class LPIPSVGG(nn.Module):
    def __init__(
        self,
        vgg_path: str | Path | None = None,  # torchvision VGG16 file; None: the cache (weights.resolve)
        lin_path: str | Path | None = None,  # LPIPS v0.1 vgg.pth; None: the copy inside torchmetrics/lpips
        vgg_sha256: str | None = None,  # expected hash of vgg_path; None: the reference file's
        lin_sha256: str | None = None,  # expected hash of lin_path; None: the reference file's
    ) -> None:
        super().__init__()
        vgg_file = weights.resolve(weights.VGG16, vgg_path, vgg_sha256)
        lin_file = weights.resolve(weights.LPIPS_VGG, lin_path, lin_sha256)
        vgg = torchvision.models.vgg16()
        load_strict(vgg, load_state_dict_file(vgg_file, "vgg16"), vgg_file, "vgg16")
        self.slices = nn.ModuleList(nn.Sequential(*vgg.features[a:b]) for a, b in _SLICES)
        self.lins = nn.ModuleList(nn.Conv2d(c, 1, 1, bias=False) for c in _CHANNELS)
        # LPIPS v0.1 names the layers lin<i>.model.1 (after a dropout slot); here they are lins.<i>.
        lin_state = {key.replace("lin", "", 1).replace(".model.1", ""): value for key, value in load_state_dict_file(lin_file, "lpips_vgg").items()}
        load_strict(self.lins, lin_state, lin_file, "lpips_vgg")
        self.files = {"vgg16": weights.sha256_of(vgg_file), "lpips_vgg": weights.sha256_of(lin_file)}
        self.card = {"distance_network": f"LPIPS VGG16 v0.1 from {vgg_file.name} (torchvision) + {lin_file.name}"}
        self.eval().requires_grad_(False)

    def forward(self, x0: Tensor, x1: Tensor) -> Tensor:
        """Distance per pair [N] for images [N, 3, H, W] in [-1, 1]."""
        h = lpips_input(x0, x1)
        total = torch.zeros(x0.shape[0], device=x0.device)
        for block, lin in zip(self.slices, self.lins, strict=True):
            h = block(h)
            total = total + layer_distance(h, lin)
        return total
