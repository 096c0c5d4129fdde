"""Shared pieces of the metrics tests: random weight files in the reference formats, tiny models.

No weights can be downloaded here, so every test builds its own files in the formats the
references load (torch-fidelity/pytorch-fid Inception state dict, torchvision VGG16 state dict)
with random values, and passes their SHA-256 explicitly (the reference hash would reject them).
"""

import hashlib
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_zoo.data import ShapesDataset
from gan_zoo.features.extractors import random_inception_state


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_inception_weights(folder: Path, seed: int = 1) -> tuple[Path, str]:
    """A torch-fidelity-format Inception file with random (kaiming) weights."""
    path = folder / "weights-inception-random.pth"
    if not path.exists():
        torch.save(random_inception_state(seed), path)
    return path, sha256(path)


def write_vgg16_weights(folder: Path, seed: int = 0) -> tuple[Path, str]:
    """A torchvision-format VGG16 file with torchvision's random init (553 MB; written once per session)."""
    import torchvision

    path = folder / "vgg16-random.pth"
    if not path.exists():
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            torch.save(torchvision.models.vgg16().state_dict(), path)
    return path, sha256(path)


def write_tv_inception_weights(folder: Path, seed: int = 0) -> tuple[Path, str]:
    """A torchvision-format Inception-v3 file (with the aux head, as inception_v3_google-0cc3c7bd.pth) with random init."""
    import torchvision

    path = folder / "inception_v3-random.pth"
    if not path.exists():
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            torch.save(torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True).state_dict(), path)
    return path, sha256(path)


def write_alexnet_weights(folder: Path, seed: int = 0) -> tuple[Path, str]:
    """A torchvision-format AlexNet file (as alexnet-owt-7be5be79.pth) with torchvision's random init."""
    import torchvision

    path = folder / "alexnet-random.pth"
    if not path.exists():
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            torch.save(torchvision.models.alexnet().state_dict(), path)
    return path, sha256(path)


def shapes(num_images: int = 64, resolution: int = 16) -> ShapesDataset:
    return ShapesDataset(resolution=resolution, channels=3, num_images=num_images, seed=0)


class TinyModule(nn.Module):
    """The evaluation surface of a GANModule (device, G_ema, eval_fakes) around a small conv generator."""

    family = "tiny"

    def __init__(self, resolution: int = 16, z_dim: int = 8) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.z_dim = z_dim
        self.resolution = resolution
        self.G_ema = nn.Sequential(nn.Linear(z_dim, 3 * resolution * resolution), nn.Tanh())

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        z = torch.randn(batch["image"].shape[0], self.z_dim, generator=generator)
        return self.G_ema(z.to(self.device)).view(-1, 3, self.resolution, self.resolution)


class LinearStyleG(nn.Module):
    """A StyleGAN-shaped G_ema whose images are linear in w: mapping z -> z M, synthesis w -> (w A) as images."""

    def __init__(self, z_dim: int = 4, resolution: int = 16, channels: int = 3) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(3)
        self.z_dim, self.c_dim, self.num_ws, self.shape = z_dim, 0, 2, (channels, resolution, resolution)
        self.register_buffer("M", torch.randn(z_dim, z_dim, generator=g) / z_dim**0.5)
        self.register_buffer("A", torch.randn(z_dim, channels * resolution * resolution, generator=g) * 0.1)

    def mapping(self, z: Tensor, c: Tensor | None, truncation_psi: float = 1.0) -> Tensor:
        return (z @ self.M).unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws: Tensor, noise_mode: str = "random") -> Tensor:
        assert noise_mode == "const", "PPL must ask for constant noise"
        return (ws[:, 0] @ self.A).view(-1, *self.shape)


class LinearStyleModule(TinyModule):
    family = "linear_style"

    def __init__(self, resolution: int = 16) -> None:
        super().__init__(resolution)
        self.G_ema = LinearStyleG(resolution=resolution)
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the module a device and a training flag to restore


def pixel_distance(x0: Tensor, x1: Tensor) -> Tensor:
    """A stand-in for LPIPS whose value is easy to compute by hand: the squared L2 distance."""
    return (x0 - x1).square().sum(dim=(1, 2, 3))
