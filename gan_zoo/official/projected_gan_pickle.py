"""Projected GAN snapshot pickles -> gan-zoo `projected_gan`.

Written by autonomousvision/projected-gan `training/training_loop.py` (pickle.dump, or dill.dump for
`best_model.pkl`; the released `pokemon.pkl`, `art_painting.pkl`, ... are such snapshots): a dict with
`G`, `D`, `G_ema`, `training_set_kwargs` (and `progress`). G depends on train.py's `--cfg`:

* `fastgan` / `fastgan_lite`: `pg_modules.networks_fastgan.Generator`, a plain nn.Module (no
  persistence record, so no init kwargs): z_dim, c_dim and img_resolution are attributes; lite, ngf
  and conditioning are read from the structure (`UpBlockSmall` vs `UpBlockBig`, the width of the
  4x4 init layer, the class embedding). The class never uses `noise_mode` or truncation.
* `stylegan2`: `pg_modules.networks_stylegan2.Generator`, a persistence record whose init kwargs are
  train.py's G_kwargs (z 64, w 128, 2 mapping layers, channel_base/max at the top level).

D is `pg_modules.discriminator.ProjectedDiscriminator` (see projected_discriminator.py). gan-zoo's
Projected GAN networks use the official names, so state dicts load key for key. Every setting is in
the file: nothing is taken from `overrides`.
"""

from pathlib import Path
from typing import Any

from gan_zoo.official.imported import ImportedNetworks, imported_networks, require
from gan_zoo.official.projected_discriminator import (
    attribute,
    child,
    is_projected_discriminator,
    read_discriminator,
    snapshot_networks,
)
from gan_zoo.official.safe_pickle import ObjectRecord, PersistentRecord, module_state_dict
from gan_zoo.official.stylegan2_nvlabs import require_skip_synthesis

MODEL_TARGET = "gan_zoo.models.projected_gan.module.ProjectedGANModule"
FASTGAN_CLASS = "pg_modules.networks_fastgan.Generator"
# The header of pg_modules/networks_stylegan2.py, kept in every persistence record's module source.
STYLEGAN2_SOURCE_MARK = "Projected GANs Converge Faster"
FASTGAN_INIT_WIDTH = 32  # the 4x4 init conv emits 2 * nfc[2] = 2 * 16 * ngf channels
OFFICIAL_EMBED_ROWS = 1000  # FastganSynthesisCond's label embedding, whatever the data set
MAPPING_DEFAULTS = {
    "lr_multiplier": 0.01,
    "w_avg_beta": 0.998,
    "embed_features": None,
    "layer_features": None,
    "activation": "lrelu",
}  # networks_stylegan2.MappingNetwork, which gan-zoo's PG module keeps


def matches(data: Any, source: Path) -> bool:
    if not isinstance(data, dict):
        return False
    g = data.get("G_ema")
    if isinstance(g, ObjectRecord):
        return g.qualified_name == FASTGAN_CLASS
    if not (isinstance(g, PersistentRecord) and g.class_name == "Generator" and "class SynthesisBlock" in g.module_src):
        return False
    return STYLEGAN2_SOURCE_MARK in g.module_src or is_projected_discriminator(data.get("D"), "projected_gan")


def _fastgan(g: ObjectRecord, source: Path) -> dict[str, Any]:
    state = module_state_dict(g)
    init = state.get("synthesis.init.init.0.weight_orig")
    require(init is not None and init.ndim == 4, source, "its FastGAN G has no synthesis.init layer")
    require(init.shape[1] % FASTGAN_INIT_WIDTH == 0, source, f"its FastGAN init layer emits {init.shape[1]} channels, not 32 * ngf")
    conditional = "synthesis.embed.weight" in state
    # UpBlockBig has a second conv (Sequential index 5, or conv1/conv2 with labels); UpBlockSmall has one.
    big = ("synthesis.feat_8.conv1.weight_orig" if conditional else "synthesis.feat_8.5.weight_orig") in state
    c_dim = int(attribute(g, "c_dim", 0) or 0)
    resolution = attribute(g, "img_resolution", attribute(child(g, "synthesis"), "img_resolution"))
    require(resolution is not None, source, "its FastGAN G does not say its img_resolution")
    require(conditional == (c_dim > 0), source, f"its FastGAN G has c_dim={c_dim} but {'a' if conditional else 'no'} label embedding")
    if conditional:
        rows = state["synthesis.embed.weight"].shape[0]
        require(rows == OFFICIAL_EMBED_ROWS, source, f"its label embedding has {rows} rows; gan-zoo's FastGAN has {OFFICIAL_EMBED_ROWS}")
    return {
        "generator": "fastgan" if big else "fastgan_lite",
        "z_dim": int(attribute(g, "z_dim", init.shape[0])),
        "ngf": init.shape[1] // FASTGAN_INIT_WIDTH,
        "num_classes": c_dim,
        "resolution": int(resolution),
        "num_channels": int(attribute(g, "img_channels", 3)),
    }


def _stylegan2(g: PersistentRecord, source: Path) -> dict[str, Any]:
    kwargs = g.init_kwargs
    generator_keys = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs")
    synthesis = {k: v for k, v in kwargs.items() if k not in generator_keys}  # train.py passes them at the top level
    mapping = dict(kwargs.get("mapping_kwargs") or {})
    require_skip_synthesis(synthesis, source)
    for key, default in MAPPING_DEFAULTS.items():
        require(mapping.get(key, default) == default, source, f"G mapping {key}={mapping.get(key)!r}: gan-zoo's Projected GAN mapping has {key}={default!r}")
    return {
        "generator": "stylegan2",
        "z_dim": int(kwargs["z_dim"]),
        "w_dim": int(kwargs["w_dim"]),
        "mapping_layers": int(mapping.get("num_layers", 8)),
        "channel_base": int(synthesis.get("channel_base", 32768)),
        "channel_max": int(synthesis.get("channel_max", 512)),
        "num_fp16_res": int(synthesis.get("num_fp16_res", 4)),  # SynthesisNetwork's default
        "conv_clamp": synthesis.get("conv_clamp", 256),  # SynthesisBlock's default
        "num_classes": int(kwargs.get("c_dim", 0)),
        "resolution": int(kwargs["img_resolution"]),
        "num_channels": int(kwargs.get("img_channels", 3)),
    }


def convert(data: dict[str, Any], source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    g = data["G_ema"]
    require(type(data.get("G")) is type(g), source, "it has no training generator G beside G_ema (training_loop.py pickles both)")
    settings = _fastgan(g, source) if isinstance(g, ObjectRecord) else _stylegan2(g, source)
    c_dim = settings["num_classes"]
    discriminator = read_discriminator(data.get("D"), "projected_gan", c_dim)
    hyper_parameters: dict[str, Any] = {
        **settings,
        "conditional": c_dim > 0,
        # No ImageNet file is read to build the networks: an imported D brings the file's trunk.
        "pretrained_backbones": False,
        **discriminator.settings,
    }
    state, networks, notes = snapshot_networks(data, g, discriminator)
    if settings["generator"] == "fastgan":
        notes.append(
            "FastGAN (full) draws its noise inputs whatever noise_mode says, as the official generator: "
            "gan-zoo seeds them from each image's seed, the official gen_images.py leaves torch unseeded"
        )
    # hyper_parameters holds settings' resolution and num_classes (D's settings name neither)
    source_format = f"projected-gan-pickle ({settings['generator']})"
    return imported_networks("projected_gan", MODEL_TARGET, hyper_parameters, state, source_format, networks, notes, snapshot=data)
