"""StarGAN v2 as a GANModule: the official four-step iteration, EMA of G, F and E (clovaai/stargan-v2 `core/solver.py`).

Per iteration, in the official order, on one batch (sources `image`/`label`, references
`ref_image`/`ref_image2` of domain `ref_label`, which is the target domain) and one pair of latents:

1. D, latent-guided: real loss + R1 on the sources, fake loss on G(x, F(z, y_trg)).
2. D, reference-guided: the same with the style E(x_ref, y_trg).
3. G, F and E together, latent-guided: adversarial + style reconstruction + cycle − λ_ds · diversity.
4. G alone, reference-guided: the same with reference styles.

then G_ema, F_ema and E_ema move towards G, F and E with a fixed beta. As in the official code, the
EMA networks start from PyTorch's default initialisation (copies made before He init is applied to
G, F, E and D), not from G's initial weights. Built right after torch.manual_seed(s), the initial
G, F, E, D and EMA weights equal those the official main.py builds with --seed s. Each step runs one backward
and steps its optimizers only; the networks of the other optimizers are frozen meanwhile, so they
neither change nor spend time on gradients. Nothing is computed twice from the same weights: G and F
do not change in steps 1 and 2, so step 3's latent-guided fake is step 1's (generated once, with its
graph), and G's encoder, which does not see the style, encodes the sources once for steps 1-3 and once
for step 4 (the official code recomputes each; the values are the same bit for bit). λ_ds decays
linearly to 0 over `ds_kimg` and is computed from `cur_nimg`, so a resumed run uses exactly the value
the uninterrupted one would.
"""

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.losses.r1 import r1_penalty
from gan_zoo.models.base import GANModule, eager_for_gradient_penalty, settings_with_defaults
from gan_zoo.models.stargan_v2.blocks import he_init
from gan_zoo.models.stargan_v2.discriminator import Discriminator
from gan_zoo.models.stargan_v2.encoder import StyleEncoder
from gan_zoo.models.stargan_v2.fan import FAN
from gan_zoo.models.stargan_v2.generator import Generator, SourceEncoding
from gan_zoo.models.stargan_v2.landmarks import FaceMasker, load_face_masker
from gan_zoo.models.stargan_v2.loss import adversarial_loss, lambda_ds_at, mean_abs
from gan_zoo.models.stargan_v2.mapping import MappingNetwork

LOSS_DEFAULTS = {"lambda_reg": 1.0, "lambda_sty": 1.0, "lambda_cyc": 1.0, "lambda_ds": 1.0, "ds_kimg": 800.0}
PREVIEW_SOURCES = 8  # source images kept from the data set for `sample` (latent-guided preview grids)


@dataclass(frozen=True)
class TranslationPhase:
    name: str  # logged as loss/<name>
    optimizers: tuple[str, ...]  # the optimizers this step updates (one backward, several steps)
    loss: Callable[[dict[str, Any]], Tensor]  # iteration inputs -> scalar loss


class StarGANv2Module(GANModule):
    optimizer_names = ("G", "F", "E", "D")
    provides_required = frozenset({"image", "label", "ref_image", "ref_image2", "ref_label"})
    generate_module = "gan_zoo.models.stargan_v2.generate"  # generate translates source images

    def __init__(
        self,
        resolution: int,  # image side (power of two >= 16)
        num_domains: int,  # domains of the data set (>= 2)
        num_channels: int = 3,  # image channels
        latent_dim: int = 16,  # size of z
        style_dim: int = 64,  # size of the style codes
        max_conv_dim: int = 512,  # channel cap of G, E and D
        channel_base: int = 2**14,  # first-layer channels = channel_base // resolution (official 2**14)
        mapping_hidden: int = 512,  # width of F's hidden layers
        downsamplings: int | None = None,  # G's encoder halvings; None: official log2(resolution) − 4 (+1 with w_hpf)
        w_hpf: float = 0.0,  # > 0: G's high-pass skip path with FAN face masks (CelebA-HQ 1); 0: none (AFHQ)
        fan_path: str | None = None,  # the frozen FAN landmark network (wing.ckpt); needed only when w_hpf > 0
        loss: dict[str, float] | None = None,  # lambda_reg, lambda_sty, lambda_cyc, lambda_ds, ds_kimg
        lr: float = 1e-4,  # Adam lr of G, E and D
        f_lr: float = 1e-6,  # Adam lr of F (100x smaller)
        betas: tuple[float, float] = (0.0, 0.99),  # Adam betas
        weight_decay: float = 1e-4,  # Adam (L2) weight decay of every network
        eps: float = 1e-8,  # Adam epsilon
        ema: dict[str, float] | None = None,  # {"beta": per-iteration decay of G_ema, F_ema and E_ema}
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        super().__init__(ema=ema or {"beta": 0.999}, compile=compile)
        if num_domains < 2:
            raise ConfigError(
                f"StarGAN v2 translates between domains, but data.num_classes (the domain count) is {num_domains}; use a data set with >= 2 domains"
            )
        self.loss_config = settings_with_defaults("model.loss", LOSS_DEFAULTS, loss)
        unknown = set(self.loss_config) - set(LOSS_DEFAULTS)
        if unknown:
            raise ConfigError(f"unknown model.loss keys {sorted(unknown)}; use {', '.join(LOSS_DEFAULTS)}")
        self.num_domains, self.latent_dim, self.style_dim = num_domains, latent_dim, style_dim
        self.w_hpf, self.fan_path = float(w_hpf), fan_path
        shared = {"max_conv_dim": max_conv_dim, "channel_base": channel_base, "channels": num_channels}
        try:
            self.G = Generator(resolution, style_dim, w_hpf=w_hpf, downsamplings=downsamplings, **shared)
        except ValueError as error:
            raise ConfigError(str(error)) from error
        self.F = MappingNetwork(latent_dim, style_dim, num_domains, mapping_hidden)
        self.E = StyleEncoder(resolution, style_dim, num_domains, **shared)
        self.D = Discriminator(resolution, num_domains, **shared)
        self.init_ema()  # before he_init: the official build_model copies the default-initialised nets
        if self.w_hpf > 0:
            # The official build_model then builds the FAN (default init, overwritten by wing.ckpt)
            # before the solver's he_init: building one and dropping it draws the same random
            # numbers, so a seed gives the official initial weights with the face models too.
            FAN()
        for net in self.networks().values():
            net.apply(he_init)
        self.lr, self.f_lr, self.betas, self.weight_decay, self.eps = lr, f_lr, tuple(betas), weight_decay, eps
        self._face_masker: list[FaceMasker] = []  # loaded on first use; a list keeps it out of the state dict
        self.preview_sources: Tensor | None = None  # set from the data set in setup(); see sample()
        self.domain_names: list[str] | None = None  # from the data set in setup(); saved in checkpoints for generate

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "F": self.F, "E": self.E, "D": self.D}

    # ---- EMA of G, F and E -----------------------------------------------------------------------

    def init_ema(self) -> None:
        """Copies of G, F and E as they are now; __init__ calls it before He init (see the docstring)."""
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.F_ema = copy.deepcopy(self.F).eval().requires_grad_(False)
        self.E_ema = copy.deepcopy(self.E).eval().requires_grad_(False)

    @torch.no_grad()
    def update_ema(self, global_batch: int) -> None:
        beta = self.ema_beta(global_batch)
        for ema, net in ((self.G_ema, self.G), (self.F_ema, self.F), (self.E_ema, self.E)):
            averages = list(ema.parameters())
            # lerp(param, ema, beta), the official `moving_average` form: the equal ema + (1 − beta)·(param − ema)
            # rounds differently (1 − beta is not exact in float32): a third of the entries after one update.
            torch._foreach_copy_(averages, torch._foreach_lerp([p.detach() for p in net.parameters()], averages, beta))

    def compiled_networks(self) -> list[nn.Module]:
        return [*self.networks().values(), self.G_ema, self.F_ema, self.E_ema]

    def setup(self, stage: str) -> None:
        super().setup(stage)  # compiles the networks and their EMA copies when asked
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        dataset = getattr(datamodule, "dataset", None)
        if dataset is not None and getattr(dataset, "domain_names", None) is not None:
            self.domain_names = list(dataset.domain_names)
        if dataset is not None and self.preview_sources is None:
            count = min(PREVIEW_SOURCES, len(getattr(dataset, "images", dataset)))  # distinct images, not draws
            preview = getattr(dataset, "preview", dataset.__getitem__)  # domain sets: the source without augmentation
            self.preview_sources = torch.stack([preview(i)["image"] for i in range(count)])

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["gan_zoo"]["domain_names"] = self.domain_names

    def restore_record(self, record: dict[str, Any]) -> None:
        if record.get("domain_names") is not None:
            self.domain_names = list(record["domain_names"])

    # ---- the face masks of the high-pass path --------------------------------------------------

    def face_masks(self, images: Tensor) -> tuple[Tensor, Tensor] | None:
        """FAN masks of `images` when w_hpf > 0 (loaded from fan_path on first use); None otherwise."""
        if self.w_hpf <= 0:
            return None
        if not self._face_masker:
            self._face_masker.append(load_face_masker(self.fan_path, self.device))
        return self._face_masker[0](images)

    # ---- the iteration ---------------------------------------------------------------------------

    def current_lambda_ds(self) -> float:
        return lambda_ds_at(self.loss_config["lambda_ds"], int(self.cur_nimg), int(self.loss_config["ds_kimg"] * 1000))

    def phases(self) -> list[TranslationPhase]:  # type: ignore[override]
        return [
            TranslationPhase("D_latent", ("D",), lambda inputs: self.discriminator_loss(inputs, "latent")),
            TranslationPhase("D_reference", ("D",), lambda inputs: self.discriminator_loss(inputs, "reference")),
            TranslationPhase("G_latent", ("G", "F", "E"), lambda inputs: self.generator_loss(inputs, "latent")),
            TranslationPhase("G_reference", ("G",), lambda inputs: self.generator_loss(inputs, "reference")),
        ]

    def iteration_inputs(self, batch: dict[str, Tensor]) -> dict[str, Any]:
        """The batch plus what the four steps share: two latents per sample, the sources' face masks, and
        `generated`, the forwards a later step reuses, starting with the latent-guided fake (`latent_fake`),
        made here, before any step freezes G and F, so that it carries their graph."""
        n = batch["image"].shape[0]
        z_trg, z_trg2 = self.global_randn(n, self.latent_dim), self.global_randn(n, self.latent_dim)
        inputs = {**batch, "z_trg": z_trg, "z_trg2": z_trg2, "masks": self.face_masks(batch["image"]), "generated": {}}
        self.latent_fake(inputs)
        return inputs

    def _weights_version(self, *nets: nn.Module) -> tuple[tuple[int, int], ...]:
        """Each parameter's identity and in-place version counter: an optimizer step or a weight load
        changes them, so a cached forward is reused only while the weights that made it are unchanged."""
        return tuple((id(p), p._version) for net in nets for p in net.parameters())

    def latent_fake(self, inputs: dict[str, Any]) -> tuple[Tensor, Tensor]:
        """(s_trg, G(x, s_trg)) with s_trg = F(z_trg, y_trg): D_latent's fake and, as G and F have not
        changed in between, G_latent's. Made once, with the graph through G and F when they are trainable
        (`iteration_inputs`), so G_latent backpropagates through the same forward; made again only if
        G or F changed (an optimizer step), and G_latent makes its own if this one has no graph."""
        generated = inputs["generated"]
        version = self._weights_version(self.G, self.F)
        if generated.get("latent_version") != version:
            style = self.F(inputs["z_trg"], inputs["ref_label"])
            image, encoding = self.G(inputs["image"], style, inputs["masks"], return_encoding=True)
            generated.update(latent=(style, image), latent_version=version, encoding=encoding, encoding_version=self._weights_version(self.G))
        return generated["latent"]

    def source_encoding(self, inputs: dict[str, Any]) -> SourceEncoding:
        """G's encoding of the sources without its graph, for fakes drawn under no_grad; reused while G is unchanged."""
        generated = inputs["generated"]
        version = self._weights_version(self.G)
        if generated.get("encoding_version") != version:
            with torch.no_grad():
                generated.update(encoding=self.G.encode_source(inputs["image"], inputs["masks"]), encoding_version=version)
        return generated["encoding"].detach()

    def target_style(self, inputs: dict[str, Any], guide: str, second: bool = False) -> Tensor:
        """Target-domain style from the latent (F) or from the reference image (E)."""
        y_trg = inputs["ref_label"]
        if guide == "latent":
            return self.F(inputs["z_trg2" if second else "z_trg"], y_trg)
        return self.E(inputs["ref_image2" if second else "ref_image"], y_trg)

    def discriminator_loss(self, inputs: dict[str, Any], guide: str) -> Tensor:
        x_real = inputs["image"].detach().requires_grad_(True)
        with eager_for_gradient_penalty():
            real_logits = self.D(x_real, inputs["label"])
            penalty = 0.5 * r1_penalty(real_logits, x_real).mean()  # the official 0.5 · mean over the batch
        if guide == "latent":
            x_fake = self.latent_fake(inputs)[1].detach()
        else:
            with torch.no_grad():
                x_fake = self.G(self.source_encoding(inputs), self.target_style(inputs, guide), inputs["masks"])
        fake_logits = self.D(x_fake, inputs["ref_label"])
        self.record(f"scores/real_{guide}", real_logits)
        self.record(f"scores/fake_{guide}", fake_logits)
        self.record(f"loss/r1_{guide}", penalty)
        return adversarial_loss(real_logits, 1.0) + adversarial_loss(fake_logits, 0.0) + self.loss_config["lambda_reg"] * penalty

    def generator_loss(self, inputs: dict[str, Any], guide: str) -> Tensor:
        x_real, y_org, y_trg, masks = inputs["image"], inputs["label"], inputs["ref_label"], inputs["masks"]
        s_trg, x_fake = self.latent_fake(inputs) if guide == "latent" else (None, None)
        if x_fake is None or not x_fake.requires_grad:  # reference-guided, or made while G was frozen
            s_trg = self.target_style(inputs, guide)
            x_fake, encoding = self.G(x_real, s_trg, masks, return_encoding=True)
            inputs["generated"].update(encoding=encoding, encoding_version=self._weights_version(self.G))
        loss_adv = adversarial_loss(self.D(x_fake, y_trg), 1.0)
        loss_sty = mean_abs(self.E(x_fake, y_trg), s_trg)
        with torch.no_grad():  # the official detaches x_fake2: building its graph would be wasted
            x_fake2 = self.G(self.source_encoding(inputs), self.target_style(inputs, guide, second=True), masks)
        loss_ds = mean_abs(x_fake, x_fake2)
        x_rec = self.G(x_fake, self.E(x_real, y_org), self.face_masks(x_fake))
        loss_cyc = mean_abs(x_rec, x_real)
        lambda_ds = self.current_lambda_ds()
        for name, value in (("adv", loss_adv), ("sty", loss_sty), ("ds", loss_ds), ("cyc", loss_cyc)):
            self.record(f"loss/{name}_{guide}", value)
        self.record("loss/lambda_ds", torch.tensor(lambda_ds))
        c = self.loss_config
        return loss_adv + c["lambda_sty"] * loss_sty - lambda_ds * loss_ds + c["lambda_cyc"] * loss_cyc

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._restore_rng_states_once()
        optimizers = dict(zip(self.optimizer_names, self._optimizer_list(), strict=True))
        self._step_losses = {}
        self._freeze_all_but(optimizers, self.optimizer_names)  # the latent fake's graph runs through G and F
        inputs = self.iteration_inputs(batch)
        for phase in self.phases():
            # The same profiler ranges as GANModule.training_step (benchmarks/train_step.py --profile reads them).
            with torch.profiler.record_function(f"phase/{phase.name}"):
                active = [optimizers[name] for name in phase.optimizers]
                self._freeze_all_but(optimizers, phase.optimizers)
                loss = phase.loss(inputs)
                for optimizer in optimizers.values():
                    optimizer.zero_grad(set_to_none=True)
                self.manual_backward(loss)
                for optimizer in active:
                    self._average_gradients(optimizer)
                    optimizer.step()
                self._step_losses[f"loss/{phase.name}"] = loss.detach()
        self._freeze_all_but(optimizers, self.optimizer_names)
        global_batch = batch["image"].shape[0] * self.world_size
        with torch.profiler.record_function("phase/ema"):
            self.update_ema(global_batch)
        self.cur_nimg += global_batch
        self.step_count += 1
        self.log_step()

    @staticmethod
    def _freeze_all_but(optimizers: dict[str, torch.optim.Optimizer], trainable: tuple[str, ...]) -> None:
        # Only parameters an optimizer holds are touched: the generator's unused shortcut convs stay frozen.
        for name, optimizer in optimizers.items():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    p.requires_grad_(name in trainable)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        def adam(net: nn.Module, lr: float) -> torch.optim.Optimizer:
            params = [p for p in net.parameters() if p.requires_grad]
            return torch.optim.Adam(params, lr=lr, betas=self.betas, eps=self.eps, weight_decay=self.weight_decay)

        return [adam(self.G, self.lr), adam(self.F, self.f_lr), adam(self.E, self.lr), adam(self.D, self.lr)]

    def progress_description(self) -> str:
        return f"lambda_ds={self.current_lambda_ds():.3f}"

    # ---- translation with the EMA networks (sampling, evaluation, generate) ----------------------

    @torch.no_grad()
    def translate(self, sources: Tensor, styles: Tensor) -> Tensor:
        """G_ema(sources, styles) in [-1, 1] (with the sources' face masks when w_hpf > 0)."""
        sources = sources.to(self.device)
        return self.G_ema(sources, styles.to(self.device), self.face_masks(sources))

    @torch.no_grad()
    def latent_styles(self, z: Tensor, domains: Tensor) -> Tensor:
        return self.F_ema(z.to(self.device), domains.to(self.device))

    @torch.no_grad()
    def reference_styles(self, references: Tensor, domains: Tensor) -> Tensor:
        return self.E_ema(references.to(self.device), domains.to(self.device))

    def sample(self, seeds: list[int], sources: Tensor | None = None, domains: Tensor | None = None, **kwargs: Any) -> Tensor:
        """uint8 latent-guided translations, one per seed: source seed % S, z from the seed, domain seed % K.

        Without `sources`, the first images of the training set (kept at set-up) are translated.
        """
        if sources is None:
            sources = self.preview_sources
        if sources is None:
            raise ConfigError("StarGAN v2 samples are translations of source images: pass sources (none were kept from a data set)")
        index = torch.tensor(list(seeds))
        domains = index % self.num_domains if domains is None else domains
        styles = self.latent_styles(self.latents_from_seeds(seeds, self.latent_dim), domains)
        images = self.translate(sources[index % sources.shape[0]], styles)
        return to_uint8(images)

    @torch.no_grad()
    def reference_grid(self, sources: Tensor, references: Tensor, ref_domains: Tensor) -> Tensor:
        """The official sources x references grid, uint8, row-major with len(sources) + 1 columns.

        First row: a white corner, then the sources; then per reference: the reference, then every
        source translated with its style.
        """
        styles = self.reference_styles(references, ref_domains)
        sources = sources.to(self.device)
        masks = self.face_masks(sources)
        encoding = self.G_ema.encode_source(sources, masks)  # once: every row decodes the same sources
        rows = [torch.cat([torch.ones_like(sources[:1]), sources])]
        for i in range(references.shape[0]):
            translated = self.G_ema(encoding, styles[i : i + 1].expand(sources.shape[0], -1), masks)
            rows.append(torch.cat([references[i : i + 1].to(self.device), translated]))
        return to_uint8(torch.cat(rows))

    @torch.no_grad()
    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """The batch's images translated by latent-guided styles (z from `generator`) to `ref_label`,
        or, without it, to domains drawn from `generator`."""
        n = batch["image"].shape[0]
        z = torch.randn(n, self.latent_dim, generator=generator)
        domains = batch.get("ref_label")
        if domains is None:
            domains = torch.randint(self.num_domains, (n,), generator=generator)
        return self.translate(batch["image"], self.latent_styles(z, domains))
