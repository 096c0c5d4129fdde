"""The projected discriminator of Projected GAN and StyleGAN-XL (official `ProjectedDiscriminator`).

Per backbone: DiffAugment -> (normalise) -> (bilinear resize to 224) -> frozen pretrained trunk ->
frozen random CCM/CSM projections -> four trainable mini-discriminators -> logits [B, L]. Only the
mini-discriminators train; the feature networks stay in eval mode (their BatchNorm statistics never
move after construction) and without gradients whatever `train()`/`requires_grad_()` their parents
call. Construction itself moves them once: the official constructors run a zero image through each
fresh, train-mode CNN trunk (`backbones.run_shape_probe`), and gan-zoo does the same.

The two official flavours (use the factory functions below):

* Projected GAN: one `tf_efficientnet_lite0` backbone, no input normalisation, DiffAugment on
  x in [-1, 1], class embedding Embedding(1000, 128) -> Linear + LeakyReLU; state dict
  `feature_network.*`, `discriminator.mini_discs.*`.
* StyleGAN-XL: `deit_base_distilled_patch16_224` and `tf_efficientnet_lite0`, DiffAugment on
  x in [-1, 1] with its own draws per backbone, then mapped to [0, 1] and normalised with each
  backbone's statistics (the official order since stylegan-xl commit 890519e), Embedding(1000, 320) -> equalized FC lrelu; state dict
  `feature_networks.{bb}.*`, `discriminators.{bb}.mini_discs.*`.

The official StyleGAN-XL discriminator returns a Python list of per-sample rows; here `forward`
always returns one [B, L] tensor per backbone and `gan_zoo.losses.projected_hinge` reproduces the
resulting loss scaling on request.

Official code: autonomousvision/projected-gan and autonomousvision/stylegan-xl
`pg_modules/discriminator.py` (`ProjectedDiscriminator`); the per-backbone statistics are
stylegan-xl's `pg_modules/projector.py` `get_backbone_normstats`.
"""

import os

import torch
from torch import Tensor, nn

from gan_zoo.augment.blur import blur_images
from gan_zoo.augment.diffaugment import diff_augment
from gan_zoo.errors import ConfigError
from gan_zoo.models.projected_gan.backbones import backbone_spec, build_trunk, normalize, resize_224
from gan_zoo.models.projected_gan.mini_discriminators import ConditionalMiniDiscriminator, MultiScaleDiscriminator
from gan_zoo.models.projected_gan.projection import FeatureProjector

# The fading blur of the D inputs runs outside a compiled D (model.compile): its kernel radius ⌊3σ⌋ is a
# shape, so traced, it would compile D anew for every radius the fade passes through, twice (G's and D's
# phases differ in what requires grad), soon past dynamo's recompile limit (8), after which D runs eagerly.
# The one graph break this makes, at the top of forward, costs nothing; made for σ = 0 too (the blur is
# then the identity), a fading σ costs D two compilations per phase: its first value, then any value.
blur_outside_the_graph = torch.compiler.disable(blur_images, reason="the blur's kernel radius is a shape: traced, D would recompile at every radius")

# Without the resize, a CNN trunk's coarsest projected map (1/16 of the input) must still be 8x8
# after one DownBlock for the final 4x4 conv: inputs of at least 128 px.
MIN_CNN_INPUT = 128


def require_cnn_input_size(resolution: int, interp224: bool | None, backbones: list[str], key: str) -> None:
    """Refuse, when the module is built, inputs that a CNN trunk without the resize cannot take (rather
    than at the first discriminator call of the run)."""
    cnn = [name for name in backbones if not backbone_spec(name).always_224]
    if interp224 is False and cnn and resolution < MIN_CNN_INPUT:
        raise ConfigError(
            f"{key}=false feeds the {resolution} px images to {cnn[0]} as they are, but without the resize it needs at least "
            f"{MIN_CNN_INPUT} px (its coarsest projected map must stay 8x8); leave {key} null (resize below 224 px, as the official code) or set it true"
        )


LAYOUTS = ("projected_gan", "stylegan_xl")
# Side of the zero image each official constructor runs through a fresh CNN trunk (backbones.run_shape_probe).
PROBE_RESOLUTION = {"projected_gan": 224, "stylegan_xl": 256}


class ProjectedDiscriminator(nn.Module):
    def __init__(
        self,
        backbones: list[str],  # timm feature networks (backbones.BACKBONES), each with its own projections and mini-discs
        c_dim: int,  # label width (one-hot); 0: unconditional
        pretrained_backbones: bool,  # load the trunks' ImageNet weights from local files; False: random frozen trunks (tests)
        backbone_weights: dict[str, str] | None = None,  # backbone name -> weight file; None/missing: the HF / torch.hub caches
        diffaug: bool = True,  # DiffAugment 'color,translation,cutout' on every input
        interp224: bool | None = None,  # resize CNN inputs to 224; None: only inputs below 224 px (official train.py); ViTs always
        normalize_inputs: bool = False,  # StyleGAN-XL: (x + 1) / 2 then each backbone's mean/std; Projected GAN: none
        cout: int = 64,  # CCM width of the finest map
        expand: bool = True,  # CCM widths cout·(1, 2, 4, 8)
        num_discs: int = 4,  # mini-discriminators per backbone, finest maps first
        separable: bool = False,  # depthwise-separable DownBlocks (Projected GAN's --cfg=stylegan2)
        conditional: bool | None = None,  # projection mini-discriminators; None: when c_dim > 0
        embed_dim: int = 128,  # class-embedding width: 128 (Projected GAN), 320 (StyleGAN-XL)
        embed_proj: str = "linear",  # "linear" (Projected GAN) or "equalized" (StyleGAN-XL's FullyConnectedLayer)
        embed_classes: int = 1000,  # embedding rows; both official codes use 1000 whatever the data set
        layout: str = "stylegan_xl",  # state-dict names: "projected_gan" (one backbone) or "stylegan_xl" (dicts per backbone)
        weights_key: str = "backbone_weights",  # the config key of backbone_weights, as a missing file's error names it
    ) -> None:
        super().__init__()
        if not backbones:
            raise ConfigError("the projected discriminator needs at least one backbone")
        if layout not in LAYOUTS:
            raise ConfigError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        if layout == "projected_gan" and len(backbones) != 1:
            raise ConfigError(f"layout 'projected_gan' has one backbone, got {list(backbones)}")
        # The model configs declare every known backbone with null, so that `backbone_weights.<name>=PATH`
        # is a plain override; null means the cache lookup, as a missing key, and may name an unused backbone.
        backbone_weights = {name: path for name, path in (backbone_weights or {}).items() if path is not None}
        unknown = set(backbone_weights) - set(backbones)
        if unknown:
            raise ConfigError(f"backbone_weights names {sorted(unknown)}, which are not among the backbones {list(backbones)}")
        for name in backbones:
            backbone_spec(name)  # an unknown name fails here, listing the known ones
        self.backbones = list(backbones)
        self.c_dim = int(c_dim)
        self.conditional = self.c_dim > 0 if conditional is None else bool(conditional)
        if self.conditional and not 0 < self.c_dim <= embed_classes:
            raise ConfigError(f"a conditional projected discriminator needs 0 < c_dim <= embed_classes ({embed_classes}), got c_dim={c_dim}")
        self.diffaug, self.interp224, self.normalize_inputs = diffaug, interp224, normalize_inputs

        features, discs = {}, {}
        for name in self.backbones:
            trunk = build_trunk(name, pretrained_backbones, backbone_weights.get(name), f"{weights_key}.{name}")
            features[name] = FeatureProjector(trunk, cout, expand, PROBE_RESOLUTION[layout])
            cond_kwargs = dict(embed_classes=embed_classes, embed_dim=embed_dim, embed_proj=embed_proj) if self.conditional else {}
            discs[name] = MultiScaleDiscriminator(
                features[name].out_channels, FeatureProjector.NOMINAL_RESOLUTIONS, num_discs, self.conditional, separable, **cond_kwargs
            )
        if layout == "projected_gan":
            (name,) = self.backbones
            self.feature_network, self.discriminator = features[name], discs[name]
        else:
            self.feature_networks, self.discriminators = nn.ModuleDict(features), nn.ModuleDict(discs)
        self.layout = layout

    def branches(self) -> list[tuple[str, FeatureProjector, MultiScaleDiscriminator]]:
        """(backbone name, frozen feature network, trainable mini-discriminators) per backbone."""
        if self.layout == "projected_gan":
            return [(self.backbones[0], self.feature_network, self.discriminator)]
        return [(name, self.feature_networks[name], self.discriminators[name]) for name in self.backbones]

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The mini-discriminators' parameters: what the discriminator's optimizer should hold."""
        return [p for _, _, disc in self.branches() for p in disc.parameters()]

    def requires_grad_(self, requires_grad: bool = True) -> "ProjectedDiscriminator":
        # Phase toggling switches the mini-discriminators; the feature networks stay frozen.
        super().requires_grad_(requires_grad)
        for _, features, _ in self.branches():
            features.requires_grad_(False)
        return self

    @torch.no_grad()
    def load_class_embedding(self, weight: Tensor) -> None:
        """Copy a [classes, embed_dim] embedding into every mini-discriminator (StyleGAN-XL starts all
        of them from the pretrained EfficientNet-lite0 class embedding that its generator also loads)."""
        discs = [d for _, _, msd in self.branches() for d in msd.mini_discs.values() if isinstance(d, ConditionalMiniDiscriminator)]
        if not discs:
            raise ValueError("load_class_embedding needs a conditional discriminator")
        for disc in discs:
            if disc.embed.weight.shape != weight.shape:
                raise ValueError(f"class embedding {list(weight.shape)} does not fit {list(disc.embed.weight.shape)}")
            disc.embed.weight.copy_(weight)

    def _resize(self, x: Tensor, always_224: bool) -> Tensor:
        if always_224 or self.interp224 or (self.interp224 is None and min(x.shape[-2:]) < 224):
            return resize_224(x)
        if min(x.shape[-2:]) < MIN_CNN_INPUT:
            raise ValueError(f"inputs of {list(x.shape[-2:])} px are too small for the CNN trunk without interp224 (>= {MIN_CNN_INPUT} px)")
        return x

    def forward(
        self,
        x: Tensor,  # [B, 3, H, W] images in [-1, 1]
        c: Tensor | None = None,  # one-hot labels [B, c_dim]; ignored when unconditional
        blur_sigma: float = 0.0,  # Gaussian blur of the input, pixels (gan_zoo.augment.blur.blur_sigma)
        generator: torch.Generator | None = None,  # DiffAugment's random draws; None: the global RNG
    ) -> list[Tensor]:
        """One logits tensor [B, L] per backbone (L = 64 at a 224 px trunk input)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"the projected discriminator expects images [B, 3, H, W], got {list(x.shape)}")
        if self.conditional and (c is None or tuple(c.shape) != (x.shape[0], self.c_dim)):
            got = None if c is None else list(c.shape)
            raise ValueError(f"a conditional projected discriminator needs one-hot labels [{x.shape[0]}, {self.c_dim}], got {got}")
        x = blur_outside_the_graph(x, blur_sigma)  # x itself below σ = 1/3
        logits = []
        for _, features, disc in self.branches():
            spec = features.pretrained.spec
            # DiffAugment on [-1, 1] images, then each backbone's normalisation (stylegan-xl
            # `pg_modules/discriminator.py` ProjectedDiscriminator.forward, since its commit 890519e).
            branch = diff_augment(x, generator=generator) if self.diffaug else x
            if self.normalize_inputs:
                branch = normalize((branch + 1) / 2, spec.mean, spec.std)
            branch = self._resize(branch, spec.always_224)
            logits.append(disc(features(branch), c if self.conditional else None))
        return logits


def projected_gan_discriminator(
    c_dim: int,  # label width; 0: unconditional
    pretrained_backbones: bool,  # see ProjectedDiscriminator
    backbone_weights: dict[str, str | os.PathLike] | None = None,  # {"tf_efficientnet_lite0": path}
    separable: bool = False,  # True for Projected GAN's --cfg=stylegan2
    interp224: bool | None = None,  # None: resize inputs below 224 px
    diffaug: bool = True,  # DiffAugment on every input
) -> ProjectedDiscriminator:
    """Projected GAN's discriminator: trainable 10,331,328 (fastgan, uncond) at the official settings."""
    return ProjectedDiscriminator(
        ["tf_efficientnet_lite0"], c_dim, pretrained_backbones, backbone_weights, diffaug, interp224,
        normalize_inputs=False, separable=separable, embed_dim=128, embed_proj="linear", layout="projected_gan",
        weights_key="model.backbone_weights",
    )  # fmt: skip


def stylegan_xl_discriminator(
    c_dim: int,  # label width; 0: unconditional
    pretrained_backbones: bool,  # see ProjectedDiscriminator
    backbone_weights: dict[str, str | os.PathLike] | None = None,  # backbone name -> weight file
    interp224: bool | None = None,  # None: resize CNN inputs below 224 px (the ViT always sees 224)
    diffaug: bool = True,  # DiffAugment on every input
    backbones: tuple[str, ...] = ("deit_base_distilled_patch16_224", "tf_efficientnet_lite0"),  # the official pair
) -> ProjectedDiscriminator:
    """StyleGAN-XL's discriminator: trainable 27,515,776 (conditional, c_dim 1000) at the official settings."""
    return ProjectedDiscriminator(
        list(backbones), c_dim, pretrained_backbones, backbone_weights, diffaug, interp224,
        normalize_inputs=True, embed_dim=320, embed_proj="equalized", layout="stylegan_xl",
        weights_key="model.discriminator.backbone_weights",
    )  # fmt: skip
