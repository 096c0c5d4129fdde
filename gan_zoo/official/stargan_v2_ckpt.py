"""clovaai/stargan-v2 checkpoints -> gan-zoo `stargan_v2`.

The official solver (`core/solver.py`, `core/checkpoint.py` CheckpointIO) saves, every save_every
iterations, `{step:06d}_nets.ckpt` (the training networks), `{step:06d}_nets_ema.ckpt` (their moving
averages; the released `100000_nets_ema.ckpt` of CelebA-HQ and AFHQ) and `{step:06d}_optims.ckpt`:
torch.save of a dict of state dicts named as `core/model.py` build_model names the networks
(`generator`, `mapping_network`, `style_encoder`, `discriminator` in _nets only), taken from inside
their DataParallel wrappers. Face models (w_hpf > 0) also hold the frozen landmark network under
`fan` in both files, because build_model registers it with the networks. gan-zoo's networks use the
official parameter and buffer names, so the state dicts load key for key.

Nothing but the tensors says how a model was built; every setting comes from their shapes (the
generator's high-pass filter buffer, `hpf.filter` = the 3x3 kernel / w_hpf, exists only when
w_hpf > 0). The two network files of one step are one checkpoint: the other is read too when it
lies beside the given one (same step), so either gives the training networks and their averages.
"""

import math
import re
from pathlib import Path
from typing import Any

import torch

from gan_zoo.errors import CheckpointError
from gan_zoo.official.imported import ImportedNetworks, require

MODEL_TARGET = "gan_zoo.models.stargan_v2.module.StarGANv2Module"
# Official network names (core/model.py build_model) -> gan-zoo's training networks and EMA copies.
TRAINED = {"generator": "G", "mapping_network": "F", "style_encoder": "E", "discriminator": "D"}
AVERAGED = {"generator": "G_ema", "mapping_network": "F_ema", "style_encoder": "E_ema"}
G_MARKERS = ("from_rgb.weight", "encode.0.conv1.weight", "decode.0.conv1.weight")
FAN_MARKERS = ("conv1.conv.weight", "m0.coordconv.conv.weight", "l0.weight")  # core/wing.py FAN
WRAPPER_PREFIX = "module."  # nn.DataParallel's, in files saved from the wrapper instead of module.module
NETS_NAME = re.compile(r"^(\d+)_nets(_ema)?\.ckpt$")  # CheckpointIO's '{:06d}_nets.ckpt' / '_nets_ema.ckpt'
HPF_CENTRE = 8.0  # the centre of the official high-pass kernel before it is divided by w_hpf
OVERRIDES = ("fan_path", "domain_names")
HOW_TO_GET_FAN = "the official `bash download.sh wing` saves it as expr/checkpoints/wing.ckpt"


def _is_state_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(v, torch.Tensor) for v in value.values())


def _unwrapped(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict without the DataParallel prefix that files saved from the wrapper carry."""
    if all(k.startswith(WRAPPER_PREFIX) for k in state):
        return {k[len(WRAPPER_PREFIX) :]: v for k, v in state.items()}
    return state


def _kind(data: Any) -> str | None:
    """'nets', 'nets_ema', 'optims', 'wing' or None: what an official StarGAN v2 file holds."""
    if not isinstance(data, dict):
        return None
    generator = data.get("generator")
    if _is_state_dict(generator) and all(k in _unwrapped(generator) for k in G_MARKERS):
        return "nets" if "discriminator" in data else "nets_ema"
    if data and set(data) <= set(TRAINED) and all(isinstance(v, dict) and "param_groups" in v for v in data.values()):
        return "optims"
    fan = data.get("state_dict")
    if _is_state_dict(fan) and all(k in fan for k in FAN_MARKERS):
        return "wing"
    return None


def matches(data: Any, source: Path) -> bool:
    return _kind(data) is not None


def _networks(data: dict[str, Any], source: Path, names: tuple[str, ...]) -> dict[str, dict[str, torch.Tensor]]:
    """The official networks `names` of a file, each a state dict without the wrapper prefix."""
    missing = [n for n in names if not _is_state_dict(data.get(n))]
    require(
        not missing,
        source,
        f"holds {', '.join(map(str, data))} but no {', '.join(missing)} state dict; an official "
        f"*_nets_ema.ckpt holds {', '.join(AVERAGED)} and a *_nets.ckpt also discriminator",
    )
    return {n: _unwrapped(data[n]) for n in names}


def _partner(source: Path) -> tuple[Path | None, str]:
    """The other network file of the same step beside `source` (None if absent), and its kind."""
    name = NETS_NAME.match(source.name)
    if name is None:
        return None, ""
    step, ema = name.groups()
    kind = "nets" if ema else "nets_ema"
    other = source.with_name(f"{step}_{kind}.ckpt")
    return (other if other.is_file() else None), kind


def _read_partner(path: Path, kind: str) -> tuple[dict[str, Any] | None, str]:
    """(contents, "") of the other file of the step, or (None, why) when it cannot serve: the given
    file is usable alone, so a truncated or foreign neighbour only costs its networks."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        return None, f"{path.name} beside it cannot be read as a weights-only torch file ({type(error).__name__}); its networks are not used"
    if _kind(data) != kind:
        return None, f"{path.name} beside it is not an official *_{kind}.ckpt; its networks are not used"
    return data, ""


def _blocks(state: dict[str, torch.Tensor], prefix: str) -> list[int]:
    """Sorted indices i of the residual blocks `{prefix}.{i}.conv1.weight`."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.conv1\.weight$")
    return sorted(int(m.group(1)) for k in state if (m := pattern.match(k)))


def _heads(state: dict[str, torch.Tensor]) -> int:
    return len({k.split(".")[1] for k in state if k.startswith("unshared.")})


def _architecture(g: dict, f: dict, e: dict, d: dict | None, source: Path) -> dict[str, Any]:
    """The StarGANv2Module arguments the tensors were built with (core/model.py constructors)."""
    for network, state, keys in (
        ("mapping_network", f, ("shared.0.weight", "unshared.0.6.weight")),
        ("style_encoder", e, ("shared.0.weight", "unshared.0.weight")),
    ):
        absent = [k for k in keys if k not in state]
        require(not absent, source, f"its {network} has no {', '.join(absent)}: not the official core/model.py network")
    trunk = _blocks(e, "shared")
    require(
        trunk == list(range(1, len(trunk) + 1)) and len(trunk) >= 1 and "shared.0.weight" in e,
        source,
        "its style_encoder is not the official trunk (conv, downsampling ResBlks shared.1.., 4x4 conv)",
    )
    resolution = 2 ** (len(trunk) + 2)  # core/model.py StyleEncoder: log2(img_size) - 2 blocks down to 4x4
    first = int(g["from_rgb.weight"].shape[0])
    widths = [int(e[f"shared.{i}.conv2.weight"].shape[0]) for i in trunk]
    style_dim, num_domains = int(f["unshared.0.6.weight"].shape[0]), _heads(f)
    require(_heads(e) == num_domains, source, f"its mapping network has {num_domains} domain heads but its style encoder {_heads(e)}")
    require(
        int(e["unshared.0.weight"].shape[0]) == style_dim,
        source,
        f"its mapping network gives {style_dim}-dim styles but its style encoder {int(e['unshared.0.weight'].shape[0])}",
    )
    require(
        int(e["shared.0.weight"].shape[0]) == first,
        source,
        f"its generator starts with {first} channels but its style encoder with {int(e['shared.0.weight'].shape[0])}; "
        "gan-zoo's StarGAN v2 derives both from one channel_base",
    )
    if d is not None:
        logits = int(d[f"main.{len(trunk) + 4}.weight"].shape[0]) if f"main.{len(trunk) + 4}.weight" in d else None
        require(
            logits == num_domains,
            source,
            f"its discriminator ends in {logits} domain logits (or is not the official trunk of the style encoder's "
            f"depth, {len(trunk)} blocks) while the mapping network has {num_domains} heads",
        )
    hpf = g.get("hpf.filter")
    w_hpf = HPF_CENTRE / float(hpf[1, 1]) if hpf is not None else 0.0
    downsamplings = len(_blocks(g, "encode")) - 2  # core/model.py Generator: the halvings, then 2 bottleneck blocks
    official = int(math.log2(resolution)) - 4 + (1 if w_hpf > 0 else 0)
    return {
        "resolution": resolution,
        "num_domains": num_domains,
        "num_channels": int(g["from_rgb.weight"].shape[1]),
        "latent_dim": int(f["shared.0.weight"].shape[1]),
        "style_dim": style_dim,
        "max_conv_dim": max(widths),
        "channel_base": first * resolution,  # gan-zoo: first channels = channel_base // resolution (official 2**14)
        "mapping_hidden": int(f["shared.0.weight"].shape[0]),
        "downsamplings": None if downsamplings == official else downsamplings,
        "w_hpf": w_hpf,
    }


def _domain_names(overrides: dict[str, Any], num_domains: int, source: Path) -> list[str] | None:
    names = overrides.get("domain_names")
    if names is None:
        return None
    names = [n.strip() for n in names.split(",")] if isinstance(names, str) else [str(n) for n in names]
    require(
        len(names) == num_domains and len(set(names)) == num_domains,
        source,
        f"overrides.domain_names={names}: the model has {num_domains} domains; give {num_domains} distinct names in "
        "domain index order (the official loader numbers the domain folders in sorted order)",
    )
    return names


def _wing_file(source: Path) -> CheckpointError:
    return CheckpointError(
        f"{source} is the FAN landmark network of StarGAN v2's face models (wing.ckpt), not a generator: there is nothing "
        "to import. Face models (w_hpf > 0) read it where they need face masks: model.fan_path=... when training, or "
        "+overrides.fan_path=... with an official *_nets_ema.ckpt that does not hold its own copy"
    )


def _files(kind: str, data: dict[str, Any], source: Path, notes: list[str]) -> dict[str, tuple[Path, dict[str, Any]]]:
    """{'nets' and/or 'nets_ema': (path, contents)}: the given file and the other file of its step."""
    files = {kind: (source, data)}
    partner, partner_kind = _partner(source)
    if partner is not None:
        content, why = _read_partner(partner, partner_kind)
        if content is not None:
            files[partner_kind] = (partner, content)
        else:
            notes.append(why)
    prefixed = [
        path.name
        for path, content in files.values()
        if any(isinstance(v, dict) and v and all(str(k).startswith(WRAPPER_PREFIX) for k in v) for v in content.values())
    ]
    if prefixed:
        notes.append(f"{', '.join(prefixed)}: keys saved from nn.DataParallel wrappers ('{WRAPPER_PREFIX}' prefix), read without it")
    return files


def _gan_zoo_state(trained: dict | None, averaged: dict | None, notes: list[str]) -> dict[str, torch.Tensor]:
    """Both sets of networks under gan-zoo keys; the one a file lacks is a copy of the other."""
    if averaged is None:
        assert trained is not None
        averaged = {n: trained[n] for n in AVERAGED}
        notes.append(
            "no *_nets_ema.ckpt of the same step beside the file: G_ema, F_ema and E_ema are copies of the "
            "training networks (the official sample and eval modes use the averages)"
        )
    if trained is None:
        trained = dict(averaged)
        notes.append(
            "the file holds the moving averages only (as the released *_nets_ema.ckpt): G, F and E are copies of "
            "G_ema, F_ema and E_ema and D is freshly initialised (generate and eval use the averages; fine-tuning "
            "starts from them with a new discriminator)"
        )
    state = {f"{TRAINED[n]}.{k}": v for n, net in trained.items() for k, v in net.items()}
    state.update({f"{AVERAGED[n]}.{k}": v for n, net in averaged.items() for k, v in net.items()})
    return state


def _fan_path(files: dict[str, tuple[Path, dict[str, Any]]], w_hpf: float, overrides: dict[str, Any], notes: list[str]) -> str | None:
    """Where a face model's FAN is read: the override, else the file's own copy (the official solver
    saves it with the networks), else nowhere yet (landmarks.py then says what to pass)."""
    if "fan_path" in overrides:
        return str(Path(str(overrides["fan_path"])).expanduser().resolve())
    if w_hpf <= 0:
        return None
    holder = next((files[k][0] for k in ("nets_ema", "nets") if k in files and _is_state_dict(files[k][1].get("fan"))), None)
    if holder is None:
        notes.append(
            f"face model (w_hpf={w_hpf:g}) without the FAN landmark network: generate and eval need +overrides.fan_path=/path/to/wing.ckpt ({HOW_TO_GET_FAN})"
        )
        return None
    notes.append(
        f"face model (w_hpf={w_hpf:g}): its face masks come from the FAN the file keeps under 'fan', read from "
        f"{holder.name} when needed (keep the file there; +overrides.fan_path= names another wing.ckpt)"
    )
    return str(holder)


def convert(data: dict[str, Any], source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    kind = _kind(data)
    if kind == "wing":
        raise _wing_file(source)
    require(
        kind != "optims", source, "holds optimizer states (an official *_optims.ckpt), not networks; pass the *_nets_ema.ckpt (or *_nets.ckpt) of the same step"
    )
    unknown = sorted(set(overrides) - set(OVERRIDES))
    require(
        not unknown,
        source,
        f"overrides {', '.join(unknown)} are not settings of an official StarGAN v2 checkpoint "
        f"gan-zoo reads ({', '.join(OVERRIDES)}); the architecture comes from the tensors",
    )
    notes: list[str] = []
    files = _files(str(kind), data, source, notes)
    trained = _networks(files["nets"][1], files["nets"][0], tuple(TRAINED)) if "nets" in files else None
    averaged = _networks(files["nets_ema"][1], files["nets_ema"][0], tuple(AVERAGED)) if "nets_ema" in files else None
    nets = averaged or trained
    assert nets is not None
    hyper_parameters = _architecture(
        nets["generator"], nets["mapping_network"], nets["style_encoder"], trained["discriminator"] if trained is not None else None, source
    )
    state = _gan_zoo_state(trained, averaged, notes)
    fan_path = _fan_path(files, hyper_parameters["w_hpf"], overrides, notes)
    if fan_path is not None or hyper_parameters["w_hpf"] > 0:
        hyper_parameters["fan_path"] = fan_path
    names = _domain_names(overrides, hyper_parameters["num_domains"], source)
    if names is None:
        notes.append(
            f"official checkpoints do not store domain names: domains are the indices 0..{hyper_parameters['num_domains'] - 1}, "
            "in the sorted order of the training set's domain folders (released AFHQ: cat, dog, wild; CelebA-HQ: "
            "female, male); +overrides.domain_names=[...] names them"
        )
    return ImportedNetworks(
        family="stargan_v2",
        model_target=MODEL_TARGET,
        hyper_parameters=hyper_parameters,
        state_dict=state,
        source_format=f"clovaai-stargan-v2 ({' + '.join(path.name for path, _ in files.values())})",
        networks=("G", "F", "E") + (("D",) if trained is not None else ()) + ("G_ema", "F_ema", "E_ema"),
        notes=notes,
        record={"domain_names": names},
        data={"resolution": hyper_parameters["resolution"], "num_classes": hyper_parameters["num_domains"], "domain_names": names},
    )
