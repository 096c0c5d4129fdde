"""Operations on per-layer styles ws [N, num_ws, w_dim]: the truncation trick (style mixing: gan_zoo.layers.style_mixing)."""

import torch


def truncate(ws: torch.Tensor, w_avg: torch.Tensor, psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
    """Pull the first `cutoff` styles (all when None) towards w_avg: w_avg + psi · (w - w_avg).

    psi = 1 returns ws itself (not a recomputed copy, so it is exactly the identity); psi = 0 gives w_avg.
    """
    if ws.ndim != 3 or w_avg.shape != ws.shape[2:]:
        raise ValueError(f"ws must be [N, num_ws, w_dim] and w_avg [w_dim]; got {list(ws.shape)} and {list(w_avg.shape)}")
    if psi == 1:
        return ws
    layers = torch.arange(ws.shape[1], device=ws.device).reshape(1, -1, 1)
    limit = ws.shape[1] if cutoff is None else cutoff
    coefs = torch.where(layers < limit, psi, 1.0).to(ws.dtype)
    return torch.lerp(w_avg.to(ws.dtype).expand_as(ws), ws, coefs)
