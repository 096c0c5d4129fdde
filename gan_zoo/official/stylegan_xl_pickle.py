"""StyleGAN-XL snapshot pickles -> gan-zoo `stylegan_xl`.

Written by autonomousvision/stylegan-xl `training/training_loop.py` (dill.dump of G, D, G_ema,
augment_pipe, training_set_kwargs; the released `imagenet256.pkl`, `ffhq256.pkl`, `pokemon256.pkl`,
... are such snapshots). G is a persistence record of `training/networks_stylegan3_resetting.py`:

* the stem, `Generator`, whose init kwargs are train.py's G_kwargs;
* a super-resolution stage, `SuperresGenerator(img_resolution, path_stem, head_layers, up_factor)`.
  It adopts the previous stage's `mapping` and `synthesis` objects, so their records still carry the
  stem's init kwargs (channel_base, num_layers, ...), while `synthesis.layer_names` lists the layers
  every stage kept or added. Each stage cuts the critically sampled layers (the last num_critical
  and ToRGB) and appends head_layers + 1 named L<len(kept) + 1 + i>_<size>_<channels>: the names
  check that every stage grew by the SuperresGenerator's head_layers and up_factor.

gan-zoo grows its stages the same way (gan_zoo.models.stylegan_xl.superres) with one head_layers and
up_factor for all of them; its state dicts use the official names, so G, G_ema (and D, see
projected_discriminator.py) load key for key. Every setting is in the file: nothing is taken from
`overrides`.
"""

import math
from pathlib import Path
from typing import Any

import torch

from gan_zoo.models.stylegan_xl.superres import build_generator
from gan_zoo.official.imported import ImportedNetworks, imported_networks, require
from gan_zoo.official.projected_discriminator import attribute, child, read_discriminator, snapshot_networks
from gan_zoo.official.safe_pickle import PersistentRecord
from gan_zoo.official.stylegan3_nvlabs import FILTER_DEFAULTS

MODEL_TARGET = "gan_zoo.models.stylegan_xl.module.StyleGANXLModule"
GENERATOR_CLASSES = ("Generator", "SuperresGenerator")
SOURCE_MARK = "class SuperresGenerator"  # networks_stylegan3_resetting.py, kept as text in every record
# Official SynthesisNetwork defaults that gan-zoo's StyleGAN-XL module keeps fixed: a file with other
# values is refused, naming the setting.
FIXED_SYNTHESIS = {**FILTER_DEFAULTS, "use_radial_filters": False}  # StyleGAN-XL's synthesis is StyleGAN3's (stylegan3-t)
# The official constructors' defaults, for what train.py did not pass.
SYNTHESIS_DEFAULTS = {
    "channel_base": 32768,
    "channel_max": 512,
    "num_layers": 14,
    "num_fp16_res": 4,
    "conv_clamp": 256,
    "magnitude_ema_beta": 0.999,
    "conv_kernel": 3,
}
MAPPING_DEFAULTS = {"num_layers": 2, "lr_multiplier": 0.01, "w_avg_beta": 0.998, "rand_embedding": False}


def matches(data: Any, source: Path) -> bool:
    if not isinstance(data, dict):
        return False
    g = data.get("G_ema")
    return isinstance(g, PersistentRecord) and g.class_name in GENERATOR_CLASSES and SOURCE_MARK in g.module_src


def _growth(g: PersistentRecord, synthesis: PersistentRecord, stem_kwargs: dict[str, Any], source: Path) -> dict[str, int]:
    """stem_resolution, head_layers and up_factor, checked against the layers the file's synthesis has."""
    stem_resolution = int(synthesis.init_kwargs.get("img_resolution", attribute(synthesis, "img_resolution")))
    resolution = int(attribute(g, "img_resolution", stem_resolution))
    growth = {"stem_resolution": stem_resolution, "head_layers": 7, "up_factor": 2}  # a stem: gan-zoo's defaults
    if g.class_name == "SuperresGenerator":
        require(g.init_kwargs.get("head_layers") is not None, source, "its SuperresGenerator does not say its head_layers")
        growth["head_layers"] = int(g.init_kwargs["head_layers"])
        growth["up_factor"] = int(g.init_kwargs.get("up_factor", 2))
    steps = 0
    while stem_resolution * growth["up_factor"] ** steps < resolution:
        steps += 1
    require(
        stem_resolution * growth["up_factor"] ** steps == resolution and (steps > 0) == (g.class_name == "SuperresGenerator"),
        source,
        f"its {g.class_name} makes {resolution} px from a {stem_resolution} px stem, which is not a stem or "
        f"stages of up_factor={growth['up_factor']} each; gan-zoo grows every stage by the same up_factor",
    )
    # gan-zoo's stage from the same settings, on the meta device (shapes only), must name the same layers.
    with torch.device("meta"):
        ours = build_generator(resolution, **growth, **stem_kwargs).synthesis.layer_names
    theirs = list(attribute(synthesis, "layer_names") or [])
    require(
        theirs == ours,
        source,
        f"its synthesis layers {theirs} are not the {steps} super-resolution stage(s) of head_layers="
        f"{growth['head_layers']} each that gan-zoo grows from its stem ({ours}); gan-zoo grows every stage by the same head_layers",
    )
    return growth


def convert(data: dict[str, Any], source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    g: PersistentRecord = data["G_ema"]
    require(isinstance(data.get("G"), PersistentRecord), source, "it has no training generator G beside G_ema (training_loop.py pickles both)")
    synthesis, mapping = child(g, "synthesis"), child(g, "mapping")
    require(isinstance(synthesis, PersistentRecord) and isinstance(mapping, PersistentRecord), source, "its G_ema has no synthesis and mapping networks")
    syn = {**SYNTHESIS_DEFAULTS, **FIXED_SYNTHESIS, **synthesis.init_kwargs}
    for key, value in FIXED_SYNTHESIS.items():
        require(
            math.isclose(float(syn[key]), float(value)),
            source,
            f"its synthesis has {key}={syn[key]!r}; gan-zoo's StyleGAN-XL (stylegan3-t) has {key}={value!r}",
        )
    maps = {**MAPPING_DEFAULTS, **mapping.init_kwargs}
    c_dim = int(maps.get("c_dim", attribute(g, "c_dim", 0)))
    generator = {
        "z_dim": int(maps.get("z_dim", attribute(g, "z_dim"))),
        "w_dim": int(maps.get("w_dim", attribute(g, "w_dim"))),
        "channel_base": int(syn["channel_base"]),
        "channel_max": int(syn["channel_max"]),
        "conv_kernel": int(syn["conv_kernel"]),
        "magnitude_ema_beta": float(syn["magnitude_ema_beta"]),
        "num_fp16_res": int(syn["num_fp16_res"]),
        "conv_clamp": syn["conv_clamp"],
        # The class embedding is the file's: a random one only builds the container (no embedding file is read).
        "rand_embedding": c_dim > 0,
    }
    mapping_kwargs = {
        "num_layers": int(maps["num_layers"]),
        "lr_multiplier": float(maps["lr_multiplier"]),
        "w_avg_beta": float(attribute(mapping, "w_avg_beta", maps["w_avg_beta"])),
    }
    num_channels = int(syn.get("img_channels", attribute(g, "img_channels", 3)))
    growth = _growth(
        g,
        synthesis,
        {**generator, "c_dim": c_dim, "img_channels": num_channels, "num_layers": int(syn["num_layers"]), "mapping_kwargs": mapping_kwargs},
        source,
    )
    resolution = int(attribute(g, "img_resolution", growth["stem_resolution"]))
    discriminator = read_discriminator(data.get("D"), "stylegan_xl", c_dim)
    hyper_parameters: dict[str, Any] = {
        "resolution": resolution,
        "stage": resolution,
        "num_channels": num_channels,
        "num_classes": c_dim,
        "conditional": c_dim > 0,
        **growth,
        **generator,
        "syn_layers": int(syn["num_layers"]),
        "mapping": mapping_kwargs,
        # The feature networks' weights come from the file too, when D is imported.
        "discriminator": {"pretrained_backbones": False, **discriminator.settings},
    }
    state, networks, notes = snapshot_networks(data, g, discriminator)
    if c_dim:
        notes.append(
            "the class embedding (mapping.embed) is the file's; rand_embedding=true in the hyper-parameters only "
            "means no embedding file is read to build the network"
        )
    source_format = f"stylegan-xl-pickle ({g.class_name}, {resolution} px)"
    return imported_networks("stylegan_xl", MODEL_TARGET, hyper_parameters, state, source_format, networks, notes, snapshot=data)
