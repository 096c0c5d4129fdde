"""`gan-zoo generate` for SPADE checkpoints: render label maps.

    gan-zoo generate ckpt=PATH labels=FILE_OR_DIR [style=IMAGE] [seeds=0-7] [outdir=...]

Label maps are read as the data set stores them (raw file values; the checkpoint knows the shift
and dontcare values of its data set) and nearest-resized to the model's image size. An instance
map beside a label map (Cityscapes `*_instanceIds.png` for `*_labelIds.png`, COCO-Stuff
`*_inst/` for `*_label/`) gives the edge channel; without one, label boundaries are used. Models
without an encoder are deterministic: one image per label map, `<stem>.png`. VAE models draw one z
per seed (`<stem>_seed0003.png`); with `style=IMAGE` z comes from the encoder's posterior for that
image, so every output copies its style and the seeds vary it.

CKPT may also be an NVlabs/SPADE checkpoint folder (or its `*_net_G.pth`), imported by
gan_zoo.official. What the official `test.py` writes for the same label maps comes out within 1/255:
it runs G in eval mode (batch norm on its running statistics) and saves `(x + 1) / 2 * 255` cast to
uint8 (`util/util.py` tensor2im: rounded down), where gan-zoo rounds `x * 127.5 + 128`. Its VAE
models encode each test image (the data set's photo beside the label map) and draw eps with
torch.randn; here that is `style=` the photo, with eps = RandomState(seed).randn(256) per seed.
"""

import sys
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig
from PIL import Image

from gan_zoo.data.label_maps import convert_labels, read_integer_map, resize_nearest
from gan_zoo.data.transforms import to_signed
from gan_zoo.errors import ConfigError
from gan_zoo.sampling.output import OutputDir
from gan_zoo.sampling.seeds import parse_int_list

LABEL_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff")  # lossless formats label maps come in


def label_files(labels: str) -> list[Path]:
    path = Path(labels).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LABEL_EXTENSIONS)
        if files:
            return files
        raise ConfigError(f"labels={path} holds no label maps ({', '.join(LABEL_EXTENSIONS)}); point labels= at a label map or a folder of them")
    raise ConfigError(f"labels={path} does not exist; point labels= at a label map file or a folder of them")


def instance_file(label: Path) -> Path | None:
    """The instance map stored beside `label` in the Cityscapes or COCO-Stuff layout, if there is one."""
    candidates = [label.with_name(label.name.replace("_labelIds", "_instanceIds"))]
    if label.parent.name.endswith("_label"):
        candidates.append(label.parent.parent / (label.parent.name.removesuffix("_label") + "_inst") / label.name)
    return next((c for c in candidates if c != label and c.is_file()), None)


def read_label_map(module: Any, path: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """([H, W] label indices, [H, W] instance ids or None) at the model's image size."""
    height, width = module.image_size
    raw = read_integer_map(path)
    labels = convert_labels(raw, module.label_nc, path, module.label_shift, module.dontcare_values, module.num_labels > module.label_nc)
    segmap = torch.from_numpy(resize_nearest(labels, height, width))
    instance = None
    if module.use_instance and (found := instance_file(path)) is not None:
        instance = torch.from_numpy(resize_nearest(read_integer_map(found), height, width))
    return segmap, instance


def read_style(module: Any, path: str) -> torch.Tensor:
    if module.E is None:
        raise ConfigError(f"style={path} needs a multimodal model (trained with model.use_vae=true); this checkpoint has no image encoder")
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"style={file} does not exist; point style= at an image")
    height, width = module.image_size
    with Image.open(file) as picture:
        return to_signed(picture.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))[None]


def default_outdir(ckpt: Path) -> Path:
    """<run>/generated/<name>/labels beside a checkpoints/ folder (a gan-zoo run's, or the official
    checkpoints/<name>/ of a SPADE folder), else beside the file."""
    run_dir = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else ckpt.parent
    return run_dir / "generated" / ckpt.stem / "labels"


def run(cfg: DictConfig, module: Any, ckpt: Path, device: torch.device) -> list[Path]:
    if cfg.get("labels") in (None, ""):
        raise ConfigError("a SPADE checkpoint renders label maps: pass labels=FILE_OR_DIR (and, for VAE models, style=IMAGE and seeds=...)")
    files = label_files(str(cfg.labels))
    style = None if cfg.get("style") in (None, "") else read_style(module, str(cfg.style)).to(device)
    seeds = parse_int_list(cfg.seeds, "seeds") if module.E is not None else [0]
    if module.E is None and cfg.get("style") is None and str(cfg.seeds) != "0-7":
        print("gan-zoo generate: this SPADE model has no encoder and no z; seeds change nothing (one image per label map)", file=sys.stderr)
    names = {path: [f"{path.stem}.png"] if module.E is None else [f"{path.stem}_seed{s:04d}.png" for s in seeds] for path in files}
    out = OutputDir(cfg.outdir or default_outdir(ckpt), overwrite=bool(cfg.overwrite))
    out.check_free([name for group in names.values() for name in group])
    without_instances = 0
    for path in files:
        segmap, instance = read_label_map(module, path)
        without_instances += int(module.use_instance and instance is None)
        for start in range(0, len(seeds), int(cfg.batch_size)):
            chunk = seeds[start : start + int(cfg.batch_size)]
            batch_instance = None if instance is None else instance.expand(len(chunk), -1, -1)
            images = module.sample(chunk, segmap=segmap.expand(len(chunk), -1, -1), instance=batch_instance, style=style).cpu()
            for name, image in zip(names[path][start : start + len(chunk)], images, strict=True):
                out.png(name, image)
    if without_instances:
        print(
            f"gan-zoo generate: {without_instances} label map(s) without an instance map beside them; label boundaries stand in for instance edges",
            file=sys.stderr,
        )
    print(f"gan-zoo generate: wrote {len(out.written)} files to {out.path}")
    return out.written
