"""Style mixing (StyleGAN §3.1, StyleGAN2 ADA `training/loss.py`): the crossover of two latents'
per-layer styles, used by the StyleGAN v1 and StyleGAN2/3 training steps, and the draw of the crossover
layer: with probability `prob` a training minibatch picks one crossover index in [1, num_ws) for the
whole batch (as the official code does) and uses the second latent's styles from there on."""

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


def draw_cutoff(num_ws: int, prob: float) -> int:
    """The crossover index: uniform in [1, num_ws) with probability `prob`, else num_ws (no mixing).

    Both numbers are drawn every time from torch's CPU generator, so the random stream advances the
    same way whether or not the batch mixes, and equally on every DDP rank.
    """
    cutoff = int(torch.randint(1, max(num_ws, 2), ()))
    mix = float(torch.rand(())) < prob
    return cutoff if mix and num_ws > 1 else num_ws
