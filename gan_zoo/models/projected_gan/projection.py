"""Random projections of the trunk's features (Sauer et al. 2021 §3.2), frozen at init.

CCM (cross-channel mixing): a random 1x1 convolution per map, widening them to cout·(1, 2, 4, 8).
CSM (cross-scale mixing): a bottom-up feature pyramid; from the coarsest map up, each step adds the
coarser mixed result, upsamples x2 and mixes channels with a random 1x1 convolution. The output
maps are therefore twice the trunk's resolution. Random and never trained: the paper finds fixed
random projections keep the pretrained features from being "forgotten" by the discriminator.
Official code: autonomousvision/projected-gan `pg_modules/projector.py` (`_make_scratch_ccm`, `_make_scratch_csm`,
`F_RandomProj`); StyleGAN-XL's copy is autonomousvision/stylegan-xl `pg_modules/projector.py`.
"""

import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.models.projected_gan.backbones import FrozenModule, run_shape_probe


class FeatureFusionBlock(nn.Module):
    """One CSM step: (x + skip) -> bilinear x2 (align_corners=True, as DPT's) -> 1x1 conv."""

    def __init__(
        self,
        channels: int,  # channels of x (and of the skip map)
        out_channels: int,  # channels after the 1x1 mixing conv
    ) -> None:
        super().__init__()
        self.out_conv = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: Tensor, skip: Tensor | None = None) -> Tensor:
        if skip is not None:
            x = x + skip
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        return self.out_conv(x)


class RandomProjection(nn.Module):
    """CCM + CSM (the official `scratch`): four trunk maps -> four mixed maps at twice their resolution."""

    def __init__(
        self,
        in_channels: tuple[int, int, int, int],  # the trunk's channels, finest map first
        cout: int = 64,  # CCM width of the finest map
        expand: bool = True,  # widen coarser maps to cout·(2, 4, 8); False: all cout
    ) -> None:
        super().__init__()
        mixed = [cout, cout * 2, cout * 4, cout * 8] if expand else [cout] * 4
        for i in range(4):
            setattr(self, f"layer{i}_ccm", nn.Conv2d(in_channels[i], mixed[i], 1))
        for i in (3, 2, 1, 0):
            # The finest step keeps its width: halving it would leave too few channels at the largest map.
            out = mixed[i] // 2 if expand and i > 0 else mixed[i]
            setattr(self, f"layer{i}_csm", FeatureFusionBlock(mixed[i], out))
        self.out_channels = (cout, cout, cout * 2, cout * 4) if expand else (cout,) * 4

    def forward(self, maps: list[Tensor]) -> list[Tensor]:
        ccm = [getattr(self, f"layer{i}_ccm")(m) for i, m in enumerate(maps)]
        out3 = self.layer3_csm(ccm[3])
        out2 = self.layer2_csm(out3, ccm[2])
        out1 = self.layer1_csm(out2, ccm[1])
        out0 = self.layer0_csm(out1, ccm[0])
        return [out0, out1, out2, out3]


class FeatureProjector(FrozenModule):
    """Frozen trunk (`pretrained`) + frozen random CCM/CSM (`scratch`): image -> four maps, finest first."""

    # The official code sizes the mini-discriminators as for a 256 px input whatever the data set's
    # resolution ("best results are achieved by fixing this to 256"): trunk strides 4..32, CSM x2.
    NOMINAL_RESOLUTIONS = (128, 64, 32, 16)

    def __init__(
        self,
        trunk: nn.Module,  # EfficientNetTrunk or ViTTrunk (has .spec)
        cout: int = 64,  # CCM width of the finest map
        expand: bool = True,  # widen coarser maps (see RandomProjection)
        probe_resolution: int | None = 224,  # side of the official zero-image pass (backbones.run_shape_probe); None: none
    ) -> None:
        super().__init__()
        if probe_resolution is not None:
            # Before the random projections are created, as in the official `_make_projector`.
            run_shape_probe(trunk, probe_resolution)
        self.pretrained = trunk
        self.scratch = RandomProjection(trunk.spec.channels, cout, expand)
        self.out_channels = self.scratch.out_channels
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: Tensor) -> list[Tensor]:
        return self.scratch(self.pretrained(x))
