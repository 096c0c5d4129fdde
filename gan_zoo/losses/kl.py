"""KL divergence of the VAE encoder's posterior N(mu, exp(logvar)) from N(0, 1), summed over the
batch and latent dimensions as SPADE's KLDLoss does (NVlabs/SPADE `models/networks/loss.py`; weighted
0.05 by the caller, SPADE's default `--lambda_kld`)."""

from torch import Tensor


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """-0.5 * sum(1 + logvar - mu^2 - exp(logvar)) over every element."""
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum()
