"""StyleGAN3 (Karras et al. 2021, "Alias-Free Generative Adversarial Networks") as a GANModule.

NVlabs/stylegan3 `train.py --cfg=stylegan3-t|stylegan3-r`: the StyleGAN2 training loop and loss
(`training/loss.py` StyleGAN2Loss: non-saturating logistic, R1 every 16 steps, StyleGAN2's resnet D)
with the alias-free generator and these differences from `--cfg=stylegan2`:

* a 2-layer mapping, no style mixing, no path-length regulariser (so no G reg phase and no lazy
  correction of G's Adam), G lr 0.0025 and D lr 0.002;
* G_ema half-life batch·10/32 kimg with ramp-up 0.05; the synthesis layers' magnitude averages decay
  by 0.5 ** (batch / 20000) per update; w_avg and those averages change only while drawing D's fakes;
* stylegan3-r: 1x1 convolutions, twice the generator's channel_base and channel_max (not D's),
  radially symmetric down filters, and every D input blurred with a σ fading from 10 px to 0 over
  batch·200/32 kimg.

Everything else (augmentation, conditioning, resume state) is the StyleGAN2 module's.
"""

import logging
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from gan_zoo.augment.blur import blur_images, blur_sigma
from gan_zoo.errors import ConfigError
from gan_zoo.models.base import settings_with_defaults
from gan_zoo.models.stylegan2.module import StyleGAN2Module
from gan_zoo.models.stylegan3.generator import StyleGAN3Generator

log = logging.getLogger(__name__)

CONFIGS = ("stylegan3-t", "stylegan3-r")
LOSS_DEFAULTS = {
    "r1_gamma": 8.2,  # required by the official train.py; configs.md gives 8.2 for AFHQv2 512 (scale ~ resolution²)
    "pl_weight": 0.0,  # StyleGAN3 configs: off
    "pl_decay": 0.01,
    "pl_batch_shrink": 2,
    "style_mixing_prob": 0.0,  # StyleGAN3 configs: off
    "blur_init_sigma": None,  # px; None: by cfg (stylegan3-r 10, stylegan3-t 0)
    "blur_fade_kimg": None,  # None: batch · 200 / 32 (train.py)
}
SAMPLING_DEFAULTS = {"truncation_psi": 1.0, "truncation_cutoff": None}


def synthesis_options(
    cfg: str, channel_base: int, channel_max: int, num_fp16_res: int, conv_clamp: float | None, overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """The SynthesisNetwork arguments train.py gives for `cfg`, then the user's `synthesis` overrides."""
    radial = cfg == "stylegan3-r"
    options = {
        "channel_base": channel_base * (2 if radial else 1),  # train.py doubles G's feature maps for -r
        "channel_max": channel_max * (2 if radial else 1),
        "conv_kernel": 1 if radial else 3,
        "use_radial_filters": radial,
        "num_fp16_res": num_fp16_res,
        "conv_clamp": conv_clamp,
    }
    return {**options, **(overrides or {})}


class StyleGAN3Module(StyleGAN2Module):
    loss_defaults: ClassVar[dict[str, Any]] = LOSS_DEFAULTS
    sampling_defaults: ClassVar[dict[str, Any]] = SAMPLING_DEFAULTS

    def __init__(
        self,
        resolution: int,  # image side (power of two >= 8)
        cfg: str = "stylegan3-t",  # stylegan3-t (translation equivariant) or stylegan3-r (also rotation)
        num_channels: int = 3,  # image channels
        num_classes: int = 0,  # classes of the data set (used only when conditional)
        conditional: bool = False,  # class-conditional G (label embedding in the mapping) and projection D
        z_dim: int = 512,  # latent size
        w_dim: int = 512,  # style size
        channel_base: int = 32768,  # train.py --cbase: D's and (x2 for -r) G's channel scale
        channel_max: int = 512,  # train.py --cmax: D's and (x2 for -r) G's channel cap
        num_fp16_res: int = 4,  # G layers at the highest sampling rates and D's top resolutions in bf16/fp16 on CUDA
        conv_clamp: float | None = 256,  # clamp of conv outputs, G and D; None: off
        magnitude_ema_beta: float | None = None,  # decay of the layers' input-magnitude averages; None: 0.5 ** (batch / 20000)
        synthesis: dict[str, Any] | None = None,  # SynthesisNetwork overrides: num_layers, conv_kernel, use_radial_filters, ...
        mapping: dict[str, Any] | None = None,  # MappingNetwork kwargs: num_layers (2), lr_multiplier (0.01), w_avg_beta (0.998)
        discriminator: dict[str, Any] | None = None,  # StyleGAN2 Discriminator kwargs: architecture, mbstd_group_size, ...
        loss: dict[str, Any] | None = None,  # see LOSS_DEFAULTS
        G_reg_interval: int | None = None,  # the official default: no lazy G regularisation (path length is off)
        D_reg_interval: int | None = 16,  # steps between R1 steps
        G_lr: float = 0.0025,  # Adam lr of G (train.py --glr for the stylegan3 configs)
        D_lr: float = 0.002,  # Adam lr of D (train.py --dlr)
        betas: tuple[float, float] = (0.0, 0.99),  # Adam betas (before the lazy-regularisation correction)
        eps: float = 1e-8,  # Adam epsilon
        ema: dict[str, float | None] | None = None,  # {"half_life_kimg": None = batch · 10 / 32, "rampup": 0.05}
        aug: str = "ada",  # noaug | ada | fixed (train.py --aug default: ada)
        augment: dict[str, Any] | None = None,  # settings for ada/fixed (conf/augment)
        sampling: dict[str, Any] | None = None,  # sample() defaults: truncation_psi, truncation_cutoff
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        if cfg not in CONFIGS:
            raise ConfigError(f"model.cfg={cfg!r} is not a StyleGAN3 configuration; choose one of {', '.join(CONFIGS)} (StyleGAN2 itself is model=stylegan2)")
        loss_config = settings_with_defaults("model.loss", LOSS_DEFAULTS, loss)
        if loss_config["blur_init_sigma"] is None:
            loss_config["blur_init_sigma"] = 10.0 if cfg == "stylegan3-r" else 0.0
        # build_generator reads these: it runs inside StyleGAN2Module.__init__.
        self._synthesis_options = synthesis_options(cfg, channel_base, channel_max, num_fp16_res, conv_clamp, synthesis)
        super().__init__(
            resolution,
            num_channels=num_channels,
            num_classes=num_classes,
            conditional=conditional,
            z_dim=z_dim,
            w_dim=w_dim,
            channel_base=channel_base,
            channel_max=channel_max,
            num_fp16_res=num_fp16_res,
            conv_clamp=conv_clamp,
            mapping=mapping,
            discriminator=discriminator,
            loss=loss_config,
            G_reg_interval=G_reg_interval,
            D_reg_interval=D_reg_interval,
            lr=D_lr,
            betas=betas,
            eps=eps,
            ema={"half_life_kimg": None, "rampup": 0.05, **(ema or {})},
            aug=aug,
            augment=augment,
            sampling=sampling,
            compile=compile,
        )
        self.cfg = cfg
        self.G_lr, self.D_lr = G_lr, D_lr
        self.magnitude_ema_beta = magnitude_ema_beta
        self.sampling = settings_with_defaults("model.sampling", self.sampling_defaults, sampling)
        if magnitude_ema_beta is not None:
            self.G.set_magnitude_ema_beta(magnitude_ema_beta)

    def build_generator(self, resolution: int, num_channels: int, z_dim: int, w_dim: int, mapping: dict[str, Any], shared: dict[str, Any]) -> nn.Module:
        return StyleGAN3Generator(resolution, num_channels, self.c_dim, z_dim, w_dim, mapping=mapping, synthesis=self._synthesis_options)

    def configure_run(self, total_kimg: float, batch_size: int, identity: dict[str, Any], seed: int = 0) -> None:
        super().configure_run(total_kimg, batch_size, identity, seed)
        if not batch_size:
            return
        if self.ema_config.get("half_life_kimg") is None:
            self.ema_config["half_life_kimg"] = batch_size * 10 / 32
        if self.loss_config["blur_fade_kimg"] is None:
            self.loss_config["blur_fade_kimg"] = batch_size * 200 / 32
        if self.magnitude_ema_beta is None:
            self.G.set_magnitude_ema_beta(0.5 ** (batch_size / 20000))

    def current_blur_sigma(self) -> float:
        fade = self.loss_config["blur_fade_kimg"]
        return blur_sigma(float(self.cur_nimg), float(self.loss_config["blur_init_sigma"]), 0.0 if fade is None else float(fade))

    def tracks_w_avg(self, update_emas: bool) -> bool:
        return update_emas  # stylegan3's loss: w_avg and the magnitude averages move only while drawing D's fakes

    def synthesize_for_training(self, ws: Tensor, update_emas: bool) -> Tensor:
        return self.G.synthesis(ws, update_emas=update_emas)

    def run_D(self, images: Tensor, c: Tensor | None) -> Tensor:
        """D of the images blurred first (stylegan3-r's fading blur), then augmented."""
        sigma = self.current_blur_sigma()
        if sigma > 0:
            self.record("progress/blur_sigma", torch.tensor(sigma))
        return super().run_D(blur_images(images, sigma), c)

    @torch.no_grad()
    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """Metric protocol of the official code: no truncation, the batch's labels."""
        z = torch.randn(batch["image"].shape[0], self.G.z_dim, generator=generator).to(self.device)
        ws = self.G_ema.mapping(z, self.one_hot(batch.get("label"), self.c_dim), update_w_avg=False)
        return self.G_ema.synthesis(ws)
