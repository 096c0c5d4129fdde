"""SPADEGenerator (NVlabs/SPADE `models/networks/generator.py`): from a downsampled label map (or z
through a linear layer, VAE models) at crop / 2^n_up, SPADE ResBlks and nearest x2 upsampling up to
the image size."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.layers.resample import interpolate_nearest2x
from gan_zoo.models.spade.blocks import SPADEResnetBlock

UPSAMPLING_LAYERS = {"normal": 5, "more": 6, "most": 7}  # n_up: number of x2 upsamplings


def start_size(crop_size: int, aspect_ratio: float, num_upsampling_layers: str) -> tuple[int, int]:
    """(sh, sw) of the first feature map: sw = crop / 2^n_up, sh = round(sw / aspect_ratio)."""
    if num_upsampling_layers not in UPSAMPLING_LAYERS:
        raise ValueError(f"num_upsampling_layers={num_upsampling_layers!r} is not one of {', '.join(UPSAMPLING_LAYERS)}")
    sw = crop_size // 2 ** UPSAMPLING_LAYERS[num_upsampling_layers]
    sh = round(sw / aspect_ratio)
    if sw < 1 or sh < 1:
        raise ValueError(
            f"a {crop_size} px wide image with aspect ratio {aspect_ratio} is too small for num_upsampling_layers="
            f"{num_upsampling_layers} ({2 ** UPSAMPLING_LAYERS[num_upsampling_layers]}x upsampling)"
        )
    return sh, sw


class SPADEGenerator(nn.Module):
    def __init__(
        self,
        semantic_nc: int,  # input channels: one-hot labels (+ dontcare) (+ instance edges)
        crop_size: int,  # image width in px
        aspect_ratio: float = 1.0,  # width / height (Cityscapes 2.0)
        ngf: int = 64,  # base channel count nf: 16nf at the start, nf at the end
        num_upsampling_layers: str = "normal",  # normal (5 x2 steps), more (6), most (7)
        use_vae: bool = False,  # true: the start is Linear(z) instead of a conv on the label map
        z_dim: int = 256,  # latent size of VAE models
        output_nc: int = 3,  # image channels
        spectral: bool = True,  # spectral norm in the ResBlks
        norm: str = "syncbatch",  # SPADE's param-free norm
        spade_hidden: int = 128,  # SPADE's shared conv channels
        spade_kernel: int = 3,  # SPADE's conv kernel
    ) -> None:
        super().__init__()
        self.semantic_nc, self.use_vae, self.z_dim = semantic_nc, use_vae, z_dim
        self.num_upsampling_layers = num_upsampling_layers
        self.sh, self.sw = start_size(crop_size, aspect_ratio, num_upsampling_layers)
        self.image_size = (self.sh * 2 ** UPSAMPLING_LAYERS[num_upsampling_layers], self.sw * 2 ** UPSAMPLING_LAYERS[num_upsampling_layers])
        nf = ngf
        if use_vae:
            self.fc = nn.Linear(z_dim, 16 * nf * self.sh * self.sw)
        else:
            self.fc = nn.Conv2d(semantic_nc, 16 * nf, 3, padding=1)
        block = {"semantic_nc": semantic_nc, "spectral": spectral, "norm": norm, "spade_hidden": spade_hidden, "spade_kernel": spade_kernel}
        self.head_0 = SPADEResnetBlock(16 * nf, 16 * nf, **block)
        self.G_middle_0 = SPADEResnetBlock(16 * nf, 16 * nf, **block)
        self.G_middle_1 = SPADEResnetBlock(16 * nf, 16 * nf, **block)
        self.up_0 = SPADEResnetBlock(16 * nf, 8 * nf, **block)
        self.up_1 = SPADEResnetBlock(8 * nf, 4 * nf, **block)
        self.up_2 = SPADEResnetBlock(4 * nf, 2 * nf, **block)
        self.up_3 = SPADEResnetBlock(2 * nf, 1 * nf, **block)
        final_nc = nf
        if num_upsampling_layers == "most":
            self.up_4 = SPADEResnetBlock(1 * nf, nf // 2, **block)
            final_nc = nf // 2
        self.conv_img = nn.Conv2d(final_nc, output_nc, 3, padding=1)

    def forward(self, seg: Tensor, z: Tensor | None = None) -> Tensor:
        """seg: [N, semantic_nc, H, W] at the image size; z: [N, z_dim] (VAE models; None: drawn N(0, 1))."""
        assert seg.shape[1:] == (self.semantic_nc, *self.image_size), (
            f"semantic input {list(seg.shape)} is not [N, {self.semantic_nc}, {self.image_size[0]}, {self.image_size[1]}]"
        )
        if self.use_vae:
            if z is None:
                z = torch.randn(seg.shape[0], self.z_dim, device=seg.device)
            x = self.fc(z).view(-1, self.fc.out_features // (self.sh * self.sw), self.sh, self.sw)
        else:
            x = self.fc(F.interpolate(seg, size=(self.sh, self.sw), mode="nearest"))
        x = self.head_0(x, seg)
        x = self._up(x)
        x = self.G_middle_0(x, seg)
        if self.num_upsampling_layers in ("more", "most"):
            x = self._up(x)
        x = self.G_middle_1(x, seg)
        for block in (self.up_0, self.up_1, self.up_2, self.up_3):
            x = block(self._up(x), seg)
        if self.num_upsampling_layers == "most":
            x = self.up_4(self._up(x), seg)
        return torch.tanh(self.conv_img(F.leaky_relu(x, 0.2)))

    @staticmethod
    def _up(x: Tensor) -> Tensor:
        return interpolate_nearest2x(x)  # F.interpolate(x, scale_factor=2, mode="nearest"), bit for bit, faster on CPU
