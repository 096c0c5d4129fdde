"""Projected GAN (Sauer et al. 2021) as a GANModule (autonomousvision/projected-gan `train.py`, `training/`).

Per minibatch, in the official order: G main (hinge `-D(G(z))`), then D main (hinge on reals and
fakes). The discriminator projects DiffAugmented images through a frozen EfficientNet-lite0 and
random frozen CCM/CSM mixing; only its four mini-discriminators train. There is no R1 and no path
length regularisation, but the official loop keeps `D_reg_interval = 16`, so D's Adam lr and betas
carry the lazy-regularisation correction 16/17 although the D reg phase does nothing; G has no reg
interval (uncorrected). The EMA half-life is batch·10/32 kimg with ramp-up 0.05.

Generators: FastGAN-lite (the paper's default), FastGAN, or the StyleGAN2 generator of its
`--cfg=stylegan2` (z 64, w 128, 2 mapping layers), which keeps the mapping/synthesis split that
truncation and PPL use.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.augment.blur import blur_sigma
from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.losses.projected_hinge import projected_hinge_d_loss, projected_hinge_g_loss
from gan_zoo.models.base import GANModule, Phase, cycled_labels, eval_mode, lazy_regularization_adam_kwargs
from gan_zoo.models.projected_gan.discriminator import projected_gan_discriminator, require_cnn_input_size
from gan_zoo.models.projected_gan.generator import FastGANGenerator
from gan_zoo.models.stylegan2.generator import Generator as StyleGAN2Generator

GENERATORS = ("fastgan_lite", "fastgan", "stylegan2")
OFFICIAL_LR = {"fastgan_lite": 0.0002, "fastgan": 0.0002, "stylegan2": 0.002}  # G and D (train.py)


class ProjectedGANModule(GANModule):
    nonfinite_gradients = "nan_to_num"  # training_loop.py: NaN -> 0, ±inf -> ±1e5 before every step

    def __init__(
        self,
        resolution: int,  # image side (px, power of two)
        num_channels: int = 3,  # image channels (the feature networks take RGB)
        num_classes: int = 0,  # classes of the data set (used only when conditional)
        conditional: bool = False,  # class-conditional G and projection mini-discriminators
        generator: str = "fastgan_lite",  # fastgan_lite | fastgan | stylegan2
        z_dim: int | None = None,  # latent size; None: 256 (FastGAN) or 64 (stylegan2)
        ngf: int = 128,  # FastGAN channel multiplier
        w_dim: int = 128,  # stylegan2 generator: style size
        mapping_layers: int = 2,  # stylegan2 generator: mapping depth
        channel_base: int = 32768,  # stylegan2 generator: channels at res = min(channel_base // res, channel_max)
        channel_max: int = 512,  # stylegan2 generator: channel cap
        num_fp16_res: int = 4,  # stylegan2 generator: top resolutions in 16-bit on CUDA
        conv_clamp: float | None = 256,  # stylegan2 generator: clamp of conv outputs; None: off
        pretrained_backbones: bool | None = None,  # true: ImageNet EfficientNet-lite0 from local files; false: random (tests); must be set
        backbone_weights: dict[str, str] | None = None,  # backbone name -> weight file; null: the timm / Hugging Face cache
        separable: bool | None = None,  # depthwise-separable mini-discriminators; None: official (stylegan2 cfg only)
        diffaug: bool = True,  # DiffAugment color,translation,cutout on every D input
        interp224: bool | None = None,  # resize D inputs to 224; None: only below 224 px (official)
        blur_init_sigma: float = 0.0,  # Gaussian blur of D inputs at the start, px (official train.py: off)
        blur_fade_kimg: float = 0.0,  # blur fades to 0 over this many kimg; 0: no blur
        lr: float | None = None,  # Adam lr of G and D; None: official per generator (0.0002 FastGAN, 0.002 stylegan2)
        D_lr: float | None = None,  # D's lr when it differs from G's (train.py --dlr); None: lr
        betas: tuple[float, float] = (0.0, 0.99),  # Adam betas (D: corrected for D_reg_interval)
        eps: float = 1e-8,  # Adam epsilon
        D_reg_interval: int | None = 16,  # the official loop's D reg interval: corrects D's lr/betas by 16/17 (its reg is a no-op)
        ema: dict[str, float | None] | None = None,  # {"half_life_kimg": null = batch * 10 / 32, "rampup": 0.05}
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        ema_config = {"half_life_kimg": None, "rampup": 0.05, **(ema or {})}
        super().__init__(ema=ema_config, compile=compile)
        if generator not in GENERATORS:
            raise ConfigError(f"model.generator={generator} is not a Projected GAN generator; choose one of {', '.join(GENERATORS)}")
        if pretrained_backbones is None:
            raise ConfigError(
                "model.pretrained_backbones must be set: true loads the ImageNet EfficientNet-lite0 (the paper), false uses a random frozen one (tests only)"
            )
        if conditional and num_classes < 1:
            raise ConfigError(f"model.conditional=true needs a labelled data set, but data.num_classes is {num_classes}")
        if num_channels != 3:
            raise ConfigError(f"Projected GAN's feature network takes RGB images; data.channels is {num_channels}")
        self.c_dim = num_classes if conditional else 0
        self.generator_kind = generator
        if generator == "stylegan2":
            synthesis = {"channel_base": channel_base, "channel_max": channel_max, "num_fp16_res": num_fp16_res, "conv_clamp": conv_clamp}
            self.G = StyleGAN2Generator(resolution, num_channels, self.c_dim, z_dim or 64, w_dim, mapping={"num_layers": mapping_layers}, synthesis=synthesis)
        else:
            self.G = FastGANGenerator(z_dim or 256, ngf, resolution, num_channels, lite=generator == "fastgan_lite", c_dim=self.c_dim)
        require_cnn_input_size(resolution, interp224, ["tf_efficientnet_lite0"], "model.interp224")
        self.D = projected_gan_discriminator(
            self.c_dim, pretrained_backbones, backbone_weights,
            separable=(generator == "stylegan2") if separable is None else separable, interp224=interp224, diffaug=diffaug,
        )  # fmt: skip
        self.init_ema()
        self.blur = {"init_sigma": blur_init_sigma, "fade_kimg": blur_fade_kimg}
        self.lr = OFFICIAL_LR[generator] if lr is None else lr
        self.D_lr = self.lr if D_lr is None else D_lr
        self.betas, self.eps, self.D_reg_interval = tuple(betas), eps, D_reg_interval
        if conditional:
            self.provides_required = frozenset({"image", "label"})

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def upgrade_state_dict(self, state_dict: dict[str, Tensor], version: int) -> None:
        """Checkpoints before format 2 lack the FastGAN layers the official synthesis builds but never
        runs below 256 px (`feat_256`, `se_256`, ...; see gan_zoo.models.projected_gan.generator): they
        get this module's own initial values, which is all those frozen layers ever hold. In place."""
        super().upgrade_state_dict(state_dict, version)
        if version < 2 and isinstance(self.G, FastGANGenerator):
            prefixes = tuple(f"{net}.synthesis.{layer}." for net in ("G", "G_ema") for layer in self.G.synthesis.unused_layers)
            for key, value in self.state_dict().items():
                if key.startswith(prefixes) and key not in state_dict:
                    state_dict[key] = value.detach().clone()

    # ---- pieces shared by the phases -----------------------------------------------------------

    def run_G(self, generator: nn.Module, n: int, c: Tensor | None) -> Tensor:
        z = self.global_randn(n, generator.z_dim)
        if self.generator_kind == "stylegan2":
            return generator(z, c, noise_mode="random", randn=self.global_randn)
        return generator(z, c)

    def run_D(self, images: Tensor, c: Tensor | None) -> list[Tensor]:
        sigma = blur_sigma(float(self.cur_nimg), self.blur["init_sigma"], self.blur["fade_kimg"])
        return self.D(images, c, blur_sigma=sigma)

    # ---- phases --------------------------------------------------------------------------------

    def phases(self) -> list[Phase]:
        return [Phase("G_main", "G", self.generator_main_loss), Phase("D_main", "D", self.discriminator_main_loss)]

    def generator_main_loss(self, batch: dict[str, Tensor]) -> Tensor:
        c = self.fake_labels(batch["image"].shape[0], self.c_dim)
        fake_logits = self.run_D(self.run_G(self.G, batch["image"].shape[0], c), c)
        self.record("scores/fake_G", torch.cat([t.flatten() for t in fake_logits]))
        return projected_hinge_g_loss(fake_logits, official_loss_scaling=False)

    def discriminator_main_loss(self, batch: dict[str, Tensor]) -> Tensor:
        reals = batch["image"]
        fake_c = self.fake_labels(reals.shape[0], self.c_dim)
        with torch.no_grad():
            fakes = self.run_G(self.G, reals.shape[0], fake_c)
        fake_logits = self.run_D(fakes, fake_c)
        real_logits = self.run_D(reals, self.one_hot(batch.get("label"), self.c_dim))
        self.record("scores/fake", torch.cat([t.flatten() for t in fake_logits]))
        self.record("scores/real", torch.cat([t.flatten() for t in real_logits]))
        return projected_hinge_d_loss(real_logits, fake_logits, official_loss_scaling=False)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        g = lazy_regularization_adam_kwargs(self.lr, self.betas, None)
        d = lazy_regularization_adam_kwargs(self.D_lr, self.betas, self.D_reg_interval)
        g_params = [p for p in self.G.parameters() if p.requires_grad]
        return [torch.optim.Adam(g_params, eps=self.eps, **g), torch.optim.Adam(self.D.trainable_parameters(), eps=self.eps, **d)]

    # ---- sampling and evaluation ---------------------------------------------------------------

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, truncation_psi: float = 1.0) -> Tensor:
        """G_ema images in [-1, 1] (truncation only with the stylegan2 generator)."""
        c = self.one_hot(labels, self.c_dim)
        with eval_mode(self.G_ema):
            if self.generator_kind == "stylegan2":
                return self.G_ema(z.to(self.device), c, truncation_psi=truncation_psi, noise_mode="const")
            if truncation_psi != 1:
                raise ConfigError(f"truncation needs a mapping network; this Projected GAN's generator is {self.generator_kind}")
            return self.G_ema(z.to(self.device), c)

    def sample(self, seeds: list[int], labels: Tensor | None = None, truncation_psi: float = 1.0, **kwargs: Any) -> Tensor:
        """uint8 images per seed. The noise inputs are drawn from each seed, so an image depends only
        on its seed; a conditional model without labels cycles through the classes by seed."""
        labels = cycled_labels(seeds, labels, self.c_dim)
        z = self.latents_from_seeds(seeds, self.G.z_dim)
        images = []
        for i, seed in enumerate(seeds):
            with self._noise_seeded(seed):
                images.append(self.generate(z[i : i + 1], None if labels is None else labels[i : i + 1], truncation_psi))
        return to_uint8(torch.cat(images))

    @torch.no_grad()
    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """The official metric protocol: G_ema, random z and noise inputs (both from `generator`), the conditioning batch's labels."""
        n = batch["image"].shape[0]
        z = torch.randn(n, self.G.z_dim, generator=generator).to(self.device)
        noise_seed = int(torch.randint(2**62, (1,), generator=generator))
        c = self.one_hot(batch.get("label"), self.c_dim)
        with eval_mode(self.G_ema), self._noise_seeded(noise_seed):
            if self.generator_kind == "stylegan2":
                return self.G_ema(z, c, noise_mode="random")
            return self.G_ema(z, c)

    def _noise_seeded(self, seed: int) -> contextlib.AbstractContextManager:
        """The generators draw their noise inputs from the global RNG: seed it for a while, then put it back."""

        @contextlib.contextmanager
        def seeded() -> Iterator[None]:
            with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
                torch.manual_seed(seed)
                yield

        return seeded()
