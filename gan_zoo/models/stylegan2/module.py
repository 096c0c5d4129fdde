"""StyleGAN2 (config F) and StyleGAN2-ADA as a GANModule.

Per minibatch, in the official order: G main (non-saturating logistic), G reg (path length, every
`G_reg_interval` steps on batch / pl_batch_shrink samples), D main (logistic), D reg (R1, every
`D_reg_interval` steps), then the G_ema update (half-life in kimg, optional ramp-up). Regularised
optimizers get lr·c and β^c with c = interval/(interval+1). A null interval folds the regulariser
into the main phase every step (the official "both" phases).

Every image D sees, real or fake, in every phase, goes through the augmentation pipe when
`model.aug` is `ada` or `fixed`; with `ada` the controller gathers sign(D(real)) in the D phases and
adjusts p every `interval` steps (before the step, from the previous steps' signs, exactly as the
official loop does after them). p, the ADA sums, w_avg and the path-length mean are buffers, so a
resumed run continues bit-exactly.
"""

import logging
import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from gan_zoo.errors import ConfigError
from gan_zoo.layers.style_mixing import crossover_styles, draw_cutoff
from gan_zoo.losses.logistic import logistic_discriminator_loss, logistic_generator_loss
from gan_zoo.losses.path_length import path_lengths, running_path_length_penalty
from gan_zoo.losses.r1 import r1_penalty
from gan_zoo.models.base import GANModule, Phase, cycled_labels, eager_for_gradient_penalty, lazy_regularization_adam_kwargs, settings_with_defaults
from gan_zoo.models.stylegan2.discriminator import Discriminator
from gan_zoo.models.stylegan2.generator import Generator
from gan_zoo.models.stylegan2.plan import AutoHyperparameters, auto_hyperparameters

# The augment package is imported only when a mode other than `noaug` is chosen, so plain StyleGAN2 runs
# do not depend on it.
MODES = ("noaug", "ada", "fixed")


def build_augmentation(mode: str, settings: dict[str, Any] | None) -> tuple[nn.Module | None, nn.Module | None]:
    """(AugmentPipe or None, AdaptiveAugment or None) for model.aug=`mode`."""
    if mode not in MODES:
        raise ConfigError(f"model.aug={mode} is not an augmentation mode; choose one of: {', '.join(MODES)}")
    if mode == "noaug":
        return None, None
    kwargs = {k: v for k, v in (settings or {}).items() if k not in ("_target_", "mode")}
    if mode == "fixed" and not float(kwargs.get("p") or 0) > 0:
        raise ConfigError(f"model.aug=fixed needs a constant probability model.augment.p > 0 (got {kwargs.get('p')}); e.g. model.augment.p=0.2")
    from gan_zoo.augment import build_augment  # noqa: PLC0415 - only runs that augment need the package

    pipe, controller = build_augment(mode=mode, **kwargs)
    return pipe, controller


log = logging.getLogger(__name__)

LOSS_DEFAULTS = {"r1_gamma": 10.0, "pl_weight": 2.0, "pl_decay": 0.01, "pl_batch_shrink": 2, "style_mixing_prob": 0.9}
SAMPLING_DEFAULTS = {"truncation_psi": 1.0, "truncation_cutoff": None, "noise_mode": "const"}


class StyleGAN2Module(GANModule):
    loss_defaults: ClassVar[dict[str, Any]] = LOSS_DEFAULTS  # the settings model.loss takes (a subclass may add its own)
    sampling_defaults: ClassVar[dict[str, Any]] = SAMPLING_DEFAULTS  # the settings model.sampling takes
    ema_after_phase = "D_main"  # runs every step, after G's last update of the step
    nonfinite_gradients = "nan_to_num"  # training_loop.py: NaN -> 0, ±inf -> ±1e5 before every step

    def __init__(
        self,
        resolution: int,  # image side (power of two >= 8)
        num_channels: int = 3,  # image channels
        num_classes: int = 0,  # classes of the data set (used only when conditional)
        conditional: bool = False,  # class-conditional G (label embedding in the mapping) and projection D
        z_dim: int = 512,  # latent size
        w_dim: int = 512,  # style size
        channel_base: int = 32768,  # channels at res: min(channel_base // res, channel_max), G and D
        channel_max: int = 512,  # channel cap, G and D
        num_fp16_res: int = 4,  # top resolutions in bf16/fp16 on CUDA, G and D; 0: all fp32
        conv_clamp: float | None = 256,  # clamp of conv outputs, G and D; None: off
        mapping: dict[str, Any] | None = None,  # MappingNetwork kwargs: num_layers, lr_multiplier, w_avg_beta
        discriminator: dict[str, Any] | None = None,  # Discriminator kwargs: architecture, mbstd_group_size, ...
        loss: dict[str, float] | None = None,  # r1_gamma, pl_weight, pl_decay, pl_batch_shrink, style_mixing_prob
        G_reg_interval: int | None = 4,  # steps between path-length steps; None: every step, in G main
        D_reg_interval: int | None = 16,  # steps between R1 steps; None: every step, in D main
        lr: float = 0.002,  # Adam lr of G and D (before the lazy-regularisation correction)
        betas: tuple[float, float] = (0.0, 0.99),  # Adam betas (before the correction)
        eps: float = 1e-8,  # Adam epsilon
        ema: dict[str, float | None] | None = None,  # {"half_life_kimg": 10, "rampup": None or 0.05}
        aug: str = "noaug",  # noaug | ada | fixed
        augment: dict[str, Any] | None = None,  # settings for ada/fixed (conf/augment): preset, p, target, ...
        auto: bool = False,  # ADA's cfg=auto: batch, channel_base, lr, gamma, ema, mbstd, mapping from resolution and auto_gpus
        auto_gpus: int = 1,  # GPU count the auto formula assumes
        sampling: dict[str, Any] | None = None,  # sample() defaults: truncation_psi, truncation_cutoff, noise_mode
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        # New names, not reassigned arguments: save_hyperparameters() records the arguments as given.
        mapping_kwargs = dict(mapping or {})
        discriminator_kwargs = dict(discriminator or {})
        loss_config = settings_with_defaults("model.loss", self.loss_defaults, loss)
        ema_config = dict(ema or {"half_life_kimg": 10.0, "rampup": None})
        auto_config: AutoHyperparameters | None = auto_hyperparameters(resolution, auto_gpus) if auto else None
        if auto_config is not None:
            a = auto_config
            mapping_kwargs["num_layers"] = a.mapping_layers
            discriminator_kwargs["mbstd_group_size"] = a.mbstd_group_size
            loss_config["r1_gamma"] = a.r1_gamma
            ema_config = {"half_life_kimg": a.ema_kimg, "rampup": a.ema_rampup}
        super().__init__(ema=ema_config, compile=compile)
        self.loss_config, self.auto_config = loss_config, auto_config
        if conditional and num_classes < 1:
            raise ConfigError(f"model.conditional=true needs a labelled data set, but data.num_classes is {num_classes}")
        if resolution < 8:
            raise ConfigError(f"StyleGAN2 needs data.resolution >= 8, got {resolution}")
        self.c_dim = num_classes if conditional else 0
        if self.auto_config is not None:
            channel_base, lr = self.auto_config.channel_base, self.auto_config.lr  # after save_hyperparameters()
        shared = {"channel_base": channel_base, "channel_max": channel_max, "num_fp16_res": num_fp16_res, "conv_clamp": conv_clamp}
        self.G = self.build_generator(resolution, num_channels, z_dim, w_dim, mapping_kwargs, shared)
        self.D = Discriminator(resolution, num_channels, self.c_dim, **shared, **discriminator_kwargs)
        self.init_ema()
        self.G_reg_interval, self.D_reg_interval = G_reg_interval, D_reg_interval
        self.G_lr = self.D_lr = lr
        self.betas, self.eps = tuple(betas), eps
        self.sampling = settings_with_defaults("model.sampling", self.sampling_defaults, sampling)
        self.augment_pipe, self.ada = build_augmentation(aug, augment)
        self.register_buffer("pl_mean", torch.zeros(()))  # running mean of path lengths (progress state)
        if conditional:
            self.provides_required = frozenset({"image", "label"})

    def build_generator(self, resolution: int, num_channels: int, z_dim: int, w_dim: int, mapping: dict[str, Any], shared: dict[str, Any]) -> nn.Module:
        """G from the module's arguments (`shared`: channel_base, channel_max, num_fp16_res, conv_clamp)."""
        return Generator(resolution, num_channels, self.c_dim, z_dim, w_dim, mapping=mapping, synthesis=shared)

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def configure_run(self, total_kimg: float, batch_size: int, identity: dict[str, Any], seed: int = 0) -> None:
        if self.auto_config is not None:
            if batch_size and batch_size != self.auto_config.batch_size:
                log.info(
                    "model.auto=true: global batch %d (from resolution and auto_gpus) replaces data.batch_size=%d", self.auto_config.batch_size, batch_size
                )
            batch_size = self.auto_config.batch_size
        super().configure_run(total_kimg, batch_size, identity, seed)

    # ---- pieces shared by the phases -----------------------------------------------------------

    def run_G(self, z: Tensor, c: Tensor | None, update_emas: bool = False) -> tuple[Tensor, Tensor]:
        """(images, ws) of G for training: w_avg tracking, style mixing, noise drawn for the global batch.

        `update_emas` marks the D phase's fakes, where StyleGAN3's loss updates its averages
        (see `tracks_w_avg`).
        """
        ws = self.G.mapping(z, c, update_w_avg=self.tracks_w_avg(update_emas))
        prob = self.loss_config["style_mixing_prob"]
        if prob > 0:
            cutoff = draw_cutoff(self.G.num_ws, prob)
            z_other = self.global_randn(z.shape[0], self.G.z_dim)
            if cutoff < self.G.num_ws:
                ws = crossover_styles(ws, self.G.mapping(z_other, c, update_w_avg=False), cutoff)
        return self.synthesize_for_training(ws, update_emas), ws

    def tracks_w_avg(self, update_emas: bool) -> bool:
        """Whether this G call moves w_avg: StyleGAN2-ADA (`training/networks.py`) moves it in every training call."""
        return True

    def synthesize_for_training(self, ws: Tensor, update_emas: bool) -> Tensor:
        """Images of ws with noise drawn for the global batch."""
        return self.G.synthesis(ws, noise_mode="random", randn=self.global_randn)

    def run_D(self, images: Tensor, c: Tensor | None) -> Tensor:
        if self.augment_pipe is not None:
            images = self.augment_pipe(images, rank=self.rank, world_size=self.world_size)
        return self.D(images, c)

    # ---- phases --------------------------------------------------------------------------------

    def phases(self) -> list[Phase]:
        phases = [Phase("G_main", "G", self.generator_main_loss)]
        if self.loss_config["pl_weight"] > 0 and self.G_reg_interval:
            phases.append(Phase("G_reg", "G", self.path_length_loss, self.G_reg_interval))
        phases.append(Phase("D_main", "D", self.discriminator_main_loss))
        if self.loss_config["r1_gamma"] > 0 and self.D_reg_interval:
            phases.append(Phase("D_reg", "D", self.r1_loss, self.D_reg_interval))
        return phases

    def generator_main_loss(self, batch: dict[str, Tensor]) -> Tensor:
        n = batch["image"].shape[0]
        c = self.fake_labels(n, self.c_dim)
        fakes, _ = self.run_G(self.global_randn(n, self.G.z_dim), c)
        fake_logits = self.run_D(fakes, c)
        self.record("scores/fake_G", fake_logits)
        loss = logistic_generator_loss(fake_logits).mean()
        if self.loss_config["pl_weight"] > 0 and not self.G_reg_interval:
            loss = loss + self.path_length_loss(batch)
        return loss

    def path_length_loss(self, batch: dict[str, Tensor]) -> Tensor:
        n = max(batch["image"].shape[0] // int(self.loss_config["pl_batch_shrink"]), 1)
        c = self.fake_labels(n, self.c_dim)
        with eager_for_gradient_penalty():  # the penalty's gradient runs through G's backward
            images, ws = self.run_G(self.global_randn(n, self.G.z_dim), c)
        h, w = images.shape[2:]
        noise = self.global_randn(n, *images.shape[1:]) / math.sqrt(h * w)
        penalty = running_path_length_penalty(path_lengths(images, ws, noise), self.pl_mean, self.loss_config["pl_decay"], self.world_size)
        self.record("pl/mean", self.pl_mean)
        self.record("pl/penalty", penalty)
        return (penalty * self.loss_config["pl_weight"]).mean()

    def discriminator_main_loss(self, batch: dict[str, Tensor]) -> Tensor:
        reals = batch["image"]
        n = reals.shape[0]
        fake_c = self.fake_labels(n, self.c_dim)
        with torch.no_grad():
            fakes, _ = self.run_G(self.global_randn(n, self.G.z_dim), fake_c, update_emas=True)
        fake_logits = self.run_D(fakes, fake_c)
        self.record("scores/fake", fake_logits)
        if self.loss_config["r1_gamma"] > 0 and not self.D_reg_interval:
            return logistic_discriminator_loss(None, fake_logits).mean() + self.r1_loss(batch, main=True)
        real_logits = self.run_D(reals, self.one_hot(batch.get("label"), self.c_dim))
        self._observe_reals(real_logits)
        return logistic_discriminator_loss(real_logits, fake_logits).mean()

    def r1_loss(self, batch: dict[str, Tensor], main: bool = False) -> Tensor:
        """R1 on the reals (γ/2·‖∇D‖²); with main=True also the real half of the logistic loss."""
        reals = batch["image"].detach().requires_grad_(True)
        c = self.one_hot(batch.get("label"), self.c_dim)
        with eager_for_gradient_penalty():  # the penalty's gradient runs through D's backward
            real_logits = self.run_D(reals, c)
        self._observe_reals(real_logits)
        penalty = r1_penalty(real_logits, reals)
        self.record("loss/r1_penalty", penalty)
        loss = penalty * (self.loss_config["r1_gamma"] / 2)
        if main:
            loss = loss + logistic_discriminator_loss(real_logits, None)
        return loss.mean()

    def _observe_reals(self, real_logits: Tensor) -> None:
        self.record("scores/real", real_logits)
        if self.ada is not None:
            self.ada.accumulate(real_logits)
        if self.augment_pipe is not None:
            self.record("aug/p", self.augment_pipe.p)
        if self.ada is not None:
            self.record("aug/rt", self.ada.rt)

    def before_step(self, batch: dict[str, Tensor]) -> None:
        if self.ada is not None and self.ada.due(int(self.step_count)):
            reduce = _all_reduce_sum if self.world_size > 1 else None
            self.ada.update(self.global_batch_size(), reduce=reduce)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        g = lazy_regularization_adam_kwargs(self.G_lr, self.betas, self.G_reg_interval)
        d = lazy_regularization_adam_kwargs(self.D_lr, self.betas, self.D_reg_interval)
        return [torch.optim.Adam(self.G.parameters(), eps=self.eps, **g), torch.optim.Adam(self.D.parameters(), eps=self.eps, **d)]

    def progress_description(self) -> str:
        return f"p={float(self.augment_pipe.p):.3f}" if self.augment_pipe is not None else ""

    # ---- sampling and evaluation ---------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        z: Tensor,  # [N, z_dim]
        labels: Tensor | None = None,  # [N] class indices (conditional models only)
        truncation_psi: float = 1.0,  # 1: no truncation
        truncation_cutoff: int | None = None,  # truncate ws[:, :cutoff]; None: all
        noise_mode: str = "const",  # const, random or none
    ) -> Tensor:
        """G_ema images in [-1, 1]."""
        ws = self.G_ema.mapping(
            z.to(self.device), self.one_hot(labels, self.c_dim), truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, update_w_avg=False
        )
        return self.G_ema.synthesis(ws, noise_mode=noise_mode)

    def sample(self, seeds: list[int], labels: Tensor | None = None, **kwargs: Any) -> Tensor:
        """uint8 images per seed; a conditional model without labels cycles through the classes by seed."""
        return self.sample_with_options(seeds, cycled_labels(seeds, labels, self.c_dim), kwargs)

    @torch.no_grad()
    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """Metric protocol of the official code: no truncation, random noise (here from `generator`)."""
        n = batch["image"].shape[0]
        z = torch.randn(n, self.G.z_dim, generator=generator)

        def randn(*shape: int) -> Tensor:
            return torch.randn(*shape, generator=generator).to(self.device)

        ws = self.G_ema.mapping(z.to(self.device), self.one_hot(batch.get("label"), self.c_dim), update_w_avg=False)
        return self.G_ema.synthesis(ws, noise_mode="random", randn=randn)


def _all_reduce_sum(tensor: Tensor) -> Tensor:
    torch.distributed.all_reduce(tensor)
    return tensor
