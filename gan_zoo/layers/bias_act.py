"""Bias, activation with its He gain, and clamping, in the order StyleGAN2 applies them.

`lrelu` is LeakyReLU(0.2)·√2 so that activations keep unit variance; an extra `gain` multiplies
that (√0.5 in residual branches). `clamp` bounds the result to ±clamp·gain, which is what lets the
top resolutions run in 16-bit precision without overflow (`conv_clamp` in StyleGAN2-ADA).
"""

import math

import torch
import torch.nn.functional as F

ACTIVATION_GAINS = {"linear": 1.0, "lrelu": math.sqrt(2.0)}


def bias_act(
    x: torch.Tensor,  # [N, C, ...]
    bias: torch.Tensor | None = None,  # [C], added along dim 1
    activation: str = "linear",  # "linear" or "lrelu"
    gain: float = 1.0,  # multiplies the activation's own gain
    clamp: float | None = None,  # None: no clamping; else clamp to ±clamp·gain
) -> torch.Tensor:
    if activation not in ACTIVATION_GAINS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATION_GAINS)}, got {activation!r}")
    if bias is not None:
        x = x + bias.to(x.dtype).reshape(1, -1, *([1] * (x.ndim - 2)))
    if activation == "lrelu":
        x = F.leaky_relu(x, 0.2)
    total_gain = ACTIVATION_GAINS[activation] * gain
    if total_gain != 1:
        x = x * total_gain
    if clamp is not None:
        x = x.clamp(-clamp * gain, clamp * gain)
    return x
