"""Official TensorFlow PGGAN pickles -> gan-zoo `pggan`.

Written by tkarras/progressive_growing_of_gans (`networks.py`, `tfutil.py`, e.g. the released
`karras2018iclr-celebahq-1024x1024.pkl`): a tuple (G, D, Gs) of `tfutil.Network` (state version 2:
every variable of the network, no components), built by `G_paper` and `D_paper`. Layouts follow the
TF layer code: dense [in, out], conv [kh, kw, in, out], stored without the equalised-lr factor,
which gan-zoo's layers apply at run time as `get_weight(use_wscale=True)` does. The fused Conv0_up
(`upscale2d_conv2d`, fused_scale=True) stores its filter [kh, kw, out, in] and hands it unflipped to
`conv2d_transpose`, which correlates with the filter rotated by 180 degrees; gan-zoo's up-sampling
block is nearest up-sampling and a plain 3x3 convolution, the same function with the rotated filter.
The fused Conv1_down (`conv2d_downscale2d`) correlates the filter as stored.
"""

from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_zoo.official.imported import ImportedNetworks, imported_networks, require
from gan_zoo.official.tf_network import (
    TFUTIL_NETWORK,
    Settings,
    TFNetwork,
    Variables,
    conv_weight,
    dense_weight,
    discriminator_settings_for,
    flipped_conv_weight,
    fmap_settings,
    is_tf_pickle,
    networks_with_discriminator,
    read_tf_pickle,
    tensor,
)

MODEL_TARGET = "gan_zoo.models.pggan.module.PGGANModule"
NEUTRAL_SETTINGS = ("structure", "is_template_graph")  # graph layout only: same variables, same function


def matches(data: Any, source: Path) -> bool:
    return is_tf_pickle(data, TFUTIL_NETWORK)  # only progressive_growing_of_gans writes tfutil.Network


def _common(s: Settings, what: str) -> dict[str, Any]:
    s.require("use_wscale", True, (True,), f"gan-zoo's PGGAN {what} always uses equalised learning rate")
    s.require("dtype", "float32", ("float32",), "gan-zoo computes PGGAN in float32")
    return fmap_settings(s)


def generator_settings(net: TFNetwork, source: Path) -> tuple[dict[str, Any], bool, list[str]]:
    """(PGGANModule arguments without `discriminator`, whether Conv0_up is fused, unknown settings)."""
    require(net.build_func_name == "G_paper", source, f"its {net.role} is built by {net.build_func_name}; gan-zoo's PGGAN generator is G_paper")
    s = Settings(net, source)
    s.require("pixelnorm_epsilon", 1e-8, (1e-8,), "gan-zoo's PGGAN pixel norm adds 1e-8")
    c_dim = int(s("label_size", 0))
    latent_size = s("latent_size", None)
    settings = {
        "resolution": int(s("resolution", 32)),
        "num_channels": int(s("num_channels", 1)),
        "num_classes": c_dim,
        "conditional": c_dim > 0,
        "generator": {
            **_common(s, "generator"),
            "latent_size": None if latent_size is None else int(latent_size),
            "normalize_latents": bool(s("normalize_latents", True)),
            "use_pixelnorm": bool(s("use_pixelnorm", True)),
            "use_leakyrelu": bool(s("use_leakyrelu", True)),
        },
    }
    fused = bool(s("fused_scale", True))
    s.ignore(*NEUTRAL_SETTINGS)
    return settings, fused, s.unknown()


def generator_state(net: TFNetwork, resolution: int, fused: bool, source: Path, prefix: str) -> dict[str, torch.Tensor]:
    v = Variables(net, source)
    v.ignore("lod")  # read once for the schedule (convert)
    state: dict[str, torch.Tensor] = {}

    def layer(key: str, scope: str) -> None:
        state[f"{key}.weight"] = conv_weight(v(f"{scope}/weight"))
        state[f"{key}.bias"] = tensor(v(f"{scope}/bias"))

    state["blocks.0.dense.weight"] = dense_weight(v("4x4/Dense/weight"))
    state["blocks.0.bias"] = tensor(v("4x4/Dense/bias"))  # added per channel after the reshape to [C, 4, 4]
    layer("blocks.0.conv", "4x4/Conv")
    log2 = int(np.log2(resolution))
    for r in range(3, log2 + 1):
        res, block = 2**r, f"blocks.{r - 2}"
        if fused:
            up = v(f"{res}x{res}/Conv0_up/weight").transpose(0, 1, 3, 2)  # [kh, kw, out, in] -> [kh, kw, in, out]
            state[f"{block}.conv0.weight"] = flipped_conv_weight(up)
            state[f"{block}.conv0.bias"] = tensor(v(f"{res}x{res}/Conv0_up/bias"))
        else:
            layer(f"{block}.conv0", f"{res}x{res}/Conv0")
        layer(f"{block}.conv1", f"{res}x{res}/Conv1")
    for r in range(2, log2 + 1):
        layer(f"to_rgb.{r - 2}", f"ToRGB_lod{log2 - r}")
    v.require_all_read("PGGAN generator (G_paper)")
    return {f"{prefix}.{k}": value for k, value in state.items()}


def discriminator_settings(net: TFNetwork, source: Path, settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    s = discriminator_settings_for(net, source, "D_paper", "PGGAN", settings)
    # fused_scale=False (e.g. networks converted from the Theano code) applies the leaky ReLU before pooling
    discriminator = {
        **_common(s, "discriminator"),
        "mbstd_group_size": int(s("mbstd_group_size", 4)),
        "mbstd_num_features": 1,
        "fused_scale": bool(s("fused_scale", True)),
    }
    s.ignore(*NEUTRAL_SETTINGS)
    return discriminator, s.unknown()


def discriminator_state(
    net: TFNetwork, resolution: int, source: Path, conv1_scope: str = "Conv1_down", builder: str = "PGGAN discriminator (D_paper)"
) -> dict[str, torch.Tensor]:
    """D's tensors under gan-zoo's PGGANDiscriminator names; StyleGAN's D_basic has the same layout.

    `conv1_scope` is the second convolution's TF scope: D_paper names it Conv1_down when fused_scale,
    else Conv1; D_basic always Conv1_down.
    """
    v = Variables(net, source)
    v.ignore("lod")  # the training lod's copy; gan-zoo passes lod to D at every call
    state: dict[str, torch.Tensor] = {}

    def layer(key: str, scope: str, dense: bool = False) -> None:
        weight = v(f"{scope}/weight")
        state[f"{key}.weight"] = dense_weight(weight) if dense else conv_weight(weight)
        state[f"{key}.bias"] = tensor(v(f"{scope}/bias"))

    log2 = int(np.log2(resolution))
    for r in range(2, log2 + 1):
        layer(f"from_rgb.{r - 2}.conv", f"FromRGB_lod{log2 - r}")
    for r in range(3, log2 + 1):
        res = 2**r
        layer(f"blocks.{r - 2}.conv0", f"{res}x{res}/Conv0")
        layer(f"blocks.{r - 2}.conv1", f"{res}x{res}/{conv1_scope}")
    layer("blocks.0.conv", "4x4/Conv")
    layer("blocks.0.dense0", "4x4/Dense0", dense=True)  # flattened [C, 4, 4] as NCHW, as torch flattens
    layer("blocks.0.dense1", "4x4/Dense1", dense=True)
    v.require_all_read(builder)
    return {f"D.{k}": value for k, value in state.items()}


def convert(data: tuple, source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    g, d, gs = read_tf_pickle(data, source)
    hyper_parameters, fused, unknown = generator_settings(gs, source)
    require(generator_settings(g, source)[:2] == (hyper_parameters, fused), source, "its G and Gs were built with different settings")
    resolution = hyper_parameters["resolution"]
    lod = float(Variables(gs, source)("lod"))
    # gan-zoo's PGGAN renders the level of detail its schedule gives; an imported file starts the
    # schedule at the level the networks were saved at, which must be a whole one.
    require(
        lod == int(lod),
        source,
        f"its networks were saved while a resolution was fading in (lod {lod:g}); "
        "gan-zoo renders an imported PGGAN at a whole level of detail: import a snapshot taken between fades",
    )
    hyper_parameters["schedule"] = {"lod_initial_resolution": resolution >> int(lod)}
    state = {**generator_state(g, resolution, fused, source, "G"), **generator_state(gs, resolution, fused, source, "G_ema")}

    def convert_discriminator() -> None:
        hyper_parameters["discriminator"], d_unknown = discriminator_settings(d, source, hyper_parameters)
        conv1_scope = "Conv1_down" if hyper_parameters["discriminator"]["fused_scale"] else "Conv1"
        state.update(discriminator_state(d, resolution, source, conv1_scope))
        unknown.extend(d_unknown)

    notes: list[str] = []
    networks = networks_with_discriminator(convert_discriminator, notes)
    if unknown:
        notes.append(f"settings the official build functions ignore were ignored too: {', '.join(sorted(set(unknown)))}")
    if lod:
        notes.append(f"the networks were saved during growing (lod {lod:g}): G renders {resolution >> int(lod)} px images")
    source_format = "tkarras-tf-pggan (progressive_growing_of_gans TensorFlow pickle)"
    return imported_networks("pggan", MODEL_TARGET, hyper_parameters, state, source_format, networks, notes)
