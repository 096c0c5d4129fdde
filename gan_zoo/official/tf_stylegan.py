"""NVlabs TensorFlow StyleGAN (v1) pickles -> gan-zoo `stylegan`.

Written by NVlabs/stylegan (`training/networks_stylegan.py`, e.g. the released
`karras2019stylegan-ffhq-1024x1024.pkl`): a tuple (G, D, Gs) of `dnnlib.tflib.network.Network`
(state version 3), G and Gs built by `G_style` with components `mapping` (G_mapping) and
`synthesis` (G_synthesis), D by `D_basic`. No official PyTorch conversion exists (legacy.py reads
StyleGAN2 only), so the layouts follow the TF layer code: dense [in, out], conv [kh, kw, in, out],
both stored without the equalised-lr factor, which gan-zoo's layers apply at run time as the TF code
does (`get_weight`: N(0, 1/lrmul^2) weights x he_std*lrmul, biases x lrmul). The fused Conv0_up
(`upscale2d_conv2d`, at >= 128 px with fused_scale 'auto') hands its filter unflipped to
`conv2d_transpose`, which correlates with the filter rotated by 180 degrees, so those filters are
rotated; the separate form and every down-sampling convolution correlate as stored.
"""

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_zoo.official.imported import ImportedNetworks, imported_networks, require
from gan_zoo.official.tf_network import (
    DNNLIB_NETWORK,
    Settings,
    TFNetwork,
    Variables,
    build_func_name,
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
from gan_zoo.official.tf_pggan import discriminator_state as pggan_discriminator_state

MODEL_TARGET = "gan_zoo.models.stylegan.module.StyleGANModule"
FUSED_AUTO_RESOLUTION = 128  # fused_scale='auto' fuses resampling whose high-resolution side is >= 128 px
# Settings that change neither the weights nor what the networks compute from them.
NEUTRAL_SETTINGS = (
    "truncation_psi_val",
    "truncation_cutoff_val",
    "is_training",
    "is_validation",
    "is_template_graph",
    "randomize_noise",
    "force_clean_graph",
    "dlatent_broadcast",
    "structure",
)


def matches(data: Any, source: Path) -> bool:
    return is_tf_pickle(data, DNNLIB_NETWORK) and build_func_name(data[0]) == "G_style"


def _fused(fused_scale: bool | str, resolution: int) -> bool:
    """Whether the TF layer whose high-resolution side is `resolution` px ran fused."""
    return resolution >= FUSED_AUTO_RESOLUTION if fused_scale == "auto" else bool(fused_scale)


def _resampling(s: Settings) -> dict[str, Any]:
    fused_scale = s.require("fused_scale", "auto", (True, False, "auto"), "the official values are true, false and 'auto'")
    blur = s("blur_filter", [1, 2, 1])
    return {"blur_filter": list(blur) if blur else None, "fused_scale": fused_scale}


def _common(s: Settings, what: str) -> dict[str, Any]:
    s.require("use_wscale", True, (True,), f"gan-zoo's StyleGAN {what} always uses equalised learning rate")
    s.require("nonlinearity", "lrelu", ("lrelu",), f"gan-zoo's StyleGAN {what} uses leaky ReLU")
    s.require("dtype", "float32", ("float32",), "gan-zoo computes StyleGAN in float32")
    return fmap_settings(s)


def generator_settings(net: TFNetwork, source: Path) -> tuple[dict[str, Any], list[str]]:
    """(StyleGANModule arguments without `discriminator`, unknown settings) from G_style's kwargs."""
    require(
        set(net.components) >= {"mapping", "synthesis"}, source, f"its {net.role} (G_style) has no mapping and synthesis components; the file is incomplete"
    )
    s = Settings(net, source)
    for name, why in (
        ("use_styles", "gan-zoo's StyleGAN always styles every layer"),
        ("const_input_layer", "gan-zoo's StyleGAN starts from the learned 4x4 constant"),
        ("use_noise", "gan-zoo's StyleGAN always has noise inputs"),
        ("use_instance_norm", "gan-zoo's StyleGAN always instance-normalises before styling"),
    ):
        s.require(name, True, (True,), why)
    s.require("use_pixel_norm", False, (False,), "gan-zoo's StyleGAN synthesis has no pixel norm")
    s.require("mapping_nonlinearity", "lrelu", ("lrelu",), "gan-zoo's StyleGAN mapping uses leaky ReLU")
    c_dim = int(s("label_size", 0))
    w_dim = int(s("dlatent_size", 512))
    psi, cutoff = s("truncation_psi", 0.7), s("truncation_cutoff", 8)
    truncated = psi is not None and cutoff is not None and cutoff > 0  # G_style truncates only with both set
    mixing = s("style_mixing_prob", 0.9)
    beta = s("dlatent_avg_beta", 0.995)
    settings = {
        "resolution": int(s("resolution", 1024)),
        "num_channels": int(s("num_channels", 3)),
        "num_classes": c_dim,
        "conditional": c_dim > 0,
        "generator": {
            "z_dim": int(s("latent_size", 512)),
            "w_dim": w_dim,
            "mapping_layers": int(s("mapping_layers", 8)),
            "mapping_fmaps": int(s("mapping_fmaps", 512)),
            "mapping_lr_mul": float(s("mapping_lrmul", 0.01)),
            "normalize_latents": bool(s("normalize_latents", True)),
            "w_avg_beta": 1.0 if beta is None else float(beta),  # 1: w_avg not tracked
            **_common(s, "generator"),
            **_resampling(s),
        },
        "style_mixing_prob": 0.0 if mixing is None else float(mixing),
        "sampling": {"truncation_psi": float(psi) if truncated else 1.0, "truncation_cutoff": int(cutoff) if truncated else None},
    }
    s.ignore(*NEUTRAL_SETTINGS)
    return settings, s.unknown()


def generator_state(net: TFNetwork, settings: dict[str, Any], source: Path, prefix: str) -> dict[str, torch.Tensor]:
    v = Variables(net, source)
    g = settings["generator"]
    state: dict[str, torch.Tensor] = {}
    state["mapping.w_avg"] = tensor(v("dlatent_avg"))
    if settings["conditional"]:
        state["mapping.embed"] = tensor(v("mapping/LabelConcat/weight"))  # [label_size, latent_size], used as is
    for i in range(g["mapping_layers"]):
        state[f"mapping.fcs.{i}.weight"] = dense_weight(v(f"mapping/Dense{i}/weight"))
        state[f"mapping.fcs.{i}.bias"] = tensor(v(f"mapping/Dense{i}/bias"))
    # G_style copies its own `lod` into the synthesis network's before every run.
    state["synthesis.lod"] = tensor(v("lod"))
    v.ignore("synthesis/lod")

    def epilogue(key: str, scope: str, layer: int) -> None:
        state[f"{key}.noise.weight"] = tensor(v(f"synthesis/{scope}/Noise/weight"))
        state[f"{key}.noise.noise_const"] = tensor(v(f"synthesis/noise{layer}")[0, 0])
        state[f"{key}.bias"] = tensor(v(f"synthesis/{scope}/bias"))
        state[f"{key}.adain.affine.weight"] = dense_weight(v(f"synthesis/{scope}/StyleMod/weight"))
        state[f"{key}.adain.affine.bias"] = tensor(v(f"synthesis/{scope}/StyleMod/bias"))

    log2 = int(np.log2(settings["resolution"]))
    state["synthesis.blocks.0.const"] = tensor(v("synthesis/4x4/Const/const"))
    epilogue("synthesis.blocks.0.epilogue0", "4x4/Const", 0)
    state["synthesis.blocks.0.conv.weight"] = conv_weight(v("synthesis/4x4/Conv/weight"))
    epilogue("synthesis.blocks.0.epilogue1", "4x4/Conv", 1)
    for r in range(3, log2 + 1):
        res, block = 2**r, f"synthesis.blocks.{r - 2}"
        up = v(f"synthesis/{res}x{res}/Conv0_up/weight")
        state[f"{block}.conv0.weight"] = flipped_conv_weight(up) if _fused(g["fused_scale"], res) else conv_weight(up)
        epilogue(f"{block}.epilogue0", f"{res}x{res}/Conv0_up", 2 * r - 4)
        state[f"{block}.conv1.weight"] = conv_weight(v(f"synthesis/{res}x{res}/Conv1/weight"))
        epilogue(f"{block}.epilogue1", f"{res}x{res}/Conv1", 2 * r - 3)
    for r in range(2, log2 + 1):
        state[f"synthesis.to_rgb.{r - 2}.weight"] = conv_weight(v(f"synthesis/ToRGB_lod{log2 - r}/weight"))
        state[f"synthesis.to_rgb.{r - 2}.bias"] = tensor(v(f"synthesis/ToRGB_lod{log2 - r}/bias"))
    v.require_all_read("StyleGAN generator")
    return {f"{prefix}.{k}": value for k, value in state.items()}


def discriminator_settings(net: TFNetwork, source: Path, settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    s = discriminator_settings_for(net, source, "D_basic", "StyleGAN", settings)
    discriminator = {
        **_common(s, "discriminator"),
        "mbstd_group_size": int(s("mbstd_group_size", 4)),
        "mbstd_num_features": int(s("mbstd_num_features", 1)),
        **_resampling(s),
    }
    s.ignore(*NEUTRAL_SETTINGS)
    return discriminator, s.unknown()


def convert(data: tuple, source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    g, d, gs = read_tf_pickle(data, source)
    hyper_parameters, unknown = generator_settings(gs, source)
    require(generator_settings(g, source)[0] == hyper_parameters, source, "its G and Gs were built with different settings")
    state = {**generator_state(g, hyper_parameters, source, "G"), **generator_state(gs, hyper_parameters, source, "G_ema")}

    def convert_discriminator() -> None:
        hyper_parameters["discriminator"], d_unknown = discriminator_settings(d, source, hyper_parameters)
        # D_basic's layout is D_paper's; its Conv1_down is a plain correlation, fused or not
        state.update(pggan_discriminator_state(d, hyper_parameters["resolution"], source, "Conv1_down", "StyleGAN discriminator (D_basic)"))
        unknown.extend(d_unknown)

    notes: list[str] = []
    networks = networks_with_discriminator(convert_discriminator, notes)
    if unknown:
        notes.append(f"settings the official build functions ignore were ignored too: {', '.join(sorted(set(unknown)))}")
    lod = float(state["G_ema.synthesis.lod"])
    # The schedule gan-zoo would continue from: the level the networks were last trained at.
    hyper_parameters["schedule"] = {"lod_initial_resolution": hyper_parameters["resolution"] >> math.floor(lod)}
    if lod:
        notes.append(
            f"the networks were saved during growing (lod {lod:g}): G renders "
            f"{hyper_parameters['resolution'] >> math.floor(lod)} px images, upscaled to full resolution"
        )
    source_format = "nvlabs-tf-stylegan (NVlabs/stylegan TensorFlow pickle)"
    return imported_networks("stylegan", MODEL_TARGET, hyper_parameters, state, source_format, networks, notes)
