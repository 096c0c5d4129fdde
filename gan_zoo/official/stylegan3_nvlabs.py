"""NVlabs StyleGAN3 pickles -> gan-zoo `stylegan3`.

Written by NVlabs/stylegan3 `training/training_loop.py` (the released `stylegan3-t-ffhqu-1024x1024.pkl`,
`stylegan3-r-afhqv2-512x512.pkl`, ... and every `network-snapshot-*.pkl`): a dict with `G`, `D`,
`G_ema` (persistence records), `augment_pipe` and `training_set_kwargs`. G is
`training/networks_stylegan3.py` `Generator`, whose init kwargs are train.py's G_kwargs (synthesis
options flat beside `mapping_kwargs`); D is the StyleGAN2 discriminator. gan-zoo's networks use the
official names, so the state dicts load key for key.

The file's synthesis settings are passed to gan-zoo explicitly (`synthesis`), so nothing depends on
the cfg defaults; `cfg` is stylegan3-r when the file uses radial filters (train.py sets them only there).
"""

from pathlib import Path
from typing import Any

from gan_zoo.official.imported import ImportedNetworks, require
from gan_zoo.official.safe_pickle import PersistentRecord
from gan_zoo.official.stylegan2_nvlabs import read_discriminator, snapshot_import

MODEL_TARGET = "gan_zoo.models.stylegan3.module.StyleGAN3Module"
SOURCE_MARK = "class SynthesisInput"  # networks_stylegan3.py (StyleGAN-XL's variant also has SuperresGenerator)
# The official SynthesisNetwork's filter and margin defaults; StyleGAN-XL's copy of the network has the same.
FILTER_DEFAULTS = {
    "num_critical": 2,
    "first_cutoff": 2,
    "first_stopband": 2**2.1,
    "last_stopband_rel": 2**0.3,
    "margin_size": 10,
    "output_scale": 0.25,
}
# The official SynthesisNetwork / SynthesisLayer defaults, for what train.py did not pass.
SYNTHESIS_DEFAULTS = {
    "channel_base": 32768,
    "channel_max": 512,
    "num_layers": 14,
    **FILTER_DEFAULTS,
    "num_fp16_res": 4,
    "conv_kernel": 3,
    "conv_clamp": 256,
    "use_radial_filters": False,
}
# Layer options gan-zoo keeps at the official defaults: a file with other values is refused, naming them.
FIXED_LAYER = {"filter_size": 6, "lrelu_upsampling": 2}
MAPPING_DEFAULTS = {"num_layers": 2, "lr_multiplier": 0.01, "w_avg_beta": 0.998}


def matches(data: Any, source: Path) -> bool:
    if not isinstance(data, dict) or not all(isinstance(data.get(k), PersistentRecord) for k in ("G", "G_ema")):
        return False
    g = data["G_ema"]
    return g.class_name == "Generator" and SOURCE_MARK in g.module_src and "class SuperresGenerator" not in g.module_src


def convert(data: dict[str, Any], source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    g: dict[str, Any] = dict(data["G_ema"].init_kwargs)
    for key, value in FIXED_LAYER.items():
        require(g.get(key, value) == value, source, f"its synthesis has {key}={g.get(key)!r}; gan-zoo's StyleGAN3 has {key}={value}")
    synthesis = {key: g.get(key, default) for key, default in SYNTHESIS_DEFAULTS.items()}
    synthesis["use_radial_filters"] = bool(synthesis["use_radial_filters"])
    mapping = {key: (g.get("mapping_kwargs") or {}).get(key, default) for key, default in MAPPING_DEFAULTS.items()}
    radial = synthesis["use_radial_filters"]
    d = data["D"].init_kwargs if isinstance(data.get("D"), PersistentRecord) else {}
    # The module's channel_base/channel_max are D's (train.py --cbase/--cmax); G's stand in `synthesis`.
    shared = {
        "channel_base": int(d.get("channel_base", synthesis["channel_base"] // (2 if radial else 1))),
        "channel_max": int(d.get("channel_max", synthesis["channel_max"] // (2 if radial else 1))),
        "num_fp16_res": int(synthesis["num_fp16_res"]),
        "conv_clamp": synthesis["conv_clamp"],
    }
    discriminator, networks, notes = read_discriminator(data, source, shared, sg3_repo=True)
    c_dim = int(g.get("c_dim", 0))
    hyper_parameters: dict[str, Any] = {
        "resolution": int(g["img_resolution"]),
        "cfg": "stylegan3-r" if radial else "stylegan3-t",
        "num_channels": int(g.get("img_channels", 3)),
        "num_classes": c_dim,
        "conditional": c_dim > 0,
        "z_dim": int(g["z_dim"]),
        "w_dim": int(g["w_dim"]),
        **shared,
        "magnitude_ema_beta": float(g.get("magnitude_ema_beta", 0.999)),
        "synthesis": {k: v for k, v in synthesis.items() if k not in ("num_fp16_res", "conv_clamp")},
        "mapping": mapping,
        "discriminator": discriminator,
    }
    return snapshot_import(data, "stylegan3", MODEL_TARGET, hyper_parameters, f"nvlabs-pytorch-stylegan3 ({hyper_parameters['cfg']})", networks, notes)
