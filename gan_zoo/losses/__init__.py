"""Per-sample GAN loss terms; the Lightning modules weight, sum and average them."""

from gan_zoo.losses.auxiliary_classifier import auxiliary_classifier_loss
from gan_zoo.losses.logistic import logistic_discriminator_loss, logistic_generator_loss
from gan_zoo.losses.path_length import path_length_penalty, path_lengths, running_path_length_penalty
from gan_zoo.losses.r1 import r1_of, r1_penalty
from gan_zoo.losses.wgan_gp import drift_penalty, gradient_penalty, wgan_discriminator_loss, wgan_generator_loss

__all__ = [
    "auxiliary_classifier_loss",
    "drift_penalty",
    "gradient_penalty",
    "logistic_discriminator_loss",
    "logistic_generator_loss",
    "path_length_penalty",
    "path_lengths",
    "r1_of",
    "r1_penalty",
    "running_path_length_penalty",
    "wgan_discriminator_loss",
    "wgan_generator_loss",
]
