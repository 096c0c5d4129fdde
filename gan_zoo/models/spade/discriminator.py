"""MultiscaleDiscriminator (NVlabs/SPADE `models/networks/discriminator.py`): `num_D` PatchGAN
discriminators on the image concatenated with the semantic input, each scale on an average-pooled
(3x3, stride 2) copy of the previous one. Every discriminator returns all its layers' outputs: the
last is the patch score map, the others feed the feature-matching loss."""

import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.models.spade.blocks import maybe_spectral


class NLayerDiscriminator(nn.Module):
    def __init__(
        self,
        input_nc: int,  # image channels + semantic channels
        ndf: int = 64,  # channels of the first layer, doubled per layer up to 512
        n_layers: int = 4,  # conv layers before the 1-channel output (the last of them has stride 1)
        spectral: bool = True,  # spectral norm on the normalised layers (official 'spectralinstance')
    ) -> None:
        super().__init__()
        kw, padw = 4, 2
        self.n_layers = n_layers
        self.model0 = nn.Sequential(nn.Conv2d(input_nc, ndf, kw, stride=2, padding=padw), nn.LeakyReLU(0.2))
        nf = ndf
        for n in range(1, n_layers):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == n_layers - 1 else 2
            # Instance norm follows, so the conv's bias would be cancelled: the official code removes it.
            conv = maybe_spectral(nn.Conv2d(nf_prev, nf, kw, stride=stride, padding=padw, bias=False), spectral)
            setattr(self, f"model{n}", nn.Sequential(nn.Sequential(conv, nn.InstanceNorm2d(nf, affine=False)), nn.LeakyReLU(0.2)))
        setattr(self, f"model{n_layers}", nn.Sequential(nn.Conv2d(nf, 1, kw, stride=1, padding=padw)))

    def forward(self, x: Tensor) -> list[Tensor]:
        outputs = []
        for n in range(self.n_layers + 1):
            x = getattr(self, f"model{n}")(x)
            outputs.append(x)
        return outputs


class MultiscaleDiscriminator(nn.Module):
    def __init__(
        self,
        input_nc: int,  # image channels + semantic channels
        num_D: int = 2,  # scales
        ndf: int = 64,  # first-layer channels of each scale
        n_layers: int = 4,  # conv layers per scale
        spectral: bool = True,  # spectral norm in the normalised layers
    ) -> None:
        super().__init__()
        self.input_nc, self.num_D = input_nc, num_D
        for i in range(num_D):
            self.add_module(f"discriminator_{i}", NLayerDiscriminator(input_nc, ndf, n_layers, spectral))

    def forward(self, x: Tensor) -> list[list[Tensor]]:
        """x: [N, input_nc, H, W] -> per scale, the outputs of every layer (last: patch scores)."""
        assert x.shape[1] == self.input_nc, f"discriminator input has {x.shape[1]} channels, expected {self.input_nc}"
        results = []
        for i in range(self.num_D):
            results.append(getattr(self, f"discriminator_{i}")(x))
            x = F.avg_pool2d(x, kernel_size=3, stride=2, padding=1, count_include_pad=False)
        return results
