"""Perceptual path length (Karras et al. 2019) in the StyleGAN semantics.

Per sample: t ~ U(0, 1) for "full", t = 0 for "end"; z0, z1 ~ N(0, I). In Z: slerp_unit(z0, z1, t) and
slerp_unit(z0, z1, t + eps) (both on the unit sphere), then mapping. In W: mapping of z0 and z1, then
lerp at t and t + eps. Both ends are synthesised in one call (shared noise). Then the v1 face crop
(c = H // 8, rows 3c:7c, columns 2c:6c) when asked, box-downsampling by H // 256 when the image is
larger than 256, and distance / eps². The value is the mean of the distances between the 1st
(`lower`) and 99th (`higher`) percentiles.

Randomness per global block b of samples comes from a generator seeded by (seed, b): t (block),
then z0 and z1 ([block, z_dim] each), then the block's noise maps (ppl_interface.redrawn_noise), so
1 and N processes draw the same pairs.
"""

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.metrics.ppl_interface import PPLGenerator

Distance = Callable[[Tensor, Tensor], Tensor]  # images [N, C, H, W] in [-1, 1] -> [N]


def slerp_unit(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """The unit vector at fraction t along the great circle from a/|a| to b/|b| (NVIDIA PPL `slerp`: normalised ends)."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    dot = (a * b).sum(dim=-1, keepdim=True)
    angle = t.unsqueeze(-1) * torch.acos(dot)
    ortho = b - dot * a
    ortho = ortho / ortho.norm(dim=-1, keepdim=True)
    out = a * torch.cos(angle) + ortho * torch.sin(angle)
    return out / out.norm(dim=-1, keepdim=True)


def _lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    return torch.lerp(a, b, t.view(-1, *([1] * (a.ndim - 1))))


def block_generator(seed: int, block: int) -> torch.Generator:
    state = np.random.SeedSequence([seed, block]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def draw_pairs(generator: torch.Generator, n: int, z_dim: int, sampling: str) -> tuple[Tensor, Tensor, Tensor]:
    t = torch.rand(n, generator=generator) * (1.0 if sampling == "full" else 0.0)
    z0 = torch.randn(n, z_dim, generator=generator)
    z1 = torch.randn(n, z_dim, generator=generator)
    return t, z0, z1


def crop_and_downsample(images: Tensor, crop: bool) -> Tensor:
    resolution = images.shape[-1]
    if crop:
        c = images.shape[-2] // 8
        images = images[:, :, c * 3 : c * 7, c * 2 : c * 6]
    factor = resolution // 256
    if factor > 1:
        images = F.avg_pool2d(images, factor)  # the references' reshape-and-mean box filter
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    return images


@torch.no_grad()
def path_lengths(
    generator: PPLGenerator,
    t: Tensor,
    z0: Tensor,
    z1: Tensor,
    labels: Tensor | None,
    space: str,
    crop: bool,
    epsilon: float,
    distance: Distance,
    noise_generator: torch.Generator | None = None,
) -> Tensor:
    """Per-pair distance / eps² [N] for one block of latents; `noise_generator` re-draws the noise maps for the block."""
    device = generator.device
    t, z0, z1 = t.to(device), z0.to(device), z1.to(device)
    both_labels = None if labels is None else torch.cat([labels, labels]).to(device)
    if space == "z":
        ws = generator.mapping(torch.cat([slerp_unit(z0, z1, t), slerp_unit(z0, z1, t + epsilon)]), both_labels)
    else:
        w0, w1 = generator.mapping(torch.cat([z0, z1]), both_labels).chunk(2)
        ws = torch.cat([_lerp(w0, w1, t), _lerp(w0, w1, t + epsilon)])
    images = crop_and_downsample(generator.synthesis(ws, noise_generator).float(), crop)
    end0, end1 = images.chunk(2)
    return distance(end0, end1).float() / epsilon**2


def filtered_mean(distances: Tensor) -> float:
    d = distances.double().cpu().numpy()
    low = np.percentile(d, 1, method="lower")
    high = np.percentile(d, 99, method="higher")
    return float(d[(d >= low) & (d <= high)].mean())
