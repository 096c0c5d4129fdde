"""SPADEResnetBlock (NVlabs/SPADE `models/networks/architecture.py`): two SPADE -> lrelu -> 3x3 conv
stages and a shortcut that is learned (SPADE -> 1x1 conv, no bias) when the channel count changes."""

import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.layers.spade_norm import SPADE
from gan_zoo.models.spade.spectral import maybe_spectral


class SPADEResnetBlock(nn.Module):
    def __init__(
        self,
        fin: int,  # input channels
        fout: int,  # output channels
        semantic_nc: int,  # channels of the semantic input the SPADE layers read
        spectral: bool = True,  # spectral norm on conv_0, conv_1, conv_s (official 'spectral...')
        norm: str = "syncbatch",  # SPADE's param-free norm: syncbatch | batch | instance
        spade_hidden: int = 128,  # channels of SPADE's shared conv
        spade_kernel: int = 3,  # kernel of SPADE's convs
    ) -> None:
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        # Registered in the official order (convs, then norms), so the state dict lists its keys as the official one does.
        self.conv_0 = maybe_spectral(nn.Conv2d(fin, fmiddle, 3, padding=1), spectral)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmiddle, fout, 3, padding=1), spectral)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, bias=False), spectral)
        spade = {"label_nc": semantic_nc, "hidden": spade_hidden, "kernel_size": spade_kernel, "norm": norm}
        self.norm_0 = SPADE(fin, **spade)
        self.norm_1 = SPADE(fmiddle, **spade)
        if self.learned_shortcut:
            self.norm_s = SPADE(fin, **spade)

    def forward(self, x: Tensor, seg: Tensor) -> Tensor:
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 0.2))
        return x_s + dx
