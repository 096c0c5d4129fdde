"""Building blocks shared by the families' networks.

Re-exported here: the StyleGAN-lineage layers (equalized learning rate, FIR resampling, modulated and
resampling convolutions, minibatch stddev, pixel norm, reduced precision) that PGGAN, StyleGAN,
StyleGAN2 and Projected GAN's StyleGAN2 generator share. The rest are imported from their modules:
`adain`, `blur2d`, `fused_scale`, `noise_input` (StyleGAN), `filtered_lrelu`, `sinc_filter`
(StyleGAN-XL's StyleGAN3 synthesis), `spade_norm` (SPADE).
"""

from gan_zoo.layers.bias_act import bias_act
from gan_zoo.layers.conv_layer import Conv2dLayer
from gan_zoo.layers.conv_resample import conv2d_resample
from gan_zoo.layers.equalized import EqualizedConv2d, EqualizedLinear
from gan_zoo.layers.minibatch_std import MinibatchStdDev
from gan_zoo.layers.modulated_conv import modulated_conv2d
from gan_zoo.layers.pixel_norm import PixelNorm, pixel_norm
from gan_zoo.layers.precision import full_precision, reduced_precision, reduced_precision_dtype
from gan_zoo.layers.resample import downsample_box2x, downscale_box, resolution_log2, upsample_nearest2x, upscale_nearest
from gan_zoo.layers.upfirdn import downsample2d, filter2d, fir_filter, layer_fir_filter, upfirdn2d, upsample2d

__all__ = [
    "Conv2dLayer",
    "EqualizedConv2d",
    "EqualizedLinear",
    "MinibatchStdDev",
    "PixelNorm",
    "bias_act",
    "conv2d_resample",
    "downsample2d",
    "downsample_box2x",
    "downscale_box",
    "filter2d",
    "full_precision",
    "fir_filter",
    "layer_fir_filter",
    "modulated_conv2d",
    "pixel_norm",
    "resolution_log2",
    "reduced_precision",
    "reduced_precision_dtype",
    "upfirdn2d",
    "upsample2d",
    "upsample_nearest2x",
    "upscale_nearest",
]
