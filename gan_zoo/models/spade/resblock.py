"""SPADEResnetBlock (NVlabs/SPADE `models/networks/architecture.py`): two SPADE -> lrelu -> 3x3 conv
stages and a shortcut that is learned (SPADE -> 1x1 conv, no bias) when the channel count changes."""

import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.layers.spade_norm import SPADE, shared_activations
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
        self.conv_0 = maybe_spectral(nn.Conv2d(fin, fmiddle, 3, padding=1), spectral, fused_backward=True)
        self.conv_1 = maybe_spectral(nn.Conv2d(fmiddle, fout, 3, padding=1), spectral, fused_backward=True)
        if self.learned_shortcut:
            self.conv_s = maybe_spectral(nn.Conv2d(fin, fout, 1, bias=False), spectral, fused_backward=True)
        spade = {"label_nc": semantic_nc, "hidden": spade_hidden, "kernel_size": spade_kernel, "norm": norm}
        self.norm_0 = SPADE(fin, **spade)
        self.norm_1 = SPADE(fmiddle, **spade)
        if self.learned_shortcut:
            self.norm_s = SPADE(fin, **spade)

    def forward(self, x: Tensor, seg: Tensor) -> Tensor:
        """x: [N, fin, H, W]; seg: the semantic input at (H, W) or any other size (resized nearest)."""
        if seg.shape[2:] != x.shape[2:]:
            seg = F.interpolate(seg, size=x.shape[2:], mode="nearest")
        # Every SPADE of the block reads the label map at x's size: their shared convs run as one.
        if self.learned_shortcut:
            actv_s, actv_0, actv_1 = shared_activations([self.norm_s, self.norm_0, self.norm_1], seg)
            x_s = self.conv_s(self.norm_s.modulate(x, actv_s))
        else:
            (actv_0, actv_1), x_s = shared_activations([self.norm_0, self.norm_1], seg), x
        dx = self.conv_0(F.leaky_relu(self.norm_0.modulate(x, actv_0), 0.2))
        dx = self.conv_1(F.leaky_relu(self.norm_1.modulate(dx, actv_1), 0.2))
        return x_s + dx
