"""GauGAN / SPADE (Park et al. 2019) as a GANModule (NVlabs/SPADE `models/pix2pix_model.py`,
`trainers/pix2pix_trainer.py`).

Per minibatch, in the official order: G main (hinge + lambda_feat * feature matching + lambda_vgg *
VGG19 perceptual + lambda_kld * KL of the encoder, VAE models), then D main (hinge). Real and fake
images, each concatenated with the semantic input, go through the multiscale D in one batch. Adam
with beta (0, 0.9) and TTUR (G 1e-4, D 4e-4); the encoder trains with G's optimizer. The learning
rates follow the official per-epoch schedule (`lr_schedule: epoch`) or a linear decay in kimg; both
are functions of cur_nimg, hence resumable (see `schedule`).

G_ema: the official SPADE keeps no moving average and evaluates G itself. gan-zoo's sampling and
metrics read G_ema, so the default `ema.beta` is 0: after every step G_ema is an exact copy of G
(weights, spectral-norm vectors, batch-norm statistics), which is the official behaviour; a positive
beta gives a real moving average for those who want one.
"""

from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.losses.feature_matching import feature_matching_loss
from gan_zoo.losses.hinge import hinge_discriminator_loss, hinge_generator_loss
from gan_zoo.losses.perceptual import VGGPerceptualLoss, load_vgg19_trunk
from gan_zoo.models.base import GANModule, Phase, eval_mode
from gan_zoo.models.spade.blocks import init_weights
from gan_zoo.models.spade.discriminator import MultiscaleDiscriminator
from gan_zoo.models.spade.encoder import ConvEncoder, reparameterize
from gan_zoo.models.spade.generator import SPADEGenerator
from gan_zoo.models.spade.loss import kl_divergence
from gan_zoo.models.spade.schedule import LR_SCHEDULES, epoch_lr, epoch_of, lr_factor
from gan_zoo.models.spade.semantics import semantic_input


class SPADEModule(GANModule):
    generate_module = "gan_zoo.models.spade.generate"  # generate renders label maps

    def __init__(
        self,
        resolution: int,  # image width in px (the official crop_size)
        label_nc: int | None,  # labels of the data set, without dontcare (data.label_nc)
        aspect_ratio: float = 1.0,  # width / height (Cityscapes 2.0)
        contain_dontcare_label: bool = False,  # one more one-hot channel for unlabelled pixels
        use_instance: bool = True,  # add the instance edge map (the data set must provide `instance`)
        num_channels: int = 3,  # image channels
        ngf: int = 64,  # generator base channels
        num_upsampling_layers: str = "normal",  # normal | more | most: x2 upsamplings 5 | 6 | 7
        use_vae: bool = False,  # multimodal: image encoder, z through G's linear input layer, KL loss
        z_dim: int = 256,  # latent size of VAE models
        param_free_norm: str = "syncbatch",  # SPADE's normalisation: syncbatch | batch | instance
        spade_hidden: int = 128,  # SPADE's shared conv channels
        spade_kernel: int = 3,  # SPADE's conv kernel
        spectral: bool = True,  # spectral norm in G's ResBlks, D's and E's normalised convs
        ndf: int = 64,  # discriminator first-layer channels
        num_D: int = 2,  # discriminator scales
        n_layers_D: int = 4,  # conv layers per discriminator scale
        ndf_E: int = 64,  # encoder first-layer channels
        encoder_size: int = 256,  # the encoder resizes images to this square size
        lambda_feat: float = 10.0,  # feature-matching weight; 0: off
        lambda_vgg: float = 10.0,  # VGG19 perceptual weight; 0: off (needs no weight file)
        lambda_kld: float = 0.05,  # KL weight (VAE models)
        vgg_weights: str | None = None,  # torchvision VGG19 file; None: $GAN_ZOO_VGG19_WEIGHTS or torch.hub's checkpoints/vgg19-dcbb9e9d.pth
        lr_G: float = 1e-4,  # Adam lr of G (and E)
        lr_D: float = 4e-4,  # Adam lr of D
        betas: tuple[float, float] = (0.0, 0.9),  # Adam betas of both
        lr_schedule: str = "kimg_linear",  # epoch (official; conf default, see schedule.py) | kimg_linear (default here: older checkpoints lack this key)
        niter: int = 0,  # lr_schedule epoch: epochs at the initial lr (the official --niter)
        niter_decay: int = 0,  # lr_schedule epoch: epochs of decay by lr / niter_decay each (--niter_decay); 0: none
        dataset_size: int | None = None,  # lr_schedule epoch: training images N, an epoch is N // batch steps; None: the data set's length
        niter_kimg: float = 0.0,  # lr_schedule kimg_linear: kimg at the initial lr
        niter_decay_kimg: float = 0.0,  # lr_schedule kimg_linear: kimg of linear decay to zero after niter_kimg; 0: no decay
        init_gain: float = 0.02,  # xavier_normal gain of every conv/linear weight
        label_shift: int = 0,  # raw label-file value of label 0 (ADE20K 1); for gan-zoo generate
        dontcare_values: tuple[int, ...] = (),  # raw label-file values meaning dontcare; for gan-zoo generate
        ema: dict[str, float] | None = None,  # {"beta": 0.0}: G_ema is G (see the module docstring)
        compile: bool | str = False,  # torch.compile the networks in place: true (inductor) or a backend name
    ) -> None:
        super().__init__(ema=dict(ema or {"beta": 0.0}), compile=compile)
        if label_nc is None or label_nc < 1:
            raise ConfigError(
                f"model spade needs a label-map data set declaring data.label_nc (got {label_nc}); use data=shapes_segmaps, "
                "cityscapes, ade20k, cocostuff or paired_folder"
            )
        self.label_nc, self.use_instance, self.use_vae = label_nc, use_instance, use_vae
        self.num_labels = label_nc + (1 if contain_dontcare_label else 0)
        self.label_shift, self.dontcare_values = label_shift, tuple(dontcare_values)
        self.aspect_ratio = aspect_ratio
        semantic_nc = self.num_labels + (1 if use_instance else 0)
        self.G = SPADEGenerator(
            semantic_nc,
            resolution,
            aspect_ratio,
            ngf,
            num_upsampling_layers,
            use_vae,
            z_dim,
            num_channels,
            spectral,
            param_free_norm,
            spade_hidden,
            spade_kernel,
        )
        init_weights(self.G, init_gain)
        self.D = MultiscaleDiscriminator(semantic_nc + num_channels, num_D, ndf, n_layers_D, spectral)
        init_weights(self.D, init_gain)
        self.E: ConvEncoder | None = None
        if use_vae:
            self.E = ConvEncoder(ndf_E, z_dim, encoder_size, num_channels, spectral)
            init_weights(self.E, init_gain)
        self.init_ema()
        self.z_dim = z_dim
        self.lambdas = {"feat": lambda_feat, "vgg": lambda_vgg, "kld": lambda_kld}
        self.vgg_weights = vgg_weights
        self.vgg: VGGPerceptualLoss | None = None  # loaded in setup("fit"); never a sub-module (not checkpointed)
        self.lr_G, self.lr_D, self.betas = lr_G, lr_D, tuple(betas)
        _check_lr_schedule(lr_schedule, niter, niter_decay, niter_kimg, niter_decay_kimg)
        self.lr_schedule, self.niter, self.niter_decay, self.dataset_size = lr_schedule, niter, niter_decay, dataset_size
        self.niter_kimg, self.niter_decay_kimg = niter_kimg, niter_decay_kimg
        self.provides_required = frozenset({"image", "segmap", "instance"} if use_instance else {"image", "segmap"})

    def networks(self) -> dict[str, nn.Module]:
        nets: dict[str, nn.Module] = {"G": self.G, "D": self.D}
        if self.E is not None:
            nets["E"] = self.E
        return nets

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the generated images."""
        return self.G.image_size

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit":
            self._check_data()
            self._resolve_epoch_length()
            if self.lambdas["vgg"] > 0 and self.vgg is None:
                self.vgg = VGGPerceptualLoss(load_vgg19_trunk(self.vgg_weights))

    def _check_data(self) -> None:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        dataset = getattr(datamodule, "dataset", None)
        data_labels = getattr(dataset, "label_nc", None)
        if data_labels is not None and data_labels != self.label_nc:
            raise ConfigError(f"the data set has {data_labels} labels but model.label_nc is {self.label_nc}; set both from data.label_nc")
        data_aspect = getattr(dataset, "aspect_ratio", 1.0)
        if dataset is not None and abs(data_aspect - self.aspect_ratio) > 1e-6:
            raise ConfigError(
                f"the data set's images have aspect ratio {data_aspect} but model.aspect_ratio is {self.aspect_ratio}; set both from data.aspect_ratio"
            )

    def _resolve_epoch_length(self) -> None:
        """lr_schedule epoch: N from the data set unless given; fails at set-up, not at the first decay."""
        if self.lr_schedule != "epoch" or self.niter_decay <= 0:
            return
        if self.dataset_size is None:
            datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
            dataset = getattr(datamodule, "dataset", None)
            if dataset is None:
                raise ConfigError("model.lr_schedule=epoch needs the training set's size: train with a datamodule or set model.dataset_size")
            self.dataset_size = len(dataset)
        if self.dataset_size < self.batch_size:
            raise ConfigError(
                f"model.lr_schedule=epoch: the {self.dataset_size}-image training set holds no full batch of {self.batch_size} "
                "(the official loader drops the last partial batch); use model.lr_schedule=kimg_linear or a smaller batch"
            )

    def scheduled_lr(self, base_lr: float) -> float:
        """The rate of the step starting at cur_nimg for an optimizer whose initial rate is `base_lr`."""
        if self.lr_schedule == "kimg_linear":
            return base_lr * lr_factor(int(self.cur_nimg), self.niter_kimg, self.niter_decay_kimg)
        if self.niter_decay <= 0:
            return base_lr
        if self.dataset_size is None:
            raise ConfigError("model.lr_schedule=epoch needs the training set's size: train with a datamodule or set model.dataset_size")
        return epoch_lr(base_lr, epoch_of(int(self.cur_nimg), self.batch_size, self.dataset_size), self.niter, self.niter_decay)

    # ---- pieces shared by the phases -----------------------------------------------------------

    def semantics(self, batch: dict[str, Tensor]) -> Tensor:
        instance = batch["instance"] if self.use_instance else None
        return semantic_input(batch["segmap"].to(self.device), self.num_labels, None if instance is None else instance.to(self.device))

    def encode(self, images: Tensor, eps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(z, mu, logvar) of the encoder for `images`, z reparameterised with the noise `eps`."""
        assert self.E is not None
        mu, logvar = self.E(images)
        return reparameterize(mu, logvar, eps), mu, logvar

    def discriminate(self, seg: Tensor, fake: Tensor, real: Tensor) -> tuple[list[list[Tensor]], list[list[Tensor]]]:
        """D's outputs for (fake, real), both through D in one batch as the official code does."""
        outputs = self.D(torch.cat([torch.cat([seg, fake], 1), torch.cat([seg, real], 1)], 0))
        n = fake.shape[0]
        return [[o[:n] for o in scale] for scale in outputs], [[o[n:] for o in scale] for scale in outputs]

    # ---- phases --------------------------------------------------------------------------------

    def phases(self) -> list[Phase]:
        return [Phase("G_main", "G", self.generator_loss), Phase("D_main", "D", self.discriminator_loss)]

    def generator_loss(self, batch: dict[str, Tensor]) -> Tensor:
        real = batch["image"]
        seg = self.semantics(batch)
        z = None
        loss = torch.zeros((), device=self.device)
        if self.E is not None:
            z, mu, logvar = self.encode(real, self.global_randn(real.shape[0], self.z_dim))
            kld = kl_divergence(mu, logvar) * self.lambdas["kld"]
            self.record("loss/G_kld", kld)
            loss = loss + kld
        fake = self.G(seg, z)
        pred_fake, pred_real = self.discriminate(seg, fake, real)
        gan = hinge_generator_loss([scale[-1] for scale in pred_fake])
        self.record("loss/G_gan", gan)
        self.record("scores/fake_G", torch.stack([scale[-1].mean() for scale in pred_fake]))
        loss = loss + gan
        if self.lambdas["feat"] > 0:
            feat = feature_matching_loss(pred_fake, pred_real) * self.lambdas["feat"]
            self.record("loss/G_feat", feat)
            loss = loss + feat
        if self.lambdas["vgg"] > 0:
            if self.vgg is None:
                self.vgg = VGGPerceptualLoss(load_vgg19_trunk(self.vgg_weights))
            vgg = self.vgg.to(self.device)(fake, real) * self.lambdas["vgg"]
            self.record("loss/G_vgg", vgg)
            loss = loss + vgg
        return loss

    def discriminator_loss(self, batch: dict[str, Tensor]) -> Tensor:
        real = batch["image"]
        seg = self.semantics(batch)
        with torch.no_grad():
            z = self.encode(real, self.global_randn(real.shape[0], self.z_dim))[0] if self.E is not None else None
            fake = self.G(seg, z)
        pred_fake, pred_real = self.discriminate(seg, fake, real)
        real_scores, fake_scores = [scale[-1] for scale in pred_real], [scale[-1] for scale in pred_fake]
        self.record("scores/real", torch.stack([s.mean() for s in real_scores]))
        self.record("scores/fake", torch.stack([s.mean() for s in fake_scores]))
        return hinge_discriminator_loss(real_scores, fake_scores)

    def before_step(self, batch: dict[str, Tensor]) -> None:
        for optimizer, lr in zip(self._optimizer_list(), (self.lr_G, self.lr_D), strict=True):
            for group in optimizer.param_groups:
                group["lr"] = self.scheduled_lr(lr)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        g_params = list(self.G.parameters()) + (list(self.E.parameters()) if self.E is not None else [])
        return [torch.optim.Adam(g_params, lr=self.lr_G, betas=self.betas), torch.optim.Adam(self.D.parameters(), lr=self.lr_D, betas=self.betas)]

    # ---- sampling and evaluation ---------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        segmap: Tensor,  # [N, H, W] label indices (data-set label space, dontcare = label_nc)
        instance: Tensor | None = None,  # [N, H, W] instance ids (models with use_instance; None: the label map's)
        z: Tensor | None = None,  # [N, z_dim] latents of VAE models (ignored by others)
        style: Tensor | None = None,  # [N or 1, C, H, W] style images in [-1, 1] (VAE models): z = mu + std * z
    ) -> Tensor:
        """G_ema images in [-1, 1] for label maps; VAE models need `z` (N(0, 1) noise)."""
        if self.use_instance and instance is None:
            instance = segmap  # edges at every label boundary: the best guess without instance ids
        seg = self.semantics({"segmap": segmap, "instance": instance})
        if self.E is not None:
            if z is None:
                raise ValueError("a VAE SPADE model needs z (or the noise for a style image) to generate")
            z = z.to(self.device)
            if style is not None:
                with eval_mode(self.E):
                    mu, logvar = self.E(style.to(self.device))
                z = reparameterize(mu.expand(z.shape[0], -1), logvar.expand(z.shape[0], -1), z)
        with eval_mode(self.G_ema):
            return self.G_ema(seg, z if self.E is not None else None)

    def _dataset_items(self, indices: list[int]) -> dict[str, Tensor]:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if datamodule is None:
            raise ConfigError("SPADE samples need label maps: pass segmap=..., or sample while training (label maps of the data set)")
        dataset = datamodule.dataset
        items = [dataset[i % len(dataset)] for i in indices]
        return {key: torch.stack([item[key] for item in items]) for key in items[0]}

    def sample(self, seeds: list[int], segmap: Tensor | None = None, instance: Tensor | None = None, style: Tensor | None = None, **kwargs: Any) -> Tensor:
        """uint8 images per seed. Without label maps, seed s renders the training set's item s; seeds
        draw z of VAE models (NVlabs-style per-seed latents) and do nothing for the others."""
        if segmap is None:
            items = self._dataset_items(list(seeds))
            segmap, instance = items["segmap"], items.get("instance")
        z = self.latents_from_seeds(seeds, self.z_dim) if self.E is not None else None
        images = self.generate(segmap.to(self.device), None if instance is None else instance.to(self.device), z, style)
        return to_uint8(images)

    @torch.no_grad()
    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        """The official test protocol: the batch's label maps; VAE models encode the batch's real
        images and reparameterise with noise from `generator`."""
        seg = self.semantics(batch)
        z = None
        if self.E is not None:
            eps = torch.randn(seg.shape[0], self.z_dim, generator=generator).to(self.device)
            with eval_mode(self.E):
                z = self.encode(batch["image"].to(self.device), eps)[0]
        with eval_mode(self.G_ema):
            return self.G_ema(seg, z)


def _check_lr_schedule(schedule: str, niter: int, niter_decay: int, niter_kimg: float, niter_decay_kimg: float) -> None:
    """Each schedule has its own knobs; a knob of the other one would silently do nothing."""
    if schedule not in LR_SCHEDULES:
        raise ConfigError(f"model.lr_schedule={schedule!r} is not one of {', '.join(LR_SCHEDULES)}")
    if schedule == "epoch" and (niter_kimg or niter_decay_kimg):
        raise ConfigError(
            "model.niter_kimg / niter_decay_kimg belong to lr_schedule=kimg_linear; with lr_schedule=epoch set model.niter / niter_decay (epochs)"
        )
    if schedule == "kimg_linear" and (niter or niter_decay):
        raise ConfigError(
            "model.niter / niter_decay (epochs) belong to lr_schedule=epoch; with lr_schedule=kimg_linear set model.niter_kimg / niter_decay_kimg"
        )
    if min(niter, niter_decay, niter_kimg, niter_decay_kimg) < 0:
        raise ConfigError("model.niter, niter_decay, niter_kimg and niter_decay_kimg must not be negative")
