"""PGGAN as a GANModule: WGAN-GP with drift, progressive growing with fade-in, the official schedule.

Per minibatch, as the official training loop: one D step (WGAN-GP + epsilon drift, + AC-GAN terms when
conditional), the G_ema update (beta 0.999 per step, run together with the D step, so G_ema trails G
by one step exactly as `Gs_update_op` does), then one G step. The schedule (lod, minibatch, lr) is
re-evaluated every `minibatch_repeats` steps and Adam's state is reset whenever a new level of detail
begins or ends its fade-in.
"""

from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.data.transforms import to_uint8
from gan_zoo.layers.resample import upscale_nearest
from gan_zoo.losses.auxiliary_classifier import auxiliary_classifier_loss
from gan_zoo.losses.wgan_gp import drift_penalty, gradient_penalty, wgan_discriminator_loss, wgan_generator_loss
from gan_zoo.models.base import GANModule, Phase, cycled_labels, eager_for_gradient_penalty, settings_with_defaults
from gan_zoo.models.pggan.growing import ProgressiveGrowing
from gan_zoo.models.pggan.networks import PGGANDiscriminator, PGGANGenerator


class PGGANModule(ProgressiveGrowing, GANModule):
    ema_after_phase = "D_main"
    nonfinite_gradients = "skip_step"  # tfutil.py Optimizer: no update when a gradient is NaN or inf

    def __init__(
        self,
        resolution: int,  # final image resolution (a power of two >= 4)
        num_channels: int = 3,  # image channels
        num_classes: int = 0,  # classes of the data set (used only when conditional)
        conditional: bool = False,  # labels concatenated to z, AC-GAN head on D (label_size = num_classes)
        generator: dict[str, Any] | None = None,  # PGGANGenerator keyword arguments (fmap_base, ...)
        discriminator: dict[str, Any] | None = None,  # PGGANDiscriminator keyword arguments (mbstd_group_size, ...)
        loss: dict[str, float] | None = None,  # wgan_lambda, wgan_target, wgan_epsilon, cond_weight
        schedule: dict[str, Any] | None = None,  # PGGANSchedule fields except resolution
        betas: tuple[float, float] = (0.0, 0.99),  # Adam betas of G and D
        eps: float = 1e-8,  # Adam epsilon
        reset_optimizer_for_new_lod: bool = True,  # official: Adam state reset at each new level of detail
        ema: dict[str, float] | None = None,  # {"beta": 0.999} per step
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        super().__init__(ema=ema or {"beta": 0.999}, compile=compile)
        label_size = num_classes if conditional else 0
        if conditional and num_classes < 2:
            raise ValueError(f"model.conditional=true needs a labelled data set, but data.num_classes is {num_classes}")
        self.label_size = label_size
        self.G = PGGANGenerator(resolution=resolution, num_channels=num_channels, label_size=label_size, **(generator or {}))
        self.D = PGGANDiscriminator(resolution=resolution, num_channels=num_channels, label_size=label_size, **(discriminator or {}))
        self.init_ema()
        self.loss_config = settings_with_defaults("model.loss", {"wgan_lambda": 10.0, "wgan_target": 1.0, "wgan_epsilon": 0.001, "cond_weight": 1.0}, loss)
        self.init_growing(resolution, schedule, reset_optimizer_for_new_lod)
        self.betas = tuple(betas)
        self.eps = eps
        if conditional:
            self.provides_required = frozenset({"image", "label"})

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    # ---- phases --------------------------------------------------------------------------------

    def phases(self) -> list[Phase]:
        return [Phase("D_main", "D", self.discriminator_loss), Phase("G_main", "G", self.generator_loss)]

    def discriminator_loss(self, batch: dict[str, Tensor]) -> Tensor:
        lod = self.current_state().lod
        reals = self.process_reals(batch["image"], lod)
        n = reals.shape[0]
        labels = self.one_hot(batch.get("label"), self.label_size)
        with torch.no_grad():
            fakes = self.G(self.global_randn(n, self.G.z_dim), labels, lod)
        real_scores, real_logits = self.D(reals, lod)
        fake_scores, fake_logits = self.D(fakes, lod)
        mix = self.global_rand(n)
        with eager_for_gradient_penalty():
            penalty = gradient_penalty(lambda x: self.D(x, lod)[0], reals, fakes, mix, target=self.loss_config["wgan_target"])
        loss = (
            wgan_discriminator_loss(real_scores, fake_scores)
            + penalty * self.loss_config["wgan_lambda"]  # gradient_penalty already divides by target²
            + drift_penalty(real_scores, self.loss_config["wgan_epsilon"])
        )
        self.record("scores/real", real_scores)
        self.record("scores/fake", fake_scores)
        self.record("loss/gradient_penalty", penalty)
        if labels is not None:
            label_loss = auxiliary_classifier_loss(real_logits, labels) + auxiliary_classifier_loss(fake_logits, labels)
            loss = loss + label_loss * self.loss_config["cond_weight"]
            self.record("loss/D_label", label_loss)
        return loss.mean()

    def generator_loss(self, batch: dict[str, Tensor]) -> Tensor:
        lod = self.current_state().lod
        n = batch["image"].shape[0]
        labels = self.fake_labels(n, self.label_size)  # G's loss draws its own (D's fakes take the reals' labels, as in the TF code)
        fakes = self.G(self.global_randn(n, self.G.z_dim), labels, lod)
        fake_scores, fake_logits = self.D(fakes, lod)
        loss = wgan_generator_loss(fake_scores)
        if labels is not None:
            loss = loss + auxiliary_classifier_loss(fake_logits, labels) * self.loss_config["cond_weight"]
        return loss.mean()

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        lr = self.schedule.at(0).lr
        return [
            torch.optim.Adam(self.G.parameters(), lr=lr, betas=self.betas, eps=self.eps),
            torch.optim.Adam(self.D.parameters(), lr=lr, betas=self.betas, eps=self.eps),
        ]

    # ---- sampling ------------------------------------------------------------------------------

    @torch.no_grad()
    def generate(self, z: Tensor, labels: Tensor | None = None, lod: float | None = None) -> Tensor:
        """G_ema images in [-1, 1] at the current level of detail (nearest-upscaled to full resolution)."""
        lod = self.current_state().lod if lod is None else lod
        images = self.G_ema(z.to(self.device), self.one_hot(labels, self.label_size), lod)
        return upscale_nearest(images, 2 ** int(lod)) if int(lod) > 0 else images

    def sample(self, seeds: list[int], labels: Tensor | None = None, **kwargs: Any) -> Tensor:
        images = self.generate(self.latents_from_seeds(seeds, self.G.z_dim), cycled_labels(seeds, labels, self.label_size))
        return to_uint8(images)

    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        n = batch["image"].shape[0]
        z = torch.randn(n, self.G.z_dim, generator=generator).to(self.device)
        return self.generate(z, batch.get("label"))
