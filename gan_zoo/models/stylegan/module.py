"""StyleGAN (v1) as a GANModule: logistic loss with R1, style mixing, w_avg, progressive growing.

Per minibatch, as the official training loop: one D step (non-saturating logistic loss + R1 on the
reals, gamma 10, every step), the G_ema update (beta 0.5 ** (minibatch / 10 kimg), run together with
the D step as `Gs_update_op`), then one G step. Growing (lod, minibatch, lr per resolution, Adam
reset at each new level of detail, cross-faded reals) is PGGAN's, shared through ProgressiveGrowing.

Both phases run G as the official training graph does (`is_training=True`): they track w_avg on
the batch's w and apply style mixing with probability 0.9 (a second z, one crossover layer per
minibatch, uniform in [1, active layers)). Truncation is for sampling only.
"""

from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.layers.style_mixing import crossover_styles
from gan_zoo.losses.logistic import logistic_discriminator_loss, logistic_generator_loss
from gan_zoo.losses.r1 import r1_of
from gan_zoo.models.base import GANModule, Phase, cycled_labels, eager_for_gradient_penalty, settings_with_defaults
from gan_zoo.models.pggan.growing import ProgressiveGrowing
from gan_zoo.models.stylegan.networks import StyleGANDiscriminator, StyleGANGenerator


class StyleGANModule(ProgressiveGrowing, GANModule):
    ema_after_phase = "D_main"
    nonfinite_gradients = "skip_step"  # dnnlib/tflib/optimizer.py: no update when a gradient is NaN or inf

    def __init__(
        self,
        resolution: int,  # final image resolution (a power of two >= 4)
        num_channels: int = 3,  # image channels
        num_classes: int = 0,  # classes of the data set (used only when conditional)
        conditional: bool = False,  # label embedding concatenated to z; projection-style label switch in D
        generator: dict[str, Any] | None = None,  # StyleGANGenerator keyword arguments (mapping, synthesis)
        discriminator: dict[str, Any] | None = None,  # StyleGANDiscriminator keyword arguments
        r1_gamma: float = 10.0,  # weight of the R1 penalty gamma/2 · ||grad D(real)||², every step; 0: off
        style_mixing_prob: float = 0.9,  # probability that a training minibatch mixes two latents
        sampling: dict[str, Any] | None = None,  # defaults of sample(): truncation_psi, truncation_cutoff, noise_mode
        schedule: dict[str, Any] | None = None,  # PGGANSchedule fields except resolution
        betas: tuple[float, float] = (0.0, 0.99),  # Adam betas of G and D
        eps: float = 1e-8,  # Adam epsilon
        reset_optimizer_for_new_lod: bool = True,  # official: Adam state reset at each new level of detail
        ema: dict[str, float] | None = None,  # {"half_life_kimg": 10}: beta = 0.5 ** (minibatch / 10 kimg)
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        super().__init__(ema=ema or {"half_life_kimg": 10.0}, compile=compile)
        if conditional and num_classes < 2:
            raise ValueError(f"model.conditional=true needs a labelled data set, but data.num_classes is {num_classes}")
        if not 0.0 <= style_mixing_prob <= 1.0:
            raise ValueError(f"model.style_mixing_prob must lie in [0, 1], got {style_mixing_prob}")
        if r1_gamma < 0:
            raise ValueError(f"model.r1_gamma must be >= 0, got {r1_gamma}")
        self.label_size = num_classes if conditional else 0
        self.G = StyleGANGenerator(resolution=resolution, num_channels=num_channels, label_size=self.label_size, **(generator or {}))
        self.D = StyleGANDiscriminator(resolution=resolution, num_channels=num_channels, label_size=self.label_size, **(discriminator or {}))
        self.init_growing(resolution, schedule, reset_optimizer_for_new_lod)
        self.G.synthesis.lod.fill_(self.schedule.at(0).lod)
        self.init_ema()
        self.r1_gamma = r1_gamma
        self.style_mixing_prob = style_mixing_prob
        self.sampling = settings_with_defaults("model.sampling", {"truncation_psi": 0.7, "truncation_cutoff": 8, "noise_mode": "const"}, sampling)
        self.betas = tuple(betas)
        self.eps = eps
        if conditional:
            self.provides_required = frozenset({"image", "label"})

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def before_step(self, batch: dict[str, Tensor]) -> None:
        super().before_step(batch)
        lod = self.current_state().lod
        self.G.synthesis.lod.fill_(lod)  # what G_ema.synthesis(ws) renders for sampling and metrics
        self.G_ema.synthesis.lod.fill_(lod)

    # ---- G as trained ---------------------------------------------------------------------------

    def training_fakes(self, n: int, c: Tensor | None, lod: float) -> Tensor:
        """Fakes at the current resolution with w_avg tracking, style mixing and random noise."""
        ws = self.G.mapping(self.global_randn(n, self.G.z_dim), c)
        self._track_w_avg(ws[:, 0])
        active = self.G.synthesis.active_layers(lod)
        ws2 = self.G.mapping(self.global_randn(n, self.G.z_dim), c)
        # One crossover per minibatch, drawn from the RNG every rank shares (no host sync needed).
        mixing = torch.rand((), device=self.device) < self.style_mixing_prob
        crossover = torch.randint(1, active, (), device=self.device)  # active >= 2: the 4x4 block has two layers
        ws = crossover_styles(ws, ws2, torch.where(mixing, crossover, active))
        noise = [self.global_randn(n, 1, r, r) for r in self.G.synthesis.layer_resolutions[:active]]
        return self.G.synthesis(ws, lod=lod, noise=noise, full_resolution=False)

    @torch.no_grad()
    def _track_w_avg(self, w: Tensor) -> None:
        batch_mean = w.detach().mean(dim=0)
        if self.world_size > 1:  # the global batch's mean, so 1 and N processes track the same average
            torch.distributed.all_reduce(batch_mean)
            batch_mean /= self.world_size
        self.G.mapping.track_w_avg(batch_mean)

    # ---- phases --------------------------------------------------------------------------------

    def phases(self) -> list[Phase]:
        return [Phase("D_main", "D", self.discriminator_loss), Phase("G_main", "G", self.generator_loss)]

    def discriminator_loss(self, batch: dict[str, Tensor]) -> Tensor:
        lod = self.current_state().lod
        reals = self.process_reals(batch["image"], lod)
        n = reals.shape[0]
        c = self.one_hot(batch.get("label"), self.label_size)
        with torch.no_grad():
            fakes = self.training_fakes(n, c, lod)
        fake_scores = self.D(fakes, c, lod)
        if self.r1_gamma > 0:
            with eager_for_gradient_penalty():
                real_scores, r1 = r1_of(lambda x: self.D(x, c, lod), reals)
            self.record("loss/r1_penalty", r1)
        else:
            real_scores, r1 = self.D(reals, c, lod), torch.zeros_like(fake_scores)
        loss = logistic_discriminator_loss(real_scores, fake_scores) + r1 * (self.r1_gamma * 0.5)
        self.record("scores/real", real_scores)
        self.record("scores/fake", fake_scores)
        return loss.mean()

    def generator_loss(self, batch: dict[str, Tensor]) -> Tensor:
        lod = self.current_state().lod
        n = batch["image"].shape[0]
        c = self.fake_labels(n, self.label_size)  # G's loss draws its own (D's fakes take the reals' labels, as in the TF code)
        fakes = self.training_fakes(n, c, lod)
        return logistic_generator_loss(self.D(fakes, c, lod)).mean()

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        lr = self.schedule.at(0).lr
        return [
            torch.optim.Adam(self.G.parameters(), lr=lr, betas=self.betas, eps=self.eps),
            torch.optim.Adam(self.D.parameters(), lr=lr, betas=self.betas, eps=self.eps),
        ]

    # ---- sampling ------------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        z: Tensor,  # [N, z_dim]
        labels: Tensor | None = None,  # [N] class indices (conditional models only)
        truncation_psi: float = 1.0,  # 1: no truncation
        truncation_cutoff: int | None = None,  # truncate styles 0 .. cutoff-1; None: all
        noise_mode: str = "const",  # 'const', 'random' or 'none'
        noise: list[Tensor] | None = None,  # per-style noise maps overriding noise_mode
    ) -> Tensor:
        """G_ema images in [-1, 1] at its current level of detail, nearest-upscaled to full resolution."""
        ws = self.G_ema.mapping(z.to(self.device), self.one_hot(labels, self.label_size), truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        # The lod read here, not from the buffer inside the synthesis: a compiled synthesis would break its graph at the .item().
        return self.G_ema.synthesis(ws, noise_mode=noise_mode, lod=float(self.G_ema.synthesis.lod), noise=noise)

    def sample(self, seeds: list[int], labels: Tensor | None = None, **kwargs: Any) -> Tensor:
        """uint8 images per seed; truncation_psi / truncation_cutoff / noise_mode default to model.sampling."""
        return self.sample_with_options(seeds, cycled_labels(seeds, labels, self.label_size), kwargs)

    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """Metric protocol of the official code: no truncation, random noise (here from `generator`)."""
        n = batch["image"].shape[0]
        z = torch.randn(n, self.G.z_dim, generator=generator)
        sizes = self.G_ema.synthesis.layer_resolutions
        noise = [torch.randn(n, 1, r, r, generator=generator).to(self.device) for r in sizes]
        return self.generate(z, batch.get("label"), truncation_psi=1.0, noise=noise)
