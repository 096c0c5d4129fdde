"""StarGAN v2 (Choi et al. 2020): multi-domain image-to-image translation with latent- and
reference-guided styles. Facts: the paper and clovaai/stargan-v2; the official code is not copied (non-commercial licence)."""
