"""Blurring every discriminator input early in training (NVlabs/stylegan3, autonomousvision/stylegan-xl).

Sharp details of the first fakes would let the discriminator win at once; a blur that fades out
lets the generator learn coarse structure first. The official kernel is 2^-(t/σ)² for t in
[-⌊3σ⌋, ⌊3σ⌋], normalised and separable, with zero padding. That is a Gaussian of standard
deviation σ/√(2 ln 2), which kornia's `gaussian_blur2d` computes exactly (constant border = zeros).
Official code: `StyleGAN2Loss.run_D` in NVlabs/stylegan3 `training/loss.py` and `ProjectedGANLoss.run_D`
in autonomousvision/stylegan-xl `training/loss.py` (σ fading from `blur_init_sigma` over `blur_fade_kimg`).
"""

import math

from kornia.filters import gaussian_blur2d
from torch import Tensor


def blur_sigma(
    cur_nimg: float,  # images shown so far
    init_sigma: float = 2.0,  # σ at the start, pixels
    fade_kimg: float = 300.0,  # σ reaches 0 after this many kimg; <= 0: no blur
) -> float:
    """σ fading linearly from `init_sigma` to 0 over `fade_kimg`.

    (The official code also disables the blur for fade_kimg in (0, 1]; here any positive fade blurs.)
    """
    if fade_kimg <= 0:
        return 0.0
    return max(1.0 - cur_nimg / (fade_kimg * 1000.0), 0.0) * init_sigma


def blur_images(x: Tensor, sigma: float) -> Tensor:
    """[B, C, H, W] blurred with the official kernel of σ = `sigma` (radius ⌊3σ⌋; none below σ = 1/3)."""
    radius = math.floor(sigma * 3)
    if radius <= 0:
        return x
    size = 2 * radius + 1
    std = sigma / math.sqrt(2 * math.log(2))
    return gaussian_blur2d(x, (size, size), (std, std), border_type="constant")
