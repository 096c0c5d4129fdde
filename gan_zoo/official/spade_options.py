"""The training options of an NVlabs/SPADE checkpoint folder: `opt.txt`, the official defaults, overrides.

The official `train.py` writes `checkpoints/<name>/opt.txt` (`options/base_options.py`,
`save_options`): one `{key:>25}: {value:<30}` line per option, with `\t[default: X]` after the
options that differ from their default (`print_options` prints the same lines between `----` lines).
Values are `str(value)`: True/False, ints, floats, strings. The options that are not in the file
(an older file, or a folder without one) take the official defaults: those of `base_options.py`,
`train_options.py` and the networks' `modify_commandline_options`, then those the data set's class
sets (`data/<dataset_mode>_dataset.py`), as the official parser applies them.
"""

from pathlib import Path
from typing import Any

from gan_zoo.official.imported import require

OPTIONS_FILE = "opt.txt"

# The official defaults of every option the converter reads (training defaults: opt.txt is written by train.py).
DEFAULTS: dict[str, Any] = {
    "dataset_mode": "coco",
    "label_nc": 182,
    "contain_dontcare_label": False,
    "no_instance": False,
    "output_nc": 3,
    "crop_size": 512,
    "aspect_ratio": 1.0,
    "netG": "spade",
    "ngf": 64,
    "num_upsampling_layers": "normal",
    "norm_G": "spectralspadesyncbatch3x3",  # SPADEGenerator.modify_commandline_options over base 'spectralinstance'
    "norm_D": "spectralinstance",
    "norm_E": "spectralinstance",
    "use_vae": False,
    "z_dim": 256,
    "netD": "multiscale",
    "netD_subarch": "n_layer",
    "ndf": 64,
    "num_D": 2,
    "n_layers_D": 4,
    "init_type": "xavier",
    "init_variance": 0.02,
    "lr": 0.0002,
    "beta1": 0.0,
    "beta2": 0.9,
    "no_TTUR": False,
    "niter": 50,
    "niter_decay": 0,
    "lambda_feat": 10.0,
    "lambda_vgg": 10.0,
    "lambda_kld": 0.05,
    "no_ganFeat_loss": False,
    "no_vgg_loss": False,
    "gan_mode": "hinge",
    "D_steps_per_G": 1,
    "which_epoch": "latest",
    "dataroot": "./datasets/cityscapes/",
}
NO_TTUR_BETAS = {"beta1": 0.5, "beta2": 0.999}  # train_options.py: the defaults when --no_TTUR is given

# What each data set's class sets over the defaults (data/*_dataset.py, modify_commandline_options).
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "coco": {"crop_size": 256, "label_nc": 182, "contain_dontcare_label": True},
    "ade20k": {"crop_size": 256, "label_nc": 150, "contain_dontcare_label": True, "no_instance": True},
    "cityscapes": {"crop_size": 512, "label_nc": 35, "aspect_ratio": 2.0, "num_upsampling_layers": "more"},
    "facades": {"crop_size": 256, "label_nc": 13, "contain_dontcare_label": False, "no_instance": True},
    "custom": {"crop_size": 256, "label_nc": 13, "contain_dontcare_label": False},
}


def read_options_file(path: Path) -> dict[str, str]:
    """{option: value text} of an opt.txt (the `[default: ...]` comments and `----` lines dropped)."""
    options: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith("-") or ": " not in line:
            continue
        key, value = line.split(": ", 1)
        options[key.strip()] = value.split("\t[default:", 1)[0].strip()
    return options


def typed(key: str, value: Any, source: Path | str) -> Any:
    """`value` (text of opt.txt, or an override) as the type of the option's official default."""
    default = DEFAULTS[key]
    text = str(value).strip()
    if isinstance(default, bool):
        require(text.lower() in ("true", "false"), source, f"option {key}={text!r} is not True or False")
        return text.lower() == "true"
    if isinstance(default, int | float):
        try:
            return type(default)(float(text)) if isinstance(default, float) else int(text)
        except ValueError:
            require(False, source, f"option {key}={text!r} is not a number")
    return text


def training_options(folder: Path, overrides: dict[str, Any], source: Path | str) -> dict[str, Any]:
    """Every option the converter reads, in the official precedence: defaults < the data set's
    defaults < opt.txt < overrides."""
    unknown = sorted(set(overrides) - set(DEFAULTS))
    require(not unknown, source, f"overrides {', '.join(unknown)} are not SPADE options gan-zoo reads ({', '.join(DEFAULTS)})")
    file = folder / OPTIONS_FILE
    written = read_options_file(file) if file.is_file() else {}
    dataset_mode = str(overrides.get("dataset_mode", written.get("dataset_mode", DEFAULTS["dataset_mode"])))
    require(dataset_mode in DATASET_DEFAULTS, source, f"dataset_mode={dataset_mode!r}: gan-zoo knows the official data sets {', '.join(DATASET_DEFAULTS)}")
    options = {**DEFAULTS, **DATASET_DEFAULTS[dataset_mode]}
    if typed("no_TTUR", overrides.get("no_TTUR", written.get("no_TTUR", False)), source):
        options.update(NO_TTUR_BETAS)
    options.update({k: typed(k, v, file) for k, v in written.items() if k in DEFAULTS})
    options.update({k: typed(k, v, source) for k, v in overrides.items()})
    return options


def raw_labels(label_nc: int) -> tuple[int, tuple[int, ...]]:
    """(label_shift, dontcare raw values) that give the official one-hot channels, for gan-zoo generate.

    data/pix2pix_dataset.py turns the file value 255 into label_nc and uses every value as its channel:
    0..label_nc-1, and label_nc the extra one (with contain_dontcare_label; else an error, as the official
    scatter_ is). data/ade20k_dataset.py's postprocess means to shift ADE20K's labels down by one, but it
    rebinds a local (`label = label - 1`) and returns nothing, so ADE20K's values reach the one-hot
    unshifted too (0, "unknown", is channel 0; 150 the extra channel)."""
    return 0, (label_nc, 255)
