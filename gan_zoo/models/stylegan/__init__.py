"""StyleGAN (v1): style-based generator with mapping network, AdaIN, noise inputs and progressive growing."""
