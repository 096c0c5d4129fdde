"""StyleGAN-XL (Sauer et al. 2022) as a GANModule (autonomousvision/stylegan-xl `train.py`, `training/`).

One module trains one stage. The stem (`model.stage` = `stem_resolution`, 16 px in the paper) is a
StyleGAN3-T generator trained whole; every super-resolution stage (`model.stage` = 2x the previous,
`model.stem_ckpt` = the previous stage's checkpoint) loads that stage's G_ema, drops its critically
sampled layers, adds `head_layers` new ones and trains only those (the mapping is frozen). The
discriminator is built fresh for every stage.

Phases per minibatch, as the official loop: G main (hinge `-D(G(z, c))`, plus classifier guidance in
the super-resolution stages of a conditional run), G reg every `G_reg_interval` steps (path length,
only once `pl_start_kimg` images are shown; off in super-resolution stages; unlike StyleGAN2 its
loss is not multiplied by the interval, as in the official loss), D main (hinge on
reals and fakes). There is no R1, but the official `D_reg_interval = 16` still corrects D's Adam lr
and betas by 16/17. All D inputs are blurred with a sigma fading from 2 to 0 over 300 kimg.
The projected discriminator's loss keeps the official code's scaling by default
(`official_loss_scaling`: summed over samples; see gan_zoo.losses.projected_hinge).
"""

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.augment.blur import blur_sigma
from gan_zoo.checkpoints import load_checkpoint_file
from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.losses.path_length import path_lengths, running_path_length_penalty
from gan_zoo.losses.projected_hinge import classifier_guidance_loss, projected_hinge_d_loss, projected_hinge_g_loss
from gan_zoo.models.base import GANModule, Phase, cycled_labels, eager_for_gradient_penalty, lazy_regularization_adam_kwargs, settings_with_defaults
from gan_zoo.models.projected_gan.classifier import GuidanceClassifier
from gan_zoo.models.projected_gan.discriminator import require_cnn_input_size, stylegan_xl_discriminator
from gan_zoo.models.stylegan_xl.generator import StyleGANXLGenerator
from gan_zoo.models.stylegan_xl.superres import build_generator, grow_from_state_dict

LOSS_DEFAULTS = {
    "blur_init_sigma": 2.0,  # px, blur of every D input at the start
    "blur_fade_kimg": 300.0,  # the blur reaches 0 after this many kimg
    "pl_weight": 2.0,  # path-length weight in the stem (0 in super-resolution stages)
    "pl_decay": 0.01,
    "pl_batch_shrink": 2,
    "pl_start_kimg": 1000.0,  # path length only after 1M images
    "cls_weight": 0.0,  # classifier guidance weight (super-resolution stages of conditional runs)
    "official_loss_scaling": True,  # StyleGAN-XL's per-sample sum of the hinge terms
}
SAMPLING_DEFAULTS = {"truncation_psi": 1.0, "truncation_cutoff": None}


class StyleGANXLModule(GANModule):
    nonfinite_gradients = "nan_to_num"  # training_loop.py: NaN -> 0, ±inf -> ±1e5 before every step

    def __init__(
        self,
        resolution: int,  # image side of the data (must equal stage)
        stage: int,  # output side of the stage this run trains
        num_channels: int = 3,  # image channels (the feature networks take RGB)
        num_classes: int = 0,  # classes of the data set (used only when conditional)
        conditional: bool = False,  # class-conditional G (pretrained class embedding) and projection D
        stem_resolution: int = 16,  # output side of the stem stage
        head_layers: int = 7,  # layers added by every super-resolution stage
        up_factor: int = 2,  # resolution multiplier of every super-resolution stage
        stem_ckpt: str | None = None,  # the previous stage's gan-zoo checkpoint (needed to train a super-resolution stage)
        z_dim: int = 64,  # latent size
        w_dim: int = 512,  # style size
        channel_base: int = 65536,  # synthesis width scale (StyleGAN-XL doubles StyleGAN3's 32768)
        channel_max: int = 1024,  # synthesis width cap
        syn_layers: int = 10,  # stem synthesis layers before ToRGB (paper 10; train.py default 14)
        conv_kernel: int = 3,  # synthesis kernel side
        magnitude_ema_beta: float | None = None,  # decay of the layers' input-magnitude averages; None: 0.5 ** (batch / 20000)
        batch_size: int = 64,  # global batch, for the official magnitude_ema_beta formula
        num_fp16_res: int = 4,  # highest sampling rates in bf16/fp16 on CUDA
        conv_clamp: float | None = 256,  # clamp of synthesis layer outputs; None: off
        rand_embedding: bool = False,  # true: random class embedding instead of the pretrained one (must be asked for)
        embedding_path: str | None = None,  # torch.save'd [1000, 320] pretrained class embedding (conditional stems)
        mapping: dict[str, Any] | None = None,  # MappingNetwork options: num_layers (2), lr_multiplier (0.01), w_avg_beta (0.998)
        discriminator: dict[str, Any] | None = None,  # backbones, pretrained_backbones, backbone_weights, diffaug, interp224
        classifier: dict[str, Any] | None = None,  # guidance classifier: name, pretrained, weights
        loss: dict[str, Any] | None = None,  # see LOSS_DEFAULTS
        G_reg_interval: int | None = 4,  # steps between path-length steps (also corrects G's lr/betas by 4/5)
        D_reg_interval: int | None = 16,  # the official D reg interval: corrects D's lr/betas (no D regulariser runs)
        G_lr: float = 0.0025,  # Adam lr of G (stylegan3 configs)
        D_lr: float = 0.002,  # Adam lr of D
        betas: tuple[float, float] = (0.0, 0.99),  # Adam betas
        eps: float = 1e-8,  # Adam epsilon
        ema: dict[str, float | None] | None = None,  # {"half_life_kimg": null = batch * 10 / 32, "rampup": 0.05}
        sampling: dict[str, Any] | None = None,  # sample() defaults: truncation_psi, truncation_cutoff
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        ema_config = {"half_life_kimg": None, "rampup": 0.05, **(ema or {})}
        super().__init__(ema=ema_config, compile=compile)
        if stage != resolution:
            raise ConfigError(f"model.stage={stage} but data.resolution={resolution}: a stage trains on images of its own size; set both")
        if conditional and num_classes < 1:
            raise ConfigError(f"model.conditional=true needs a labelled data set, but data.num_classes is {num_classes}")
        if num_channels != 3:
            raise ConfigError(f"StyleGAN-XL's feature networks take RGB images; data.channels is {num_channels}")
        disc = {
            "backbones": ["deit_base_distilled_patch16_224", "tf_efficientnet_lite0"],
            "pretrained_backbones": None,
            "backbone_weights": None,
            "diffaug": True,
            "interp224": None,
            **(discriminator or {}),
        }
        if disc["pretrained_backbones"] is None:
            raise ConfigError(
                "model.discriminator.pretrained_backbones must be set: true loads the ImageNet feature networks "
                "(the paper), false uses random frozen ones (tests only)"
            )
        self.c_dim = num_classes if conditional else 0
        self.stage, self.stem_resolution = stage, stem_resolution
        self.is_superres = stage > stem_resolution
        self.loss_config = settings_with_defaults("model.loss", LOSS_DEFAULTS, loss)
        stem_kwargs = {
            "z_dim": z_dim, "c_dim": self.c_dim, "w_dim": w_dim, "img_channels": num_channels, "mapping_kwargs": mapping,
            "channel_base": channel_base, "channel_max": channel_max, "num_layers": syn_layers, "conv_kernel": conv_kernel,
            "magnitude_ema_beta": 0.5 ** (batch_size / 20000) if magnitude_ema_beta is None else magnitude_ema_beta,
            "num_fp16_res": num_fp16_res, "conv_clamp": conv_clamp, "rand_embedding": rand_embedding,
            "embedding_path": embedding_path,
        }  # fmt: skip
        growth = {"stem_resolution": stem_resolution, "head_layers": head_layers, "up_factor": up_factor}
        self.stem_loaded = False
        if not self.is_superres:
            self.G = StyleGANXLGenerator(img_resolution=stem_resolution, **stem_kwargs)
        elif stem_ckpt is not None:
            self.G = grow_from_state_dict(_previous_stage(stem_ckpt, stage // up_factor), stage, **growth, **stem_kwargs)
            self.stem_loaded = True
        else:  # shapes for `gan-zoo summary`, or the container a stage checkpoint is loaded into
            self.G = build_generator(stage, **growth, **stem_kwargs)
        require_cnn_input_size(stage, disc["interp224"], list(disc["backbones"]), "model.discriminator.interp224")
        self.D = stylegan_xl_discriminator(
            self.c_dim,
            disc["pretrained_backbones"],
            disc["backbone_weights"],
            interp224=disc["interp224"],
            diffaug=disc["diffaug"],
            backbones=tuple(disc["backbones"]),
        )
        if self.c_dim:  # the official D's class embeddings start from the generator's pretrained table
            self.D.load_class_embedding(self.G.mapping.embed.weight.detach())
        self.init_ema()
        clf = settings_with_defaults(
            "model.classifier", {"name": "deit_small_distilled_patch16_224", "pretrained": disc["pretrained_backbones"], "weights": None}, classifier
        )
        self.classifier_config = clf
        self.use_guidance = self.is_superres and bool(self.c_dim) and self.loss_config["cls_weight"] > 0
        # A loss network, like the metric networks: never a sub-module, so never in a checkpoint.
        object.__setattr__(self, "guidance_classifier", None)
        self.G_reg_interval, self.D_reg_interval = G_reg_interval, D_reg_interval
        self.G_lr, self.D_lr, self.betas, self.eps = G_lr, D_lr, tuple(betas), eps
        self.sampling = settings_with_defaults("model.sampling", SAMPLING_DEFAULTS, sampling)
        self.register_buffer("pl_mean", torch.zeros(()))  # running mean of path lengths (progress state)
        if conditional:
            self.provides_required = frozenset({"image", "label"})

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit" and self.use_guidance and self.guidance_classifier is None:
            object.__setattr__(
                self,
                "guidance_classifier",
                GuidanceClassifier(bool(self.classifier_config["pretrained"]), self.classifier_config["weights"], self.classifier_config["name"]),
            )

    def on_train_start(self) -> None:
        if self.is_superres and not self.stem_loaded and int(self.cur_nimg) == 0:
            raise ConfigError(
                f"model.stage={self.stage} trains a super-resolution stage on top of the previous one: pass "
                f"model.stem_ckpt=<checkpoint of the {self.stage // 2} px stage> (e.g. its run's checkpoints/last.ckpt)"
            )
        super().on_train_start()

    # ---- pieces shared by the phases -----------------------------------------------------------

    def run_G(self, n: int, c: Tensor | None, update_emas: bool = False) -> tuple[Tensor, Tensor]:
        """(images, ws). As the official loss, only the mapping's w_avg is updated (in the D phase):
        the synthesis layers' magnitude averages are never updated during training."""
        ws = self.G.mapping(self.global_randn(n, self.G.z_dim), c, update_emas=update_emas)
        return self.G.synthesis(ws), ws

    def run_D(self, images: Tensor, c: Tensor | None) -> list[Tensor]:
        sigma = blur_sigma(float(self.cur_nimg), self.loss_config["blur_init_sigma"], self.loss_config["blur_fade_kimg"])
        return self.D(images, c, blur_sigma=sigma)

    # ---- phases --------------------------------------------------------------------------------

    def phases(self) -> list[Phase]:
        phases = [Phase("G_main", "G", self.generator_main_loss)]
        pl_on = self.loss_config["pl_weight"] > 0 and not self.is_superres and self.G_reg_interval
        if pl_on and float(self.cur_nimg) >= self.loss_config["pl_start_kimg"] * 1000:
            # The official ProjectedGANLoss backpropagates `loss_Gpl.mean()` without the phase's gain (StyleGAN2's
            # loss multiplies by it): every 4th step, at 1x strength, while G's Adam still gets the 4/5 correction.
            phases.append(Phase("G_reg", "G", self.path_length_loss, self.G_reg_interval, scale_by_interval=False))
        phases.append(Phase("D_main", "D", self.discriminator_main_loss))
        return phases

    def generator_main_loss(self, batch: dict[str, Tensor]) -> Tensor:
        c = self.fake_labels(batch["image"].shape[0], self.c_dim)
        fakes, _ = self.run_G(batch["image"].shape[0], c)
        fake_logits = self.run_D(fakes, c)
        self.record("scores/fake_G", torch.cat([t.flatten() for t in fake_logits]))
        loss = projected_hinge_g_loss(fake_logits, self.loss_config["official_loss_scaling"])
        if self.use_guidance:
            guidance = classifier_guidance_loss(self.guidance_classifier.to(self.device)(fakes), c)
            self.record("loss/G_cls", guidance)
            loss = loss + self.loss_config["cls_weight"] * guidance
        return loss

    def path_length_loss(self, batch: dict[str, Tensor]) -> Tensor:
        n = max(batch["image"].shape[0] // int(self.loss_config["pl_batch_shrink"]), 1)
        c = self.fake_labels(n, self.c_dim)
        with eager_for_gradient_penalty():  # the penalty's gradient runs through G's backward
            images, ws = self.run_G(n, c)
        h, w = images.shape[2:]
        lengths = path_lengths(images, ws, self.global_randn(n, *images.shape[1:]) / (h * w) ** 0.5)
        penalty = running_path_length_penalty(lengths, self.pl_mean, self.loss_config["pl_decay"], self.world_size)
        self.record("pl/mean", self.pl_mean)
        return (penalty * self.loss_config["pl_weight"]).mean()

    def discriminator_main_loss(self, batch: dict[str, Tensor]) -> Tensor:
        reals = batch["image"]
        fake_c = self.fake_labels(reals.shape[0], self.c_dim)
        with torch.no_grad():
            fakes, _ = self.run_G(reals.shape[0], fake_c, update_emas=True)
        fake_logits = self.run_D(fakes, fake_c)
        real_logits = self.run_D(reals, self.one_hot(batch.get("label"), self.c_dim))
        self.record("scores/fake", torch.cat([t.flatten() for t in fake_logits]))
        self.record("scores/real", torch.cat([t.flatten() for t in real_logits]))
        self.record(
            "progress/blur_sigma", torch.tensor(blur_sigma(float(self.cur_nimg), self.loss_config["blur_init_sigma"], self.loss_config["blur_fade_kimg"]))
        )
        return projected_hinge_d_loss(real_logits, fake_logits, self.loss_config["official_loss_scaling"])

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        g = lazy_regularization_adam_kwargs(self.G_lr, self.betas, self.G_reg_interval)
        d = lazy_regularization_adam_kwargs(self.D_lr, self.betas, self.D_reg_interval)
        g_params = [p for p in self.G.parameters() if p.requires_grad]  # a super-resolution stage trains its head only
        return [torch.optim.Adam(g_params, eps=self.eps, **g), torch.optim.Adam(self.D.trainable_parameters(), eps=self.eps, **d)]

    def progress_description(self) -> str:
        return f"stage {self.stage}px"

    # ---- sampling and evaluation ---------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        z: Tensor,  # [N, z_dim]
        labels: Tensor | None = None,  # [N] class indices (conditional models only)
        truncation_psi: float = 1.0,  # 1: none; towards each class's own w_avg when conditional
        truncation_cutoff: int | None = None,  # truncate ws[:, :cutoff]; None: all
    ) -> Tensor:
        """G_ema images in [-1, 1]."""
        ws = self.G_ema.mapping(z.to(self.device), self.one_hot(labels, self.c_dim), truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.G_ema.synthesis(ws)

    def sample(self, seeds: list[int], labels: Tensor | None = None, **kwargs: Any) -> Tensor:
        """uint8 images per seed; a conditional model without labels cycles through the classes by seed."""
        return self.sample_with_options(seeds, cycled_labels(seeds, labels, self.c_dim), kwargs)

    @torch.no_grad()
    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """The class-conditional protocol: no truncation, the conditioning batch's labels (drawn from the data set by the metrics)."""
        z = torch.randn(batch["image"].shape[0], self.G.z_dim, generator=generator).to(self.device)
        ws = self.G_ema.mapping(z, self.one_hot(batch.get("label"), self.c_dim))
        return self.G_ema.synthesis(ws)


def _previous_stage(path: str, resolution: int) -> dict[str, Tensor]:
    """The previous stage's G_ema state dict from a gan-zoo StyleGAN-XL checkpoint, checked."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"model.stem_ckpt={path}: no such file; pass the checkpoint of the {resolution} px stage (e.g. <its run>/checkpoints/last.ckpt)")
    checkpoint = load_checkpoint_file(file)
    record = checkpoint.get("gan_zoo", {})
    if record.get("family") != "stylegan_xl":
        raise CheckpointError(f"model.stem_ckpt={path} is a '{record.get('family')}' checkpoint, not a StyleGAN-XL stage")
    stage = checkpoint.get("hyper_parameters", {}).get("stage")
    if stage is not None and int(stage) != resolution:
        raise CheckpointError(f"model.stem_ckpt={path} holds the {stage} px stage; this stage grows from the {resolution} px one")
    state = {k.removeprefix("G_ema."): v for k, v in checkpoint["state_dict"].items() if k.startswith("G_ema.")}
    if not state:
        raise CheckpointError(f"model.stem_ckpt={path} has no G_ema weights")
    return state
