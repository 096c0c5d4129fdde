"""NVlabs/SPADE checkpoint folders -> gan-zoo `spade`.

The official trainer saves `checkpoints/<name>/{epoch}_net_G.pth`, `_net_D.pth` and, for `--use_vae`,
`_net_E.pth` (`util/util.py` save_network: plain `state_dict()`s) beside `opt.txt`; `test.py` loads
`{which_epoch}_net_G.pth` (and E) with `which_epoch=latest` unless told otherwise. gan-zoo's
networks use the official parameter and buffer names, so the state dicts load key for key. The
architecture comes from opt.txt (see spade_options), checked against what the weights themselves say
(ngf, z, the SPADE norm, the semantic channels); without opt.txt the weights give what they can and
`overrides.dataset_mode` (with the options that differ from its defaults) the rest.

Either the folder or its `*_net_G.pth` is accepted (a bare G state dict is recognised by its keys;
its folder is the file's parent). The official model keeps no moving average: G_ema is G, as
gan-zoo's SPADE keeps it (ema.beta 0).
"""

import re
from pathlib import Path
from typing import Any

import torch

from gan_zoo.errors import CheckpointError
from gan_zoo.official.imported import ImportedNetworks, require
from gan_zoo.official.spade_options import DATASET_DEFAULTS, OPTIONS_FILE, raw_labels, training_options

MODEL_TARGET = "gan_zoo.models.spade.module.SPADEModule"
G_SUFFIX = "_net_G.pth"
G_MARKERS = ("fc.weight", "head_0.norm_0.mlp_shared.0.weight", "conv_img.weight")  # keys of SPADEGenerator
D_MARKER = "discriminator_0.model0.0.weight"  # MultiscaleDiscriminator's first scale
E_MARKERS = ("fc_mu.weight", "fc_var.weight")  # ConvEncoder
UPSAMPLINGS = {"normal": 5, "more": 6, "most": 7}  # generator.py compute_latent_vector_size
ENCODER_Z = 256  # encoder.py: fc_mu / fc_var always give 256 values, whatever --z_dim says
ENCODER_SIZE = 256  # encoder.py resizes every image to 256x256
ENCODER_MIN_CROP = 256  # encoder.py builds layer6 (down to 4x4 from its 256x256 input) only for crop_size >= 256


def _is_state_dict(data: Any) -> bool:
    return isinstance(data, dict) and bool(data) and all(isinstance(v, torch.Tensor) for v in data.values())


def matches(data: Any, source: Path) -> bool:
    if isinstance(data, Path):
        return any(data.glob(f"*{G_SUFFIX}"))
    return _is_state_dict(data) and (all(k in data for k in G_MARKERS) or D_MARKER in data or all(k in data for k in E_MARKERS))


def _load(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"{path} cannot be read as a weights-only torch file ({error}); it may be truncated") from error
    require(_is_state_dict(state), path, "does not hold a state dict (the official save_network writes net.state_dict())")
    return state


def _files(data: Any, source: Path, overrides: dict[str, Any]) -> tuple[Path, str | None, dict[str, torch.Tensor]]:
    """(folder, epoch or None, G state dict) for a folder or a G file."""
    if isinstance(data, Path):
        epoch = str(overrides.get("which_epoch", "latest"))
        g_file = data / f"{epoch}{G_SUFFIX}"
        found = sorted(p.name.removesuffix(G_SUFFIX) for p in data.glob(f"*{G_SUFFIX}"))
        require(g_file.is_file(), source, f"has no {g_file.name}; pass +overrides.which_epoch= one of {', '.join(found)}")
        return data, epoch, _load(g_file)
    kind = "discriminator" if D_MARKER in data else "encoder" if all(k in data for k in E_MARKERS) else None
    require(kind is None, source, f"is the {kind} of a SPADE checkpoint folder; pass the folder or its *{G_SUFFIX}")
    epoch = source.name.removesuffix(G_SUFFIX) if source.name.endswith(G_SUFFIX) else None
    require(
        epoch is None or str(overrides.get("which_epoch", epoch)) == epoch,
        source,
        f"is epoch {epoch}, not overrides.which_epoch={overrides.get('which_epoch')}; pass the folder to choose the epoch",
    )
    return source.parent, epoch, data


def _weight(state: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return state.get(f"{name}.weight_orig", state.get(f"{name}.weight"))  # type: ignore[return-value]


def _from_weights(g: dict[str, torch.Tensor], source: Path) -> dict[str, Any]:
    """What the generator's tensors say of its options (generator.py, architecture.py, normalization.py)."""
    require(all(k in g for k in G_MARKERS), source, "is not a SPADE generator (no fc, head_0 SPADE or conv_img tensors)")
    shared = g["head_0.norm_0.mlp_shared.0.weight"]
    spectral = "head_0.conv_0.weight_orig" in g
    norm = "syncbatch" if "head_0.norm_0.param_free_norm.running_mean" in g else "instance"
    kernel = int(shared.shape[2])
    fc = g["fc.weight"]
    use_vae = fc.dim() == 2
    settings = {
        "ngf": int(_weight(g, "head_0.conv_0").shape[0]) // 16,
        "use_vae": use_vae,
        "norm_G": f"{'spectral' if spectral else ''}spade{norm}{kernel}x{kernel}",
        "semantic_nc": int(shared.shape[1]),
        "spade_hidden": int(shared.shape[0]),
        "most": any(k.startswith("up_4.") for k in g),
    }
    if use_vae:
        settings["z_dim"] = int(fc.shape[1])
        settings["start_cells"] = int(fc.shape[0]) // (16 * settings["ngf"])
    return settings


def _parse_norm_g(norm_g: str, source: Path) -> tuple[bool, str, int]:
    """(spectral, param-free norm, kernel) of norm_G, as architecture.py and normalization.py read it."""
    config = norm_g.replace("spectral", "")
    parsed = re.search(r"spade(\D+)(\d)x\d", config)
    require(
        config.startswith("spade") and parsed is not None and parsed.group(1) in ("syncbatch", "batch", "instance"),
        source,
        f"norm_G={norm_g!r}: gan-zoo's SPADE generator reads [spectral]spade(syncbatch|batch|instance)KxK",
    )
    assert parsed is not None
    return "spectral" in norm_g, parsed.group(1), int(parsed.group(2))


def _same_norm(ours: str, theirs: str, source: Path) -> bool:
    """Whether two norm_G build the same tensors: running statistics say batch norm, not which (syncbatch and batch agree in eval)."""
    (spectral_a, norm_a, kernel_a), (spectral_b, norm_b, kernel_b) = _parse_norm_g(ours, source), _parse_norm_g(theirs, source)
    return (spectral_a, norm_a == "instance", kernel_a) == (spectral_b, norm_b == "instance", kernel_b)


def _plain_norm(name: str, value: str, spectral: bool, source: Path) -> None:
    """D's and E's norm (get_nonspade_norm_layer): gan-zoo has instance norm, with G's spectral setting."""
    expected = f"{'spectral' if spectral else ''}instance"
    require(value == expected, source, f"{name}={value!r}: gan-zoo's SPADE uses {expected!r} there (instance norm, spectral norm as G's norm_G says)")


def _check(o: dict[str, Any], weights: dict[str, Any], has_opt: bool, source: Path) -> None:
    where = f"{OPTIONS_FILE} says" if has_opt else "the options say"
    require(o["netG"] == "spade", source, f"netG={o['netG']!r}: gan-zoo reads SPADE generators (netG=spade)")
    require(o["output_nc"] == 3, source, f"output_nc={o['output_nc']}: the official SPADE generator always gives 3 channels")
    require(o["num_upsampling_layers"] in UPSAMPLINGS, source, f"num_upsampling_layers={o['num_upsampling_layers']!r} is not one of {', '.join(UPSAMPLINGS)}")
    semantic_nc = o["label_nc"] + int(o["contain_dontcare_label"]) + int(not o["no_instance"])
    for key, same, theirs in (
        ("ngf", o["ngf"] == weights["ngf"], weights["ngf"]),
        ("use_vae", o["use_vae"] == weights["use_vae"], weights["use_vae"]),
        ("norm_G", _same_norm(o["norm_G"], weights["norm_G"], source), weights["norm_G"]),
        ("num_upsampling_layers", (o["num_upsampling_layers"] == "most") == weights["most"], "most" if weights["most"] else "normal or more"),
    ):
        require(
            same,
            source,
            f"{where} {key}={o[key]} but the generator's tensors were built with {key}={theirs}; pass +overrides.{key}=... to say how it was trained",
        )
    require(
        semantic_nc == weights["semantic_nc"],
        source,
        f"the generator takes {weights['semantic_nc']} semantic channels but {where} label_nc={o['label_nc']}, contain_dontcare_label="
        f"{o['contain_dontcare_label']}, no_instance={o['no_instance']}, which make {semantic_nc}; "
        "pass +overrides.label_nc, +overrides.contain_dontcare_label or +overrides.no_instance",
    )
    n_up = UPSAMPLINGS[o["num_upsampling_layers"]]
    sw = o["crop_size"] // 2**n_up
    sh = round(sw / o["aspect_ratio"])
    require(
        sw >= 1 and sh >= 1,
        source,
        f"crop_size={o['crop_size']} with aspect_ratio={o['aspect_ratio']} is too small for num_upsampling_layers={o['num_upsampling_layers']}",
    )
    if o["use_vae"]:
        require(
            weights["start_cells"] == sh * sw,
            source,
            f"the generator's first layer makes {weights['start_cells']} cells but crop_size={o['crop_size']}, aspect_ratio={o['aspect_ratio']} "
            f"and num_upsampling_layers={o['num_upsampling_layers']} give {sh}x{sw}; pass those overrides",
        )
        require(
            o["z_dim"] == ENCODER_Z == weights["z_dim"],
            source,
            f"z_dim={o['z_dim']}: the official encoder always gives {ENCODER_Z} values, so only z_dim={ENCODER_Z} models run",
        )
        require(
            o["crop_size"] >= ENCODER_MIN_CROP,
            source,
            f"use_vae with crop_size={o['crop_size']}: the official encoder cannot encode below crop_size {ENCODER_MIN_CROP} (no layer6)",
        )


def _missing_options(source: Path, weights: dict[str, Any]) -> str:
    return (
        f"{source} has no {OPTIONS_FILE} (the options the official train.py saves beside the networks) to say how it was built; "
        f"its generator says ngf={weights['ngf']}, use_vae={weights['use_vae']}, norm_G={weights['norm_G']} and "
        f"{weights['semantic_nc']} semantic channels; pass what it does not: +overrides.dataset_mode= one of "
        f"{', '.join(DATASET_DEFAULTS)} (the --dataset_mode it was trained with), and +overrides.label_nc, contain_dontcare_label, "
        "no_instance, crop_size, aspect_ratio or num_upsampling_layers where they differ from that data set's defaults, e.g. "
        f"gan-zoo import src={source} out=FILE.ckpt +overrides.dataset_mode=ade20k"
    )


def convert(data: Any, source: Path, overrides: dict[str, Any]) -> ImportedNetworks:
    folder, epoch, g = _files(data, source, overrides)
    weights = _from_weights(g, source)
    has_opt = (folder / OPTIONS_FILE).is_file()
    if not has_opt and "dataset_mode" not in overrides:
        raise CheckpointError(_missing_options(source, weights))
    inferred = {k: weights[k] for k in ("ngf", "use_vae", "norm_G", "z_dim") if k in weights}
    if weights["most"]:
        inferred["num_upsampling_layers"] = "most"
    o = training_options(folder, {**({} if has_opt else inferred), **overrides}, source)
    _check(o, weights, has_opt, source)
    spectral, param_free_norm, kernel = _parse_norm_g(o["norm_G"], source)

    notes: list[str] = []
    networks: list[str] = ["G", "G_ema"]
    state = {f"{prefix}.{k}": v for k, v in g.items() for prefix in ("G", "G_ema")}
    extra = {"D": folder / f"{epoch}_net_D.pth", "E": folder / f"{epoch}_net_E.pth"} if epoch is not None else {}
    if "D" in extra and extra["D"].is_file():
        require(
            o["netD"] == "multiscale" and o["netD_subarch"] == "n_layer",
            source,
            f"netD={o['netD']!r}, netD_subarch={o['netD_subarch']!r}: gan-zoo's SPADE discriminator is multiscale of n_layer",
        )
        _plain_norm("norm_D", o["norm_D"], spectral, source)
        state.update({f"D.{k}": v for k, v in _load(extra["D"]).items()})
        networks.append("D")
    else:
        notes.append(
            "no discriminator file beside the generator: D is freshly initialised (generate and eval are unaffected; fine-tuning starts D from scratch)"
        )
    if o["use_vae"]:
        require(
            "E" in extra and extra["E"].is_file(),
            source,
            f"is a use_vae model but {'its encoder file ' + extra['E'].name if 'E' in extra else 'the encoder'} is missing "
            "(the official test encodes every image with it); pass the checkpoint folder that holds it",
        )
        _plain_norm("norm_E", o["norm_E"], spectral, source)
        state.update({f"E.{k}": v for k, v in _load(extra["E"]).items()})
        networks.append("E")
    if o["gan_mode"] != "hinge" or o["D_steps_per_G"] != 1:
        notes.append(
            f"trained with gan_mode={o['gan_mode']}, D_steps_per_G={o['D_steps_per_G']}; gan-zoo's SPADE fine-tunes with the official defaults (hinge, 1)"
        )
    if o["init_type"] != "xavier":
        notes.append(f"init_type={o['init_type']}: networks the file lacks are initialised with xavier_normal, as the official default")
    if o["dataset_mode"] == "ade20k":
        notes.append(
            f"official ADE20K label order (data/ade20k_dataset.py leaves the file values unshifted: value v is channel v, "
            f"{o['label_nc']} the extra one); evaluate with data=ade20k data.dataset.label_shift=0 "
            f"data.dataset.dontcare_values=[{o['label_nc']}]"
        )
    if not has_opt:
        notes.append(f"no {OPTIONS_FILE}: the options are the weights', dataset_mode={o['dataset_mode']}'s defaults and the overrides")

    label_shift, dontcare = raw_labels(o["label_nc"])
    lr_g, lr_d = (o["lr"], o["lr"]) if o["no_TTUR"] else (o["lr"] / 2, o["lr"] * 2)  # pix2pix_model.py create_optimizers
    hyper_parameters: dict[str, Any] = {
        "resolution": o["crop_size"],
        "label_nc": o["label_nc"],
        "aspect_ratio": o["aspect_ratio"],
        "contain_dontcare_label": o["contain_dontcare_label"],
        "use_instance": not o["no_instance"],
        "num_channels": 3,
        "ngf": o["ngf"],
        "num_upsampling_layers": o["num_upsampling_layers"],
        "use_vae": o["use_vae"],
        "z_dim": o["z_dim"],
        "param_free_norm": param_free_norm,
        "spade_hidden": weights["spade_hidden"],
        "spade_kernel": kernel,
        "spectral": spectral,
        "ndf": o["ndf"],
        "num_D": o["num_D"],
        "n_layers_D": o["n_layers_D"],
        "ndf_E": o["ngf"],  # encoder.py builds E with opt.ngf (not --nef)
        "encoder_size": ENCODER_SIZE,
        "lambda_feat": 0.0 if o["no_ganFeat_loss"] else o["lambda_feat"],
        "lambda_vgg": 0.0 if o["no_vgg_loss"] else o["lambda_vgg"],
        "lambda_kld": o["lambda_kld"],
        "lr_G": lr_g,
        "lr_D": lr_d,
        "betas": [o["beta1"], o["beta2"]],
        "lr_schedule": "epoch",
        "niter": o["niter"],
        "niter_decay": o["niter_decay"],
        "init_gain": o["init_variance"],
        "label_shift": label_shift,
        "dontcare_values": list(dontcare),
        "ema": {"beta": 0.0},
    }
    return ImportedNetworks(
        family="spade",
        model_target=MODEL_TARGET,
        hyper_parameters=hyper_parameters,
        state_dict=state,
        source_format=f"nvlabs-spade ({folder.name}, epoch {epoch or source.name})",
        networks=tuple(networks),
        notes=notes,
        data={
            "resolution": o["crop_size"],
            "aspect_ratio": o["aspect_ratio"],
            "dataset_mode": o["dataset_mode"],
            "label_nc": o["label_nc"],
            "contain_dontcare_label": o["contain_dontcare_label"],
            "use_instance": not o["no_instance"],
            "path": o["dataroot"],
        },
    )
