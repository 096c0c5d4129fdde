"""The projected discriminator in Projected GAN and StyleGAN-XL pickles, read for gan-zoo.

Both official codes pickle `pg_modules.discriminator.ProjectedDiscriminator` as a plain nn.Module
(a record of its class, not a persistence record): Projected GAN with one `feature_network` and one
`discriminator` (autonomousvision/projected-gan `pg_modules/discriminator.py`), StyleGAN-XL with the
dicts `feature_networks` and `discriminators` keyed by backbone name (autonomousvision/stylegan-xl
`pg_modules/discriminator.py`). Their state dicts carry the frozen feature networks too (pretrained
trunk, random CCM/CSM), so importing D brings the exact feature networks the run trained against.

D is imported only when gan-zoo's discriminator, built from the settings the record holds, has the
same keys and shapes; otherwise the file's D is left out with a note that says why (generation and
evaluation use only G_ema).
"""

from dataclasses import dataclass, field
from typing import Any

import torch

from gan_zoo.models.projected_gan.backbones import BACKBONES
from gan_zoo.models.projected_gan.discriminator import projected_gan_discriminator, stylegan_xl_discriminator
from gan_zoo.official.safe_pickle import ObjectRecord, PersistentRecord, module_state_dict

OFFICIAL_CLASS = "pg_modules.discriminator.ProjectedDiscriminator"
# What gan-zoo's projected discriminator builds: both train.py files pass these backbone_kwargs.
GAN_ZOO_PROJECTION = {"cout": 64, "expand": True, "proj_type": 2}
GAN_ZOO_NUM_DISCS = 4


def attribute(record: Any, name: str, default: Any = None) -> Any:
    """An attribute of the pickled object (its `__dict__` entry), or `default`."""
    state = record.state if isinstance(record, PersistentRecord | ObjectRecord) else None
    return state.get(name, default) if isinstance(state, dict) else default


def child(record: Any, path: str) -> Any:
    """The pickled sub-module at a dotted `path`, or None."""
    for name in path.split("."):
        modules = attribute(record, "_modules") or {}
        record = modules.get(name)
        if record is None:
            return None
    return record


def is_projected_discriminator(record: Any, layout: str) -> bool:
    """The official ProjectedDiscriminator, in Projected GAN's ("projected_gan") or StyleGAN-XL's ("stylegan_xl") layout."""
    if not (isinstance(record, ObjectRecord) and record.qualified_name == OFFICIAL_CLASS):
        return False
    return child(record, "feature_network" if layout == "projected_gan" else "feature_networks") is not None


@dataclass
class DiscriminatorImport:
    settings: dict[str, Any]  # gan-zoo discriminator options read from the record
    state_dict: dict[str, torch.Tensor] = field(default_factory=dict)  # under "D." keys; empty when left out
    note: str | None = None  # why D was left out


def snapshot_networks(data: dict[str, Any], g_ema: Any, discriminator: DiscriminatorImport) -> tuple[dict[str, torch.Tensor], tuple[str, ...], list[str]]:
    """(state dict, networks provided, notes) of a Projected GAN / StyleGAN-XL snapshot: G and G_ema
    always, D when it was imported."""
    state = {**module_state_dict(data["G"], "G."), **module_state_dict(g_ema, "G_ema."), **discriminator.state_dict}
    networks = ("G", "D", "G_ema") if discriminator.state_dict else ("G", "G_ema")
    return state, networks, [] if discriminator.note is None else [discriminator.note]


def read_discriminator(record: Any, layout: str, c_dim: int) -> DiscriminatorImport:
    """D's settings and tensors when gan-zoo's projected discriminator matches it key for key."""
    settings: dict[str, Any] = {"diffaug": bool(attribute(record, "diffaug", True)), "interp224": attribute(record, "interp224")}
    if record is None:
        return DiscriminatorImport(settings, note="the file has no discriminator: D is freshly initialised")
    branches = _branches(record, layout)
    state = module_state_dict(record)
    if layout == "stylegan_xl":
        settings["backbones"] = [name for name, _, _ in branches]
    else:  # Projected GAN's --cfg=stylegan2 uses depthwise-separable DownBlocks
        settings["separable"] = any(".depthwise." in key for key in state)
    problem = _unsupported(branches, c_dim, state)
    if problem is None:
        problem = _key_difference(state, layout, c_dim, settings)
    if problem is not None:
        settings.pop("backbones", None)  # the fresh D gan-zoo builds instead: the official pair
        return DiscriminatorImport(
            settings, note=f"the file's D is left out ({problem}); D is freshly initialised (generate and eval use only G_ema; fine-tuning starts D afresh)"
        )
    return DiscriminatorImport(settings, {f"D.{key}": value for key, value in state.items()})


def _branches(record: Any, layout: str) -> list[tuple[str, Any, Any]]:
    """(backbone name, feature network record, multi-scale discriminator record) per backbone."""
    if layout == "projected_gan":  # the Projected GAN projector always builds tf_efficientnet_lite0
        return [("tf_efficientnet_lite0", child(record, "feature_network"), child(record, "discriminator"))]
    names = list(attribute(record, "backbones") or (attribute(child(record, "feature_networks"), "_modules") or {}))
    return [(name, child(record, f"feature_networks.{name}"), child(record, f"discriminators.{name}")) for name in names]


def _unsupported(branches: list[tuple[str, Any, Any]], c_dim: int, state: dict[str, torch.Tensor]) -> str | None:
    for name, features, discs in branches:
        if name not in BACKBONES:
            return f"its backbone {name} is not one gan-zoo builds ({', '.join(sorted(BACKBONES))})"
        for key, value in GAN_ZOO_PROJECTION.items():
            if attribute(features, key, value) != value:
                return f"its {name} projection has {key}={attribute(features, key)!r}; gan-zoo's has {key}={value!r}"
        num_discs = len(attribute(child(discs, "mini_discs"), "_modules") or {})
        if num_discs != GAN_ZOO_NUM_DISCS:
            return f"its {name} branch has {num_discs} mini-discriminators; gan-zoo's has {GAN_ZOO_NUM_DISCS}"
    conditional = any(key.endswith(".embed.weight") for key in state)
    if conditional != (c_dim > 0):
        return f"its mini-discriminators are {'' if conditional else 'un'}conditional but G has c_dim={c_dim}"
    return None


def _key_difference(state: dict[str, torch.Tensor], layout: str, c_dim: int, settings: dict[str, Any]) -> str | None:
    """The first difference between the file's D and gan-zoo's built from `settings` (None: key for key)."""
    # On the meta device the check allocates nothing and reads no weights.
    with torch.device("meta"):
        if layout == "projected_gan":
            ours = projected_gan_discriminator(c_dim, False, separable=settings["separable"]).state_dict()
        else:
            ours = stylegan_xl_discriminator(c_dim, False, backbones=tuple(settings["backbones"])).state_dict()
    missing, unexpected = sorted(set(ours) - set(state)), sorted(set(state) - set(ours))
    if missing or unexpected:
        return f"its keys differ from gan-zoo's: missing {missing[:3]}, unexpected {unexpected[:3]}"
    for key, value in ours.items():
        if tuple(value.shape) != tuple(state[key].shape):
            return f"{key} is {list(state[key].shape)} in the file but {list(value.shape)} in gan-zoo's"
    return None
