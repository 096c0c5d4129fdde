"""Channel and precision plan shared by the StyleGAN2 generator and discriminator."""

from gan_zoo.layers.resample import resolution_log2


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at a resolution: min(channel_base // res, channel_max) (config F: 32768, 512)."""
    return min(channel_base // resolution, channel_max)


def fp16_resolution(resolution: int, num_fp16_res: int) -> int:
    """Lowest resolution run in reduced precision: the top `num_fp16_res` ones, never below 8×8."""
    return max(2 ** (resolution_log2(resolution) + 1 - num_fp16_res), 8)
