"""`gan-zoo generate`: use a trained checkpoint.

    gan-zoo generate ckpt=PATH seeds=0-63 truncation=0.7 [class=3] [noise_mode=const|random|none]
    gan-zoo generate ckpt=PATH mode=style_mixing rows=[85,100,75] cols=[55,821,1789] styles=0-6
    gan-zoo generate ckpt=PATH mode=interpolate seeds=0-3 frames=60 space=w
    gan-zoo generate ckpt=PATH mode=interpolate seeds=0 classes=[1,207,980] frames=60 truncation=0.7   (class-conditional)

PATH is a gan-zoo checkpoint or an official released file (e.g. stylegan2-ffhq-1024x1024.pkl), read
without running anything in it (gan_zoo.official).
"""

import importlib
import sys
from pathlib import Path

import hydra
import torch
from omegaconf import DictConfig, OmegaConf

from gan_zoo.checkpoints import pick_device
from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import ConfigError
from gan_zoo.generate.class_interpolate import generate_class_interpolation
from gan_zoo.generate.images import generate_images
from gan_zoo.generate.interpolate import generate_interpolation
from gan_zoo.generate.style_mixing import generate_style_mixing
from gan_zoo.official.load import load_any_module, resolve_model_file
from gan_zoo.registry import list_models
from gan_zoo.sampling.output import OutputDir
from gan_zoo.sampling.seeds import parse_int_list
from gan_zoo.task import report_user_errors

MODES = ("images", "style_mixing", "interpolate")


def default_outdir(ckpt: Path, mode: str) -> Path:
    """<run>/generated/<checkpoint name>/<mode> beside a run's checkpoints/ folder, else beside the file."""
    run_dir = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
    return run_dir / "generated" / ckpt.stem / mode


def generate(cfg: DictConfig) -> list[Path]:
    if cfg.get("ckpt") in (None, "", "???"):
        raise ConfigError("pass ckpt=PATH: the gan-zoo checkpoint (e.g. runs/x/checkpoints/last.ckpt) or official network file to generate from")
    ckpt = resolve_model_file(str(cfg.ckpt))
    device = pick_device(str(cfg.device))
    overrides = OmegaConf.to_container(cfg.overrides, resolve=True) if cfg.get("overrides") else {}
    module, record = load_any_module(ckpt, device, overrides)  # type: ignore[arg-type]
    if cfg.get("family") and cfg.family not in list_models():
        raise ConfigError(f"family={cfg.family} is not a gan-zoo family; choose one of {', '.join(list_models())}")
    if cfg.get("family") and cfg.family != record.get("family"):
        raise ConfigError(f"{ckpt} is a '{record.get('family')}' checkpoint, not the '{cfg.family}' family this command was asked for (family={cfg.family})")
    # Families whose checkpoints are used differently (label maps, source images) name their own
    # `run(cfg, module, ckpt, device) -> list[Path]`; imported only when such a checkpoint is given.
    if getattr(module, "generate_module", None):
        family_generator = importlib.import_module(module.generate_module)
        with torch.no_grad():
            return family_generator.run(cfg, module, ckpt, device)
    if cfg.mode not in MODES:
        raise ConfigError(f"mode={cfg.mode}: choose one of {', '.join(MODES)} for a {record.get('family')} checkpoint")
    options = {
        "truncation": float(cfg.truncation),
        "truncation_cutoff": None if cfg.truncation_cutoff is None else int(cfg.truncation_cutoff),
        "class_index": None if cfg.get("class") is None else int(cfg["class"]),
        "noise_mode": str(cfg.noise_mode),
        "batch_size": int(cfg.batch_size),
    }
    out = OutputDir(cfg.outdir or default_outdir(ckpt, str(cfg.mode)), overwrite=bool(cfg.overwrite))
    with torch.no_grad():
        if cfg.mode == "images":
            generate_images(module, parse_int_list(cfg.seeds, "seeds"), options, out)
        elif cfg.mode == "style_mixing":
            generate_style_mixing(
                module, parse_int_list(cfg.rows, "rows"), parse_int_list(cfg.cols, "cols"), parse_int_list(cfg.styles, "styles"), options, out
            )
        elif cfg.get("classes") is not None:
            seeds = parse_int_list(cfg.seeds, "seeds")
            _, notes = generate_class_interpolation(module, seeds[0], parse_int_list(cfg.classes, "classes"), int(cfg.frames), float(cfg.fps), options, out)
            for note in notes:
                print(f"gan-zoo generate: {note}", file=sys.stderr)
        else:
            _, notes = generate_interpolation(module, parse_int_list(cfg.seeds, "seeds"), int(cfg.frames), str(cfg.space), float(cfg.fps), options, out)
            for note in notes:
                print(f"gan-zoo generate: {note}", file=sys.stderr)
    print(f"gan-zoo generate: wrote {len(out.written)} files to {out.path}")
    return out.written


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="generate")
def main(cfg: DictConfig) -> None:
    with report_user_errors("generate"):
        generate(cfg)
