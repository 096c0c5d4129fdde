"""FastGAN generator as Projected GAN trains it (`--cfg fastgan` / `fastgan_lite` of its `train.py`).

z is normalised to unit second moment, turned into 4x4 features, then doubled in resolution by one
up-block per octave. Skip-layer excitation gates the 64, 128, 256 and 512 px features with those of
16x lower resolution (4 -> 64, 8 -> 128, 16 -> 256, 32 -> 512). Channels per resolution are
`ngf` times {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 1/2, 512: 1/4, 1024: 1/8}.

As in the official code, the output is the last conv's, with no tanh: it learns the [-1, 1] range
of the real images but is not clamped. The init is PyTorch's default, as official; at 256 px and
above the layers are created in the official order, so that a torch seed can draw the same weights.

State-dict names are the official `G`'s (`synthesis.init.init.0.weight_orig`, `synthesis.feat_8.1.*`,
`synthesis.se_64.main.1.*`, `synthesis.to_big.*`; the official mapping network is an identity with
no parameters). The official synthesis (autonomousvision/projected-gan `pg_modules/networks_fastgan.py`,
`FastganSynthesis` and `FastganSynthesisCond`) always builds the up-blocks to `feat_256` and the
excitation blocks to `se_256`, whatever the resolution, and below 256 px never runs those above it
(`feat_256` and `se_256` at 128 px). gan-zoo builds them too, frozen and never run, so that parameter
counts and state-dict keys are the official ones at every resolution and official checkpoints load
key for key; no optimizer holds them and they keep their initial values. Below 128 px gan-zoo goes
beyond the official code, which only renders 128 to 1024: the chain simply stops at the requested
resolution (tiny CPU variants). The official conditional model fails to build above 256 px (its 512
and 1024 px blocks lack the embedding size); gan-zoo builds them like the others.
"""

from torch import Tensor, nn

from gan_zoo.models.projected_gan.blocks import (
    CondUpBlockBig,
    CondUpBlockSmall,
    InitLayer,
    SEBlock,
    UpBlock,
    sn_conv,
)

CHANNEL_MULTIPLIERS = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125}
SE_RESOLUTIONS = (64, 128, 256, 512)  # each gated by the features at 1/16 of its side
ALWAYS_BUILT = 256  # the official synthesis builds its up- and excitation blocks up to here at every resolution
OFFICIAL_NUM_CLASSES = 1000  # rows of the official label embedding, whatever the data set's c_dim


def normalize_second_moment(x: Tensor, eps: float = 1e-8) -> Tensor:
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class FastGANSynthesis(nn.Module):
    """Official `FastganSynthesis` (c_dim = 0) and `FastganSynthesisCond` (c_dim > 0) in one class."""

    def __init__(
        self,
        z_dim: int = 256,  # latent size
        ngf: int = 128,  # channel multiplier (the 128 px feature maps have ngf channels)
        img_resolution: int = 256,  # output side: a power of two from 8 to 1024 (official: 128 to 1024)
        img_channels: int = 3,  # output channels
        lite: bool = False,  # True: one conv per up-block, no noise (`--cfg fastgan_lite`)
        cond: bool = False,  # class-conditional batch norm in every up-block, fed by a label embedding
        num_classes: int = OFFICIAL_NUM_CLASSES,  # rows of the label embedding (cond only)
    ) -> None:
        super().__init__()
        if img_resolution not in CHANNEL_MULTIPLIERS or img_resolution < 8:
            raise ValueError(f"img_resolution must be a power of two from 8 to 1024, got {img_resolution}")
        top = max(img_resolution, ALWAYS_BUILT)
        nfc = {res: int(mult * ngf) for res, mult in CHANNEL_MULTIPLIERS.items() if res <= top}
        if min(nfc.values()) < 1:
            min_ngf = int(1 / CHANNEL_MULTIPLIERS[top])
            raise ValueError(f"ngf={ngf} leaves no channels at {top} px; use ngf >= {min_ngf}")
        self.z_dim, self.img_resolution, self.cond = z_dim, img_resolution, cond
        self.resolutions = [res for res in nfc if 8 <= res <= img_resolution]  # the up-blocks forward runs

        self.init = InitLayer(z_dim, nfc[4])
        # The official creation order (blocks to 256, SE blocks to 256, to_big, then the 512 and 1024
        # layers) makes a seeded init match theirs.
        for res in [r for r in nfc if 8 <= r <= ALWAYS_BUILT]:
            self.add_module(f"feat_{res}", self._up_block(nfc[res // 2], nfc[res], lite, cond, z_dim))
        for res in [r for r in SE_RESOLUTIONS if r <= ALWAYS_BUILT]:
            self.add_module(f"se_{res}", SEBlock(nfc[res // 16], nfc[res]))
        self.to_big = sn_conv(nfc[img_resolution], img_channels, 3, padding=1, bias=True)
        for res in [r for r in self.resolutions if r > ALWAYS_BUILT]:
            self.add_module(f"feat_{res}", self._up_block(nfc[res // 2], nfc[res], lite, cond, z_dim))
            if res in SE_RESOLUTIONS:
                self.add_module(f"se_{res}", SEBlock(nfc[res // 16], nfc[res]))
        if cond:
            self.embed = nn.Embedding(num_classes, z_dim)
        # Built only because the official code builds them (see the module docstring): frozen, so
        # that no optimizer holds them and they are not counted as trainable.
        self.unused_layers = [f"feat_{r}" for r in nfc if img_resolution < r <= ALWAYS_BUILT]
        self.unused_layers += [f"se_{r}" for r in SE_RESOLUTIONS if img_resolution < r <= ALWAYS_BUILT]
        for name in self.unused_layers:
            getattr(self, name).requires_grad_(False)

    @staticmethod
    def _up_block(in_channels: int, out_channels: int, lite: bool, cond: bool, embed_dim: int) -> nn.Module:
        if cond:
            block = CondUpBlockSmall if lite else CondUpBlockBig
            return block(in_channels, out_channels, embed_dim)
        return UpBlock(in_channels, out_channels, big=not lite)

    def forward(
        self,
        z: Tensor,  # [N, z_dim]
        labels: Tensor | None = None,  # [N] class indices (cond only)
        noise_mode: str = "random",  # 'random' (official) or 'none' (no noise: deterministic output)
    ) -> Tensor:
        e = self.embed(labels) if self.cond else None
        x = self.init(normalize_second_moment(z))
        excitation_sources = {4: x}
        for res in self.resolutions:
            x = getattr(self, f"feat_{res}")(x, e, noise_mode)
            if res in SE_RESOLUTIONS:
                x = getattr(self, f"se_{res}")(excitation_sources[res // 16], x)
            if res * 16 in SE_RESOLUTIONS:
                excitation_sources[res] = x
        return self.to_big(x)


class FastGANGenerator(nn.Module):
    """Projected GAN's FastGAN `Generator`: G(z, c) -> images [N, img_channels, R, R], nominally in [-1, 1]."""

    def __init__(
        self,
        z_dim: int = 256,  # latent size
        ngf: int = 128,  # channel multiplier (official 128; small values build tiny CPU variants)
        img_resolution: int = 256,  # output side: a power of two from 8 to 1024 (official: 128 to 1024)
        img_channels: int = 3,  # output channels
        lite: bool = False,  # True: `--cfg fastgan_lite` (one conv per up-block, no noise)
        c_dim: int = 0,  # one-hot label size; 0: unconditional
        num_classes: int = OFFICIAL_NUM_CLASSES,  # rows of the label embedding, >= c_dim (official: 1000 always)
    ) -> None:
        super().__init__()
        if c_dim < 0 or c_dim > num_classes:
            raise ValueError(f"c_dim must be from 0 to num_classes={num_classes}, got {c_dim}")
        self.z_dim, self.c_dim, self.img_resolution, self.img_channels = z_dim, c_dim, img_resolution, img_channels
        self.synthesis = FastGANSynthesis(z_dim, ngf, img_resolution, img_channels, lite=lite, cond=c_dim > 0, num_classes=num_classes)

    def forward(
        self,
        z: Tensor,  # [N, z_dim]
        c: Tensor | None = None,  # [N, c_dim] one-hot; None (or [N, 0]) when unconditional
        noise_mode: str = "random",  # 'random' (official) or 'none' (full variant only: drop the noise)
    ) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be [N, {self.z_dim}], got {list(z.shape)}")
        labels = None
        if self.c_dim:
            if c is None or c.shape != (z.shape[0], self.c_dim):
                got = None if c is None else list(c.shape)
                raise ValueError(f"c must be one-hot labels [{z.shape[0]}, {self.c_dim}], got {got}")
            labels = c.argmax(dim=1)  # as the official code: the embedding is indexed by the label
        elif c is not None and c.numel():
            raise ValueError("this FastGAN generator is unconditional (c_dim=0) but labels were given")
        img = self.synthesis(z, labels, noise_mode)
        assert img.shape == (z.shape[0], self.img_channels, self.img_resolution, self.img_resolution)
        return img
