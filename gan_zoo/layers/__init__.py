"""Building blocks shared by the StyleGAN-lineage networks (PGGAN first)."""

from gan_zoo.layers.equalized import EqualizedConv2d, EqualizedLinear
from gan_zoo.layers.minibatch_std import MinibatchStdDev
from gan_zoo.layers.pixel_norm import PixelNorm, pixel_norm
from gan_zoo.layers.resample import downsample_box2x, downscale_box, upsample_nearest2x, upscale_nearest

__all__ = [
    "EqualizedConv2d",
    "EqualizedLinear",
    "MinibatchStdDev",
    "PixelNorm",
    "downsample_box2x",
    "downscale_box",
    "pixel_norm",
    "upsample_nearest2x",
    "upscale_nearest",
]
