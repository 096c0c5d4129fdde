"""Channel and precision plan shared by the StyleGAN2 generator and discriminator."""

import math


def resolution_log2(resolution: int) -> int:
    log2 = int(round(math.log2(resolution))) if resolution > 0 else 0
    if resolution < 4 or 2**log2 != resolution:
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
    return log2


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at a resolution: min(channel_base // res, channel_max) (config F: 32768, 512)."""
    return min(channel_base // resolution, channel_max)


def fp16_resolution(resolution: int, num_fp16_res: int) -> int:
    """Lowest resolution run in reduced precision: the top `num_fp16_res` ones, never below 8×8."""
    return max(2 ** (resolution_log2(resolution) + 1 - num_fp16_res), 8)
