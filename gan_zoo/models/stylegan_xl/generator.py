"""StyleGAN-XL generator: mapping network + StyleGAN3-T synthesis network (StyleGAN-XL §3).

`G.mapping(z, c, ...)` gives ws [N, num_ws, w_dim] and `G.synthesis(ws)` the images; `G(z, c)` chains
them. This class builds the stem (the first, low-resolution stage); `superres.grow_generator` turns
a trained stage into the next one at twice the resolution, and `superres.build_generator` builds
any stage from the configuration alone.
"""

from typing import Any

import torch
from torch import nn

from gan_zoo.models.stylegan3.synthesis import SynthesisNetwork
from gan_zoo.models.stylegan_xl.mapping import MappingNetwork


class StyleGANXLGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int = 64,  # latent size
        c_dim: int = 0,  # one-hot label size; 0: unconditional
        w_dim: int = 512,  # style size
        img_resolution: int = 16,  # output side of this stage (the paper's ImageNet stem: 16)
        img_channels: int = 3,  # output channels
        mapping_kwargs: dict[str, Any] | None = None,  # MappingNetwork options: num_layers, lr_multiplier, w_avg_beta, ...
        channel_base: int = 65536,  # synthesis width = channel_base/2 / cutoff (StyleGAN-XL: 2× StyleGAN3)
        channel_max: int = 1024,  # cap on any synthesis layer's width
        num_layers: int = 10,  # synthesis layers before ToRGB (paper's stem 10; official train.py default 14)
        conv_kernel: int = 3,  # synthesis kernel side
        magnitude_ema_beta: float = 0.999,  # decay of the layers' input RMS averages (official train.py: 0.5**(batch/20000))
        num_fp16_res: int = 4,  # layers at sampling rates above img_resolution / 2**num_fp16_res run in bf16/fp16 on CUDA
        conv_clamp: float | None = 256,  # clamp every synthesis layer's output to ±conv_clamp; None: no clamp
        rand_embedding: bool = False,  # True: random class embedding instead of the pretrained file (must be asked for)
        embedding_path: str | None = None,  # torch.save'd [1000, 320] pretrained class embedding (conditional stems)
        num_critical: int = 2,  # critically sampled layers before ToRGB
        first_cutoff: float = 2,  # cutoff of the Fourier features, cycles per image side
        first_stopband: float = 2**2.1,  # minimum stopband of the first layer
        last_stopband_rel: float = 2**0.3,  # minimum stopband of the last layers relative to their cutoff
        margin_size: int = 10,  # samples of border around the image in the non-critical layers
        output_scale: float = 0.25,  # image = ToRGB output × output_scale
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        # Synthesis first, then mapping: the official construction order (same random draws for a seed).
        self.synthesis = SynthesisNetwork(
            w_dim,
            img_resolution,
            img_channels,
            channel_base=channel_base,
            channel_max=channel_max,
            num_layers=num_layers,
            num_critical=num_critical,
            first_cutoff=first_cutoff,
            first_stopband=first_stopband,
            last_stopband_rel=last_stopband_rel,
            margin_size=margin_size,
            output_scale=output_scale,
            num_fp16_res=num_fp16_res,
            conv_kernel=conv_kernel,
            conv_clamp=conv_clamp,
            magnitude_ema_beta=magnitude_ema_beta,
        )
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws, rand_embedding=rand_embedding, embedding_path=embedding_path, **(mapping_kwargs or {}))

    @property
    def head_layer_names(self) -> list[str]:
        """Synthesis layers added by the last super-resolution step (empty for a stem)."""
        return self.synthesis.head_layer_names

    def forward(
        self,
        z: torch.Tensor,  # [N, z_dim]
        c: torch.Tensor | None = None,  # [N, c_dim] one-hot; None when unconditional
        truncation_psi: float = 1.0,  # 1: no truncation
        truncation_cutoff: int | None = None,  # truncate the first ws only; None: all
        update_emas: bool = False,  # update w_avg and the layers' magnitude averages
    ) -> torch.Tensor:
        """Images [N, img_channels, img_resolution, img_resolution], roughly in [-1, 1]."""
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, update_emas=update_emas)
        return self.synthesis(ws, update_emas=update_emas)
