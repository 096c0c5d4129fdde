"""NVlabs TensorFlow StyleGAN2 pickles -> gan-zoo `stylegan2`.

Written by NVlabs/stylegan2 (`training/networks_stylegan2.py`, e.g. the released
`stylegan2-ffhq-config-f.pkl`) and StyleGAN2-ADA's TF version: a tuple (G, D, Gs) of
`dnnlib.tflib.network.Network`, G and Gs built by `G_main` with `mapping` and `synthesis`
components. The conversion is stylegan2-ada-pytorch's `legacy.py` (`convert_tf_generator`,
`convert_tf_discriminator`) with gan-zoo's names, which are the official PyTorch ones: dense weights
transposed, conv filters [kh, kw, in, out] -> [out, in, kh, kw], Conv0_up filters also rotated by 180
degrees, style biases + 1 (the PyTorch affine layers store bias_init 1 in the bias), the 4x4 constant
without its batch axis, `noise{i}` as the layers' `noise_const`, `dlatent_avg` as `mapping.w_avg`.
The `resample_filter` buffers are constants of the architecture (legacy.py keeps the constructor's).
"""

from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_zoo.layers import layer_fir_filter
from gan_zoo.official.imported import ImportedNetworks, imported_networks, require
from gan_zoo.official.tf_network import (
    DNNLIB_NETWORK,
    Settings,
    TFNetwork,
    Unsupported,
    Variables,
    build_func_name,
    conv_weight,
    dense_weight,
    flipped_conv_weight,
    is_tf_pickle,
    networks_with_discriminator,
    read_tf_pickle,
    require_same_data,
    tensor,
)

MODEL_TARGET = "gan_zoo.models.stylegan2.module.StyleGAN2Module"
RESAMPLE_KERNEL = [1, 3, 3, 1]  # the only FIR filter gan-zoo's StyleGAN2 layers take
# Settings that change neither the weights nor what the networks compute from them.
NEUTRAL_SETTINGS = (
    "truncation_psi",
    "truncation_cutoff",
    "truncation_psi_val",
    "truncation_cutoff_val",
    "style_mixing_prob",
    "structure",
    "randomize_noise",
    "fused_modconv",
    "is_template_graph",
    "freeze_layers",
)


def matches(data: Any, source: Path) -> bool:
    return is_tf_pickle(data, DNNLIB_NETWORK) and build_func_name(data[0]) == "G_main"


def _common(s: Settings) -> dict[str, Any]:
    """Settings the TF G and D share and gan-zoo's StyleGAN2 keeps once for both."""
    s.require("fmap_decay", 1.0, (1, 1.0), "gan-zoo's StyleGAN2 halves channels per resolution (fmap_decay 1)")
    s.require("fmap_min", 1, lambda v: int(v) <= 1, "gan-zoo's StyleGAN2 has no channel floor (fmap_min 1)")
    s.require("nonlinearity", "lrelu", ("lrelu",), "gan-zoo's StyleGAN2 uses leaky ReLU")
    s.require(
        "resample_kernel", RESAMPLE_KERNEL, lambda v: list(v or []) == RESAMPLE_KERNEL, f"gan-zoo's StyleGAN2 resamples with the FIR filter {RESAMPLE_KERNEL}"
    )
    s.require("dtype", "float32", ("float32",), "gan-zoo computes StyleGAN2 in float32 (num_fp16_res for mixed precision)")
    return {
        "channel_base": int(s("fmap_base", 16 << 10)) * 2,  # TF nf(log2(res) - 1) = 2 * fmap_base / res
        "channel_max": int(s("fmap_max", 512)),
        "num_fp16_res": int(s("num_fp16_res", 0)),
        "conv_clamp": s("conv_clamp", None),
    }


def generator_settings(net: TFNetwork, source: Path) -> dict[str, Any]:
    """The StyleGAN2Module arguments (without `discriminator`) that G's static kwargs describe."""
    s = Settings(net, source)
    require(net.version >= 4, source, f"its {net.role} has Network state version {net.version}; StyleGAN2 pickles have version 4")
    w_dim = int(s("dlatent_size", 512))
    c_dim = int(s("label_size", 0))
    s.require(
        "synthesis_func",
        "G_synthesis_stylegan2",
        ("G_synthesis_stylegan2",),
        "gan-zoo's StyleGAN2 generator is config F's G_synthesis_stylegan2 (configs A-D are not)",
    )
    s.require("mapping_func", "G_mapping", ("G_mapping",), "gan-zoo's StyleGAN2 mapping is G_mapping")
    s.require("architecture", "skip", ("skip",), "gan-zoo's StyleGAN2 generator is the official 'skip' (config F)")
    s.require("use_noise", True, (True,), "gan-zoo's StyleGAN2 always has noise inputs")
    s.require("mapping_nonlinearity", "lrelu", ("lrelu",), "gan-zoo's StyleGAN2 mapping uses leaky ReLU")
    s.require("normalize_latents", True, (True,), "gan-zoo's StyleGAN2 mapping always normalises z")
    for name in ("label_fmaps", "mapping_fmaps"):
        s.require(name, None, (None, w_dim), f"gan-zoo's StyleGAN2 mapping layers are w_dim ({w_dim}) wide")
    w_avg_beta = s("w_avg_beta", s("dlatent_avg_beta", 0.995))  # StyleGAN2-ADA's name, StyleGAN2's name
    settings = {
        "resolution": int(s("resolution", 1024)),
        "num_channels": int(s("num_channels", 3)),
        "num_classes": c_dim,
        "conditional": c_dim > 0,
        "z_dim": int(s("latent_size", 512)),
        "w_dim": w_dim,
        **_common(s),
        "mapping": {
            "num_layers": int(s("mapping_layers", 8)),
            "lr_multiplier": float(s("mapping_lrmul", 0.01)),
            "w_avg_beta": 1.0 if w_avg_beta is None else float(w_avg_beta),  # None: not tracked
        },
    }
    s.ignore(*NEUTRAL_SETTINGS)
    unknown = s.unknown()
    require(
        not unknown,
        source,
        f"its {net.role} has the setting {unknown[0] if unknown else ''!r}, which legacy.py does not "
        "know either; gan-zoo imports the StyleGAN2 configurations legacy.py converts",
    )
    return settings


def generator_state(net: TFNetwork, settings: dict[str, Any], source: Path, prefix: str) -> dict[str, torch.Tensor]:
    """legacy.py's convert_tf_generator table, key by key."""
    v = Variables(net, source)
    state: dict[str, torch.Tensor] = {}
    v.ignore("lod")  # G_main's growing variable; config F does not grow
    state["mapping.w_avg"] = tensor(v("dlatent_avg"))
    if settings["conditional"]:
        if "mapping/LabelConcat/weight" in v:
            raise Unsupported(
                f"{source}: its {net.role} concatenates a plain label embedding to z (StyleGAN2 TF's LabelConcat); "
                "gan-zoo's conditional StyleGAN2 embeds labels with StyleGAN2-ADA's dense LabelEmbed"
            )
        state["mapping.embed.weight"] = dense_weight(v("mapping/LabelEmbed/weight"))
        state["mapping.embed.bias"] = tensor(v("mapping/LabelEmbed/bias"))
    for i in range(settings["mapping"]["num_layers"]):
        state[f"mapping.fc{i}.weight"] = dense_weight(v(f"mapping/Dense{i}/weight"))
        state[f"mapping.fc{i}.bias"] = tensor(v(f"mapping/Dense{i}/bias"))

    def layer(key: str, scope: str, noise: int | None, flip: bool = False) -> None:
        weight = v(f"synthesis/{scope}/weight")
        state[f"{key}.weight"] = flipped_conv_weight(weight) if flip else conv_weight(weight)
        state[f"{key}.bias"] = tensor(v(f"synthesis/{scope}/bias"))
        state[f"{key}.affine.weight"] = dense_weight(v(f"synthesis/{scope}/mod_weight"))
        state[f"{key}.affine.bias"] = tensor(v(f"synthesis/{scope}/mod_bias") + 1)
        if noise is not None:
            state[f"{key}.noise_const"] = tensor(v(f"synthesis/noise{noise}")[0, 0])
            state[f"{key}.noise_strength"] = tensor(v(f"synthesis/{scope}/noise_strength"))
            state[f"{key}.resample_filter"] = layer_fir_filter(RESAMPLE_KERNEL)

    log2 = int(np.log2(settings["resolution"]))
    for r in range(2, log2 + 1):
        res = 2**r
        block = f"synthesis.b{res}"
        state[f"{block}.resample_filter"] = layer_fir_filter(RESAMPLE_KERNEL)
        if r == 2:
            state[f"{block}.const"] = tensor(v("synthesis/4x4/Const/const")[0])
            layer(f"{block}.conv1", "4x4/Conv", noise=0)
        else:
            layer(f"{block}.conv0", f"{res}x{res}/Conv0_up", noise=2 * r - 5, flip=True)
            layer(f"{block}.conv1", f"{res}x{res}/Conv1", noise=2 * r - 4)
        layer(f"{block}.torgb", f"{res}x{res}/ToRGB", noise=None)
    v.require_all_read("StyleGAN2 'skip' generator")
    return {f"{prefix}.{k}": value for k, value in state.items()}


def discriminator_settings(net: TFNetwork, source: Path, generator: dict[str, Any]) -> dict[str, Any]:
    s = Settings(net, source)
    require(net.version >= 4, source, f"its D has Network state version {net.version}; StyleGAN2 pickles have version 4")
    if net.build_func_name != "D_stylegan2":
        raise Unsupported(f"{source}: its D is {net.build_func_name}; gan-zoo's StyleGAN2 discriminator is D_stylegan2 (config F)")
    shared = _common(s)
    if shared != {k: generator[k] for k in shared}:
        differ = ", ".join(f"{k} (G {generator[k]}, D {shared[k]})" for k in shared if shared[k] != generator[k])
        raise Unsupported(f"{source}: its G and D differ in {differ}; gan-zoo's StyleGAN2 shares these between G and D")
    require_same_data(s, generator, "StyleGAN2")
    architecture = s.require("architecture", "resnet", ("resnet", "orig"), "gan-zoo's StyleGAN2 D is 'resnet' or 'orig'")
    group = s("mbstd_group_size", 4)
    settings = {
        "architecture": architecture,
        "mbstd_group_size": int(group or 0),
        # The TF layer runs only for groups of 2 or more; gan-zoo switches it off by its channel count.
        "mbstd_num_channels": int(s("mbstd_num_features", 1)) if (group or 0) > 1 else 0,
        "mapping_layers": int(s("mapping_layers", 0)),
        "cmap_dim": s("mapping_fmaps", None),
    }
    if generator["conditional"]:
        s.require("mapping_lrmul", 0.1, (0.01,), "gan-zoo's conditional StyleGAN2 D maps labels with lr multiplier 0.01")
    s.ignore(*NEUTRAL_SETTINGS, "mapping_lrmul")
    if s.unknown():
        raise Unsupported(f"{source}: its D has the setting {s.unknown()[0]!r}, which legacy.py does not know either")
    return settings


def discriminator_state(net: TFNetwork, settings: dict[str, Any], resolution: int, conditional: bool, source: Path) -> dict[str, torch.Tensor]:
    """legacy.py's convert_tf_discriminator table, key by key."""
    v = Variables(net, source)
    state: dict[str, torch.Tensor] = {}
    fir = layer_fir_filter(RESAMPLE_KERNEL)

    def conv(key: str, scope: str, bias: bool = True) -> None:
        state[f"{key}.weight"] = conv_weight(v(f"{scope}/weight"))
        if bias:
            state[f"{key}.bias"] = tensor(v(f"{scope}/bias"))
        state[f"{key}.resample_filter"] = fir

    log2 = int(np.log2(resolution))
    for r in range(log2, 2, -1):
        res = 2**r
        state[f"b{res}.resample_filter"] = fir
        if res == resolution:
            conv(f"b{res}.fromrgb", f"{res}x{res}/FromRGB")
        conv(f"b{res}.conv0", f"{res}x{res}/Conv0")
        conv(f"b{res}.conv1", f"{res}x{res}/Conv1_down")
        if settings["architecture"] == "resnet":
            conv(f"b{res}.skip", f"{res}x{res}/Skip", bias=False)
    if conditional:
        state["mapping.embed.weight"] = dense_weight(v("LabelEmbed/weight"))
        state["mapping.embed.bias"] = tensor(v("LabelEmbed/bias"))
        for i in range(settings["mapping_layers"]):
            state[f"mapping.fc{i}.weight"] = dense_weight(v(f"Mapping{i}/weight"))
            state[f"mapping.fc{i}.bias"] = tensor(v(f"Mapping{i}/bias"))
    conv("b4.conv", "4x4/Conv")
    state["b4.fc.weight"] = dense_weight(v("4x4/Dense0/weight"))
    state["b4.fc.bias"] = tensor(v("4x4/Dense0/bias"))
    state["b4.out.weight"] = dense_weight(v("Output/weight"))
    state["b4.out.bias"] = tensor(v("Output/bias"))
    v.require_all_read(f"StyleGAN2 '{settings['architecture']}' discriminator")
    return {f"D.{k}": value for k, value in state.items()}


def convert(data: tuple, source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    g, d, gs = read_tf_pickle(data, source)
    hyper_parameters = generator_settings(gs, source)
    require(generator_settings(g, source) == hyper_parameters, source, "its G and Gs were built with different settings")
    state = {**generator_state(g, hyper_parameters, source, "G"), **generator_state(gs, hyper_parameters, source, "G_ema")}

    def convert_discriminator() -> None:
        hyper_parameters["discriminator"] = discriminator_settings(d, source, hyper_parameters)
        state.update(discriminator_state(d, hyper_parameters["discriminator"], hyper_parameters["resolution"], hyper_parameters["conditional"], source))

    notes: list[str] = []
    networks = networks_with_discriminator(convert_discriminator, notes)
    if "D" not in networks:
        hyper_parameters["discriminator"] = {}  # gan-zoo's default D, built fresh
    source_format = "nvlabs-tf-stylegan2 (NVlabs/stylegan2 TensorFlow pickle, converted as stylegan2-ada-pytorch legacy.py)"
    return imported_networks("stylegan2", MODEL_TARGET, hyper_parameters, state, source_format, networks, notes)
