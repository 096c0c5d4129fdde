"""NVlabs PyTorch StyleGAN2 pickles -> gan-zoo `stylegan2`.

Written by stylegan2-ada-pytorch (`training/networks.py`) and stylegan3 (`training/networks_stylegan2.py`,
e.g. the released `stylegan2-ffhq-1024x1024.pkl`): a dict with `G`, `D`, `G_ema` (persistence records
whose `_init_kwargs` give the architecture), `augment_pipe` and `training_set_kwargs`. gan-zoo's
networks use the official parameter and buffer names, so the state dicts load key for key.

The two repositories' constructors have different defaults for what the training script did not
pass (stylegan3's SynthesisNetwork: num_fp16_res=4 and conv_clamp=256 in its blocks; ADA's: 0 and
None); the repository is told apart by its module source (read as text, never run).
"""

from pathlib import Path
from typing import Any

from gan_zoo.official.imported import ImportedNetworks, imported_networks, require
from gan_zoo.official.safe_pickle import PersistentRecord, module_state_dict

MODEL_TARGET = "gan_zoo.models.stylegan2.module.StyleGAN2Module"


def matches(data: Any, source: Path) -> bool:
    if not isinstance(data, dict) or not all(isinstance(data.get(k), PersistentRecord) for k in ("G", "G_ema")):
        return False
    g = data["G_ema"]
    return g.class_name == "Generator" and "class SynthesisBlock" in g.module_src and "class SynthesisInput" not in g.module_src


def _from_stylegan3_repo(record: PersistentRecord) -> bool:
    return "fused_modconv_default" in record.module_src


def require_skip_synthesis(synthesis: dict[str, Any], source: Path, skip_note: str = "") -> None:
    """Refuse a StyleGAN2 synthesis network (its constructor kwargs, official defaults where absent) that is
    not gan-zoo's: the official 'skip' generator with the [1, 3, 3, 1] FIR filter and noise inputs. Shared
    by the NVlabs and the Projected GAN snapshots, whose synthesis networks are the same class; `skip_note`
    follows 'skip' in the message (" (config F)" where the paper's configurations apply)."""
    require(
        synthesis.get("architecture", "skip") == "skip",
        source,
        f"G architecture {synthesis.get('architecture')!r}: gan-zoo's StyleGAN2 generator is the official 'skip'{skip_note}",
    )
    require(
        tuple(synthesis.get("resample_filter", (1, 3, 3, 1))) == (1, 3, 3, 1),
        source,
        f"G resample_filter {synthesis.get('resample_filter')}: gan-zoo uses [1, 3, 3, 1]",
    )
    require(synthesis.get("use_noise", True), source, "G built with use_noise=False: gan-zoo's StyleGAN2 always has noise inputs")


def read_discriminator(data: dict[str, Any], source: Path, shared: dict[str, Any], sg3_repo: bool) -> tuple[dict[str, Any], tuple[str, ...], list[str]]:
    """(gan-zoo `discriminator` kwargs, networks the file provides, notes) from the file's D record.

    The official D (`networks_stylegan2.Discriminator`, also behind the StyleGAN3 configs) shares
    channel_base, channel_max, num_fp16_res and conv_clamp with G in gan-zoo: `shared` must match.
    """
    if not isinstance(data.get("D"), PersistentRecord):
        note = "the file has no discriminator: D is freshly initialised (generate and eval are unaffected; fine-tuning needs a file with D)"
        return {}, ("G", "G_ema"), [note]
    d = data["D"].init_kwargs
    d_shared = {
        "channel_base": int(d.get("channel_base", 32768)),
        "channel_max": int(d.get("channel_max", 512)),
        "num_fp16_res": int(d.get("num_fp16_res", 4 if sg3_repo else 0)),
        "conv_clamp": d.get("conv_clamp", 256 if sg3_repo else None),
    }
    require(
        d_shared == shared,
        source,
        f"G and D differ in {', '.join(k for k in shared if shared[k] != d_shared[k])} (G {shared}, D {d_shared}); gan-zoo shares these between G and D",
    )
    epilogue = dict(d.get("epilogue_kwargs") or {})
    discriminator = {
        "architecture": d.get("architecture", "resnet"),
        "mbstd_group_size": epilogue.get("mbstd_group_size", 4),
        "mbstd_num_channels": epilogue.get("mbstd_num_channels", 1),
        "mapping_layers": int((d.get("mapping_kwargs") or {}).get("num_layers", 8)),
        "cmap_dim": d.get("cmap_dim"),
    }
    require(discriminator["architecture"] in ("resnet", "orig"), source, f"D architecture {discriminator['architecture']!r}: gan-zoo has 'resnet' and 'orig'")
    return discriminator, ("G", "D", "G_ema"), []


def convert(data: dict[str, Any], source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    g_record: PersistentRecord = data["G_ema"]
    g = g_record.init_kwargs
    sg3_repo = _from_stylegan3_repo(g_record)
    mapping = dict(g.get("mapping_kwargs") or {})
    synthesis = dict(g.get("synthesis_kwargs") or {})
    w_dim = int(g["w_dim"])
    require_skip_synthesis(synthesis, source, " (config F)")
    require(
        mapping.get("embed_features") in (None, w_dim) and mapping.get("layer_features") in (None, w_dim),
        source,
        f"mapping embed/layer features {mapping.get('embed_features')}/{mapping.get('layer_features')}: gan-zoo uses w_dim ({w_dim})",
    )
    require(mapping.get("activation", "lrelu") == "lrelu", source, f"mapping activation {mapping.get('activation')!r}: gan-zoo uses lrelu")

    shared = {
        "channel_base": int(synthesis.get("channel_base", 32768)),
        "channel_max": int(synthesis.get("channel_max", 512)),
        "num_fp16_res": int(synthesis.get("num_fp16_res", 4 if sg3_repo else 0)),
        "conv_clamp": synthesis.get("conv_clamp", 256 if sg3_repo else None),
    }
    discriminator, networks, notes = read_discriminator(data, source, shared, sg3_repo)
    c_dim = int(g.get("c_dim", 0))
    hyper_parameters: dict[str, Any] = {
        "resolution": int(g["img_resolution"]),
        "num_channels": int(g.get("img_channels", 3)),
        "num_classes": c_dim,
        "conditional": c_dim > 0,
        "z_dim": int(g["z_dim"]),
        "w_dim": w_dim,
        **shared,
        "mapping": {
            "num_layers": int(mapping.get("num_layers", 8)),
            "lr_multiplier": float(mapping.get("lr_multiplier", 0.01)),
            "w_avg_beta": mapping.get("w_avg_beta", 0.998),
        },
        "discriminator": discriminator,
    }
    source_format = "nvlabs-pytorch-stylegan2 (" + ("stylegan3" if sg3_repo else "stylegan2-ada-pytorch") + " repository)"
    return snapshot_import(data, "stylegan2", MODEL_TARGET, hyper_parameters, source_format, networks, notes)


def snapshot_import(
    data: dict[str, Any], family: str, model_target: str, hyper_parameters: dict[str, Any], source_format: str, networks: tuple[str, ...], notes: list[str]
) -> ImportedNetworks:
    """The networks of an NVlabs training snapshot (G, D, G_ema records, training_set_kwargs) for `family`."""
    state: dict[str, Any] = {}
    for name in networks:
        state.update(module_state_dict(data[name], f"{name}."))
    return imported_networks(family, model_target, hyper_parameters, state, source_format, networks, notes, snapshot=data)
