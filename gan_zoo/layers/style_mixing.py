"""Style mixing (StyleGAN §3.1, StyleGAN2 ADA `training/loss.py`): the crossover of two latents'
per-layer styles, used by the StyleGAN v1 and StyleGAN2/3 training steps."""

import torch


def crossover_styles(ws: torch.Tensor, ws_other: torch.Tensor, cutoff: int | torch.Tensor) -> torch.Tensor:
    """Styles 0 .. cutoff-1 from ws, cutoff .. num_ws-1 from ws_other (both [N, num_ws, w_dim]).

    `cutoff` may be a 0-d tensor, so a training step can draw it on the device without a sync.
    """
    if ws.shape != ws_other.shape or ws.ndim != 3:
        raise ValueError(f"ws and ws_other must both be [N, num_ws, w_dim]; got {list(ws.shape)} and {list(ws_other.shape)}")
    if isinstance(cutoff, int) and not 0 <= cutoff <= ws.shape[1]:
        raise ValueError(f"the crossover layer must lie in [0, {ws.shape[1]}], got {cutoff}")
    layers = torch.arange(ws.shape[1], device=ws.device).reshape(1, -1, 1)
    return torch.where(layers < cutoff, ws, ws_other)
