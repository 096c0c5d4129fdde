"""The StarGAN v2 generator: an encoder of ResBlks and a decoder of AdaIN ResBlks (clovaai/stargan-v2 `core/model.py`).

The encoder halves the resolution log2(img_size) − 4 times (one more for the face models, w_hpf > 0;
`downsamplings` overrides it, e.g. for small images, where the official count leaves a bottleneck too
fine to change shapes) while doubling channels up to `max_conv_dim`, then two more blocks keep the size; the decoder
mirrors it, each block styled by s. With w_hpf > 0 the decoder blocks output their residual alone
and, wherever a decoder block's output is 32, 64 or 128 px wide (absolute sizes, as in
clovaai/stargan-v2 `core/model.py` Generator.forward, whatever the image size), the encoder's features
at that size pass through a high-pass filter, masked by the landmark network's face masks, and are
added back: at 256 px that is 1/8, 1/4 and 1/2 of the image; a 64 px generator has skips at 32 and
64 only, a 512 px one none at 256.
"""

import math
from typing import NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.models.stargan_v2.blocks import AdainResBlk, HighPass, ResBlk

# Feature sizes (px, absolute) where the masked high-pass skips join the decoder, as the official
# generator hard-codes them; the first face mask gates the 32 px skip, the second the others.
SKIP_SIZES = (32, 64, 128)
FIRST_MASK_SIZE = 32


def first_channels(img_size: int, channel_base: int) -> int:
    """Channels after from_rgb: channel_base // img_size (official 2**14 // img_size = 64 at 256 px)."""
    return max(channel_base // img_size, 1)


class Generator(nn.Module):
    def __init__(
        self,
        img_size: int = 256,  # image side (power of two >= 16)
        style_dim: int = 64,  # size of the style code s
        max_conv_dim: int = 512,  # channel cap
        w_hpf: float = 1,  # > 0: high-pass skip path with landmark masks (faces); 0: plain shortcuts
        channel_base: int = 2**14,  # channels after from_rgb = channel_base // img_size
        channels: int = 3,  # image channels
        downsamplings: int | None = None,  # encoder halvings; None: official log2(img_size) − 4 (+1 with w_hpf)
    ) -> None:
        super().__init__()
        if img_size < 16 or img_size & (img_size - 1):
            raise ValueError(f"the StarGAN v2 generator needs a power-of-two image size >= 16, got {img_size}")
        self.img_size, self.style_dim, self.w_hpf = img_size, style_dim, w_hpf
        dim_in = first_channels(img_size, channel_base)
        self.from_rgb = nn.Conv2d(channels, dim_in, 3, 1, 1)
        self.encode = nn.ModuleList()
        self.decode = nn.ModuleList()
        self.to_rgb = nn.Sequential(nn.InstanceNorm2d(dim_in, affine=True), nn.LeakyReLU(0.2), nn.Conv2d(dim_in, channels, 1, 1, 0))
        if downsamplings is None:
            downsamplings = int(math.log2(img_size)) - 4 + (1 if w_hpf > 0 else 0)
        elif not 0 <= downsamplings <= int(math.log2(img_size)) - 1:
            raise ValueError(f"model.downsamplings={downsamplings}: a {img_size} px image can be halved 0..{int(math.log2(img_size)) - 1} times")
        dim_out = dim_in
        for _ in range(downsamplings):
            dim_out = min(dim_in * 2, max_conv_dim)
            self.encode.append(ResBlk(dim_in, dim_out, normalize=True, downsample=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_in, style_dim, w_hpf=w_hpf, upsample=True))
            dim_in = dim_out
        for _ in range(2):  # the bottleneck
            self.encode.append(ResBlk(dim_out, dim_out, normalize=True))
            self.decode.insert(0, AdainResBlk(dim_out, dim_out, style_dim, w_hpf=w_hpf))
        if w_hpf > 0:
            self.hpf = HighPass(w_hpf)

    def forward(
        self,
        x: "Tensor | SourceEncoding",  # [N, C, H, W] source images in [-1, 1], or their encoding from an earlier call
        s: Tensor,  # [N, style_dim] style codes
        masks: tuple[Tensor, Tensor] | None = None,  # face masks [N, 1, h, w] (w_hpf > 0 only); None: no skip path
        return_encoding: bool = False,  # also return the sources' encoding, to decode other styles of them later
    ) -> "Tensor | tuple[Tensor, SourceEncoding]":
        """The translated images. The encoder does not see the style: one encoding of a source serves
        every style of it (the training iteration decodes up to four styles of the same sources with
        the same weights), so a SourceEncoding may stand in for the images."""
        if masks is not None and self.w_hpf <= 0:
            raise ValueError("face masks were given to a generator built with w_hpf=0, which has no high-pass skip path")
        encoding = x if isinstance(x, SourceEncoding) else self.encode_source(x, masks)
        if s.shape != (encoding.features.shape[0], self.style_dim):
            raise ValueError(f"G expects styles [{encoding.features.shape[0]}, {self.style_dim}], got {list(s.shape)}")
        x = encoding.features
        for block in self.decode:
            x = block(x, s)
            size = x.shape[-1]
            if masks is not None and size in SKIP_SIZES:
                mask = masks[0] if size == FIRST_MASK_SIZE else masks[1]
                mask = F.interpolate(mask, size=size, mode="bilinear")  # align_corners=False, as the official
                if size not in encoding.skips:
                    raise ValueError("face masks were given with a source encoding made without them: encode the sources with the same masks")
                x = x + self.hpf(mask * encoding.skips[size])
        images = self.to_rgb(x)
        return (images, encoding) if return_encoding else images

    def encode_source(self, x: Tensor, masks: tuple[Tensor, Tensor] | None = None) -> "SourceEncoding":
        """The encoder's half of forward (keeping the skip features when `masks` are given)."""
        if x.shape[-1] != self.img_size:
            raise ValueError(f"G expects images [N, C, {self.img_size}, {self.img_size}], got {list(x.shape)}")
        x = self.from_rgb(x)
        skips = {}
        for block in self.encode:
            # Each block's input is kept (the last one's output never is); without downsamplings
            # the same size repeats and the last input at that size wins, as in the official code.
            if masks is not None and x.shape[-1] in SKIP_SIZES:
                skips[x.shape[-1]] = x
            x = block(x)
        return SourceEncoding(x, skips)


class SourceEncoding(NamedTuple):
    """What the encoder makes of source images: the bottleneck features and, for the high-pass path
    (w_hpf > 0 with face masks), the encoder's features at each skip size."""

    features: Tensor  # [N, C, h, w]
    skips: dict[int, Tensor]  # size in px -> [N, C, size, size]; empty without masks

    def detach(self) -> "SourceEncoding":
        """The same values without the graph: for decoding under no_grad what a graph was built for."""
        return SourceEncoding(self.features.detach(), {size: f.detach() for size, f in self.skips.items()})
