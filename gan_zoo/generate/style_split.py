"""The mapping/synthesis split of the StyleGAN family, as `generate` (and PPL) use it.

A family exposes it when its `G_ema` has `mapping(z, c, truncation_psi, truncation_cutoff) -> ws`
([N, num_ws, w_dim]) and `synthesis(ws, noise_mode) -> images in [-1, 1]`, plus `z_dim`.
"""

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.errors import ConfigError
from gan_zoo.models.base import GANModule

STYLE_FAMILIES = ("stylegan", "stylegan2", "stylegan_xl")  # what users are told to use instead


def has_style_split(module: GANModule) -> bool:
    generator = getattr(module, "G_ema", None)
    return callable(getattr(generator, "mapping", None)) and callable(getattr(generator, "synthesis", None))


def require_style_split(module: GANModule, what: str) -> None:
    if not has_style_split(module):
        raise ConfigError(
            f"{what} needs a StyleGAN-family model ({', '.join(STYLE_FAMILIES)}), "
            f"but this checkpoint is a '{module.family}' model, which has no mapping/synthesis split"
        )


def num_classes(module: GANModule) -> int:
    """Classes the generator is conditioned on (0: unconditional)."""
    generator = module.G_ema
    return int(getattr(generator, "c_dim", 0) or 0)


def class_labels(module: GANModule, class_index: int | None, count: int) -> Tensor | None:
    """Integer labels [count] for a conditional model; None for an unconditional one."""
    classes = num_classes(module)
    if classes == 0:
        if class_index is not None:
            raise ConfigError(f"class={class_index}, but this '{module.family}' model is unconditional; leave class out")
        return None
    if class_index is None:
        raise ConfigError(f"this '{module.family}' model is conditional on {classes} classes: pass class=<0..{classes - 1}>")
    if not 0 <= int(class_index) < classes:
        raise ConfigError(f"class={class_index} is out of range: this model has classes 0..{classes - 1}")
    return torch.full((count,), int(class_index), dtype=torch.long)


def map_seeds(module: GANModule, seeds: list[int], labels: Tensor | None, truncation_psi: float, truncation_cutoff: int | None) -> Tensor:
    """ws [N, num_ws, w_dim] for these seeds (z drawn per seed as NVlabs does)."""
    generator = module.G_ema
    z = module.latents_from_seeds(seeds, generator.z_dim).to(module.device)
    c = None if labels is None else F.one_hot(labels, num_classes(module)).float().to(module.device)
    return generator.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)


def synthesize(module: GANModule, ws: Tensor, noise_mode: str, noise_seeds: list[int] | None = None) -> Tensor:
    """Images in [-1, 1]. With noise_mode=random, each image's noise comes from its own seed, so the
    same seed gives the same image whatever else is in the batch."""
    if noise_mode not in ("const", "random", "none"):
        raise ConfigError(f"noise_mode={noise_mode}: choose const, random or none")
    generator = module.G_ema
    if noise_mode != "random":
        return generator.synthesis(ws, noise_mode=noise_mode)
    images = []
    for index, w in enumerate(ws):
        devices = [module.device] if module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(noise_seeds[index] if noise_seeds else index)
            images.append(generator.synthesis(w[None], noise_mode="random"))
    return torch.cat(images)
