"""What the configuration decides for the StyleGAN2 networks: channels per resolution, which
resolutions run in reduced precision (shared by G and D), and the ADA code's `--cfg=auto` values.

`--cfg=auto` (StyleGAN2-ADA `train.py`): hyperparameters from the resolution and the GPU count alone.

    batch          = max(min(gpus · min(4096 // res, 32), 64), gpus)    global images per step
    mbstd group    = min(batch // gpus, 4)
    channel_base   = 32768 if res >= 512 else 16384
    lr             = 0.002 if res >= 1024 else 0.0025
    R1 gamma       = 0.0002 · res² / batch                              (e.g. 256 px, batch 64: 0.2048)
    ema half-life  = batch · 10 / 32 kimg, ramp-up 0.05
    mapping layers = 2

Everything else (pl_weight 2, style mixing 0.9, lazy regularisation, fp16 in the top 4 resolutions,
conv_clamp 256) stays as in config F.
"""

from dataclasses import dataclass

from gan_zoo.layers.resample import resolution_log2


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at a resolution: min(channel_base // res, channel_max) (config F: 32768, 512)."""
    return min(channel_base // resolution, channel_max)


def fp16_resolution(resolution: int, num_fp16_res: int) -> int:
    """Lowest resolution run in reduced precision: the top `num_fp16_res` ones, never below 8×8."""
    return max(2 ** (resolution_log2(resolution) + 1 - num_fp16_res), 8)


@dataclass(frozen=True)
class AutoHyperparameters:
    batch_size: int  # global images per step
    mbstd_group_size: int
    channel_base: int
    lr: float
    r1_gamma: float
    ema_kimg: float
    ema_rampup: float
    mapping_layers: int


def auto_hyperparameters(resolution: int, gpus: int) -> AutoHyperparameters:
    if resolution < 4 or gpus < 1:
        raise ValueError(f"auto hyperparameters need resolution >= 4 and gpus >= 1, got {resolution} and {gpus}")
    batch = max(min(gpus * min(4096 // resolution, 32), 64), gpus)
    return AutoHyperparameters(
        batch_size=batch,
        mbstd_group_size=min(batch // gpus, 4),
        channel_base=32768 if resolution >= 512 else 16384,
        lr=0.002 if resolution >= 1024 else 0.0025,
        r1_gamma=0.0002 * resolution**2 / batch,
        ema_kimg=batch * 10 / 32,
        ema_rampup=0.05,
        mapping_layers=2,
    )
