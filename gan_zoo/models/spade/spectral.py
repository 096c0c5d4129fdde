"""Spectral norm as the official code applies it: `torch.nn.utils.spectral_norm`, whose `weight_orig`
parameter and `weight_u`/`weight_v` buffers are the official state-dict names."""

from torch import nn
from torch.nn.utils import spectral_norm


def maybe_spectral(layer: nn.Module, enabled: bool) -> nn.Module:
    return spectral_norm(layer) if enabled else layer
