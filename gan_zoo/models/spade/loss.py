"""SPADE's own loss term: the KL divergence of the VAE encoder's posterior (NVlabs/SPADE
`models/networks/loss.py` KLDLoss). Its other terms are shared: gan_zoo.losses hinge, feature matching, VGG.
"""

from torch import Tensor


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """-0.5 * sum(1 + logvar - mu^2 - exp(logvar)) over every element: summed over the batch and latent
    dimensions as KLDLoss does; the caller weights it (SPADE's default `--lambda_kld` 0.05)."""
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum()
