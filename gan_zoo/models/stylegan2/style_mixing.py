"""Style-mixing regularisation (StyleGAN §3.1): past a random layer, styles come from a second latent.

With probability `prob` a training minibatch picks one crossover index in [1, num_ws) for the whole
batch (as the official code does) and uses ws2 from there on; otherwise the cutoff is num_ws (no mix).
"""

import torch


def draw_cutoff(num_ws: int, prob: float) -> int:
    """The crossover index: uniform in [1, num_ws) with probability `prob`, else num_ws (no mixing).

    Both numbers are drawn every time from torch's CPU generator, so the random stream advances the
    same way whether or not the batch mixes, and equally on every DDP rank.
    """
    cutoff = int(torch.randint(1, max(num_ws, 2), ()))
    mix = float(torch.rand(())) < prob
    return cutoff if mix and num_ws > 1 else num_ws
