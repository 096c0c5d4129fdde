"""gan-zoo: faithful GAN re-implementations as Lightning modules in one Hydra config tree."""

__version__ = "0.1.0"
