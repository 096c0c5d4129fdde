"""KL divergence of the VAE encoder's posterior N(mu, exp(logvar)) from N(0, 1), summed over the
batch and latent dimensions as SPADE's KLDLoss does (SPECS.md §4.6; weighted 0.05 by the caller)."""

from torch import Tensor


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """-0.5 * sum(1 + logvar - mu^2 - exp(logvar)) over every element."""
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum()
