"""Per-sample GAN loss terms; the Lightning modules weight, sum and average them."""

from gan_zoo.losses.auxiliary_classifier import auxiliary_classifier_loss
from gan_zoo.losses.wgan_gp import drift_penalty, gradient_penalty, wgan_discriminator_loss, wgan_generator_loss

__all__ = [
    "auxiliary_classifier_loss",
    "drift_penalty",
    "gradient_penalty",
    "wgan_discriminator_loss",
    "wgan_generator_loss",
]
