"""Frozen pretrained feature networks of the projected discriminator (Projected GAN, StyleGAN-XL).

A trunk turns a normalised, resized RGB batch into four feature maps at strides 4, 8, 16 and 32:

* `tf_efficientnet_lite0` (Projected GAN; StyleGAN-XL's second backbone): the timm network cut into
  four stages of 24, 40, 112 and 320 channels.
* DeiT (`deit_base_distilled_patch16_224` in StyleGAN-XL): the token sequences after blocks 2, 5, 8
  and 11 without the class and distillation tokens (DPT's "ignore" readout), laid out on the 14x14
  patch grid and brought to strides 4/8/16/32 by DPT-style 1x1 and (transposed) convolutions. Those
  convolutions are random and frozen: the official code builds them inside the feature network and
  never trains them.

Official code: autonomousvision/projected-gan `pg_modules/projector.py` (`_make_efficientnet`) and
autonomousvision/stylegan-xl `feature_networks/pretrained_builder.py`, `feature_networks/vit.py`.

Weights are never downloaded. With `pretrained=True` the file comes from an explicit path, else from
the Hugging Face cache that timm fills (`models--timm--<name>.<tag>/snapshots/*/model.safetensors` or
`pytorch_model.bin`), else from torch.hub's checkpoint folder (where timm < 0.9, which the official
code used, saved the original release files). A missing file raises BackboneWeightsError naming the
paths looked at and how to get it.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.errors import ConfigError

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
INCEPTION_MEAN, INCEPTION_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)


class BackboneWeightsError(ConfigError):
    """Pretrained weights of a frozen timm network that are missing or do not fit it."""


@dataclass(frozen=True)
class BackboneSpec:
    kind: str  # "efficientnet" (stage split) or "vit" (block taps + DPT post-process)
    channels: tuple[int, int, int, int]  # channels of the four maps, finest first
    mean: tuple[float, float, float]  # StyleGAN-XL's input normalisation (its feature_networks/constants.py)
    std: tuple[float, float, float]
    always_224: bool  # a ViT's position grid is fixed at 14x14 patches: its input is always resized to 224
    prefix_tokens: int = 0  # ViT tokens before the patch tokens (class, distillation), dropped by the readout
    taps: tuple[int, ...] = ()  # ViT blocks whose outputs become the four maps


def _deit(width: int) -> BackboneSpec:
    # DPT's widths per map: 1/8, 1/4, 1/2 and 1 times the token width.
    return BackboneSpec("vit", (width // 8, width // 4, width // 2, width), IMAGENET_MEAN, IMAGENET_STD, True, 2, (2, 5, 8, 11))


BACKBONES = {
    "tf_efficientnet_lite0": BackboneSpec("efficientnet", (24, 40, 112, 320), INCEPTION_MEAN, INCEPTION_STD, False),
    "deit_base_distilled_patch16_224": _deit(768),
    # Smaller DeiTs of the official list: the same code path at a fraction of the cost (tests, small runs).
    "deit_small_distilled_patch16_224": _deit(384),
    "deit_tiny_distilled_patch16_224": _deit(192),
}


def backbone_spec(name: str) -> BackboneSpec:
    if name not in BACKBONES:
        raise ConfigError(f"unknown projected-discriminator backbone {name!r}; choose from {sorted(BACKBONES)}")
    return BACKBONES[name]


def normalize(x: Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> Tensor:
    """Per-channel (x - mean) / std of an NCHW batch."""
    mean_t = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - mean_t) / std_t


def resize_224(x: Tensor) -> Tensor:
    """Bilinear resize to 224x224 (align_corners=False), as the official discriminators and classifier do."""
    if x.shape[-2:] == (224, 224):
        return x
    return F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)


class FrozenModule(nn.Module):
    """A module that stays in eval mode and without gradients whatever its parents ask.

    `parent.train()` reaches children through their own `train`, so overriding it here keeps the
    BatchNorm running statistics of a frozen trunk fixed during the discriminator's training; and
    `requires_grad_(True)` on this module leaves its parameters frozen.
    """

    def train(self, mode: bool = True) -> "FrozenModule":
        return super().train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "FrozenModule":
        return super().requires_grad_(False)


# ---- weight files -----------------------------------------------------------------------------


def hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, resolved from the environment now (not at import)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def _cached_files(name: str) -> tuple[list[Path], list[str]]:
    """(existing files, places looked at) for timm's pretrained weights of `name`."""
    import timm.models
    from huggingface_hub import try_to_load_from_cache

    cfg = timm.models.get_pretrained_cfg(name)
    found: list[Path] = []
    looked: list[str] = []
    if cfg is None:
        return found, looked
    if cfg.hf_hub_id:
        cache = hf_hub_cache()
        repo = cfg.hf_hub_id.split("@")[0]
        names = [cfg.hf_hub_filename] if cfg.hf_hub_filename else ["model.safetensors", "pytorch_model.bin"]
        for filename in names:
            hit = try_to_load_from_cache(repo, filename, cache_dir=cache)
            looked.append(str(cache / f"models--{repo.replace('/', '--')}" / "snapshots" / "*" / filename))
            if isinstance(hit, str):
                found.append(Path(hit))
    if cfg.url:
        legacy = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(cfg.url)
        looked.append(str(legacy))
        if legacy.is_file():
            found.append(legacy)
    return found, looked


def resolve_weights(name: str, explicit: str | os.PathLike | None, config_key: str) -> Path:
    """The weight file of timm model `name`: `explicit`, else the first cached copy; BackboneWeightsError otherwise."""
    how = (
        f"on a machine with internet access run `python -c \"import timm; timm.create_model('{name}', pretrained=True)\"` "
        f"and copy its Hugging Face cache folder (models--timm--{name}.*) into {hf_hub_cache()} (or point HF_HUB_CACHE/HF_HOME "
        f"at a cache that has it), or set {config_key} to a model.safetensors, pytorch_model.bin or state-dict file; "
        "pretrained=false builds random frozen weights (tests only)"
    )
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise BackboneWeightsError(f"{name} weights: {path} ({config_key}) does not exist; {how}")
        return path
    found, looked = _cached_files(name)
    if found:
        return found[0]
    raise BackboneWeightsError(f"{name} weights not found (looked at {', '.join(looked) or 'no known location'}); {how}")


def building_on_meta() -> bool:
    """True inside `with torch.device("meta")`, where there is nothing to load weights into."""
    return torch.empty(()).device.type == "meta"


def create_timm_model(name: str, pretrained: bool, weights: str | os.PathLike | None = None, config_key: str = "weights") -> nn.Module:
    """A timm model, with its pretrained weights read from a local file when `pretrained`.

    On the meta device (parameter counting) no file is read: only shapes exist there.
    """
    import timm

    if not isinstance(pretrained, bool):
        # An unset value must not silently mean random weights: a trained model would be meaningless.
        raise ConfigError(f"whether {name} loads pretrained weights must be set to true or false, got {pretrained!r}")
    if not pretrained or building_on_meta():
        return timm.create_model(name, pretrained=False)
    path = resolve_weights(name, weights, config_key)
    try:
        # The `file` overlay makes timm read this file and never look at the network.
        return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    except (RuntimeError, KeyError, ValueError, OSError) as error:
        raise BackboneWeightsError(f"{name} weights at {path} do not fit the network: {error}") from error


# ---- trunks -----------------------------------------------------------------------------------


class EfficientNetTrunk(nn.Module):
    def __init__(
        self,
        model: nn.Module,  # a timm EfficientNet (conv_stem, bn1, blocks); its head is not kept
        spec: BackboneSpec,  # channels and input statistics
    ) -> None:
        super().__init__()
        self.spec = spec
        # timm >= 0.9 folds act1 into bn1; the Identity keeps the official indices (layer0.3/.4 = blocks 0/1).
        self.layer0 = nn.Sequential(model.conv_stem, model.bn1, nn.Identity(), *model.blocks[0:2])
        self.layer1 = nn.Sequential(*model.blocks[2:3])
        self.layer2 = nn.Sequential(*model.blocks[3:5])
        self.layer3 = nn.Sequential(*model.blocks[5:])

    def forward(self, x: Tensor) -> list[Tensor]:
        maps = []
        for layer in (self.layer0, self.layer1, self.layer2, self.layer3):
            x = layer(x)
            maps.append(x)
        return maps


class DropPrefixTokens(nn.Module):
    """DPT's "ignore" readout: keep only the patch tokens of [B, N, C]."""

    def __init__(self, prefix_tokens: int) -> None:
        super().__init__()
        self.prefix_tokens = prefix_tokens

    def forward(self, tokens: Tensor) -> Tensor:
        return tokens[:, self.prefix_tokens :]


class TokensFirst(nn.Module):
    """[B, N, C] -> [B, C, N], so that the token axis can be unflattened into the patch grid."""

    def forward(self, tokens: Tensor) -> Tensor:
        return tokens.transpose(1, 2)


class ViTTrunk(nn.Module):
    def __init__(
        self,
        model: nn.Module,  # a timm VisionTransformer at 224 px (patch 16); kept whole, head included, as officially
        spec: BackboneSpec,  # channels, taps, prefix tokens and input statistics
    ) -> None:
        super().__init__()
        self.spec = spec
        self.model = model
        width = model.embed_dim
        c0, c1, c2, c3 = spec.channels

        def to_map() -> list[nn.Module]:
            # Three parameterless steps keep the official indices of the convolutions (layerN.3, layerN.4).
            return [DropPrefixTokens(spec.prefix_tokens), TokensFirst(), nn.Unflatten(2, (14, 14))]

        self.layer1 = nn.Sequential(*to_map(), nn.Conv2d(width, c0, 1), nn.ConvTranspose2d(c0, c0, 4, stride=4))
        self.layer2 = nn.Sequential(*to_map(), nn.Conv2d(width, c1, 1), nn.ConvTranspose2d(c1, c1, 2, stride=2))
        self.layer3 = nn.Sequential(*to_map(), nn.Conv2d(width, c2, 1))
        self.layer4 = nn.Sequential(*to_map(), nn.Conv2d(width, c3, 1), nn.Conv2d(c3, c3, 3, stride=2, padding=1))

    def forward(self, x: Tensor) -> list[Tensor]:
        vit = self.model
        tokens = vit.patch_embed(x)  # asserts the 224x224 input the position grid needs
        tokens = vit._pos_embed(tokens)  # timm's: prepend class (+ distillation) tokens, add positions
        tokens = vit.norm_pre(vit.patch_drop(tokens))
        taps = []
        # The official code taps blocks with forward hooks writing to a module-global dict; reading
        # the outputs in the loop gives the same tensors and stops after the last tap.
        for index, block in enumerate(vit.blocks[: self.spec.taps[-1] + 1]):
            tokens = block(tokens)
            if index in self.spec.taps:
                taps.append(tokens)
        return [layer(tap) for layer, tap in zip((self.layer1, self.layer2, self.layer3, self.layer4), taps, strict=True)]


@torch.no_grad()
def run_shape_probe(trunk: nn.Module, resolution: int) -> None:
    """Run one zero image of `resolution` px through the freshly built trunk in train mode, as the
    official constructors do right after loading the pretrained weights.

    Projected GAN (autonomousvision/projected-gan `pg_modules/projector.py`, `calc_channels`, 224 px)
    and StyleGAN-XL (autonomousvision/stylegan-xl `feature_networks/pretrained_builder.py`, `calc_dims`,
    256 px) measure the trunk's output channels this way. timm builds networks in train mode, so the
    pass moves every BatchNorm running statistic once (momentum 0.1 towards the zero image's batch
    statistics, num_batches_tracked 0 -> 1). The trunk is frozen in eval mode afterwards, so these
    are the statistics the discriminator normalises with for the whole of training. A ViT has no
    running statistics (LayerNorm only, no dropout): StyleGAN-XL's pass leaves DeiT as it was, and
    gan-zoo skips it there.
    """
    if trunk.spec.kind != "efficientnet":
        return
    trunk.train()
    trunk(torch.zeros(1, 3, resolution, resolution))


def build_trunk(name: str, pretrained: bool, weights: str | os.PathLike | None = None, config_key: str = "backbone_weights") -> nn.Module:
    """The trunk of backbone `name` (see BACKBONES), pretrained from a local file or random."""
    spec = backbone_spec(name)
    model = create_timm_model(name, pretrained, weights, config_key)
    return EfficientNetTrunk(model, spec) if spec.kind == "efficientnet" else ViTTrunk(model, spec)
