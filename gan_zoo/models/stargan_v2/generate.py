"""`gan-zoo generate` for StarGAN v2 checkpoints: latent-guided, reference-guided, interpolation.

    gan-zoo generate ckpt=... mode=latent src=IMG_OR_DIR [domain=NAME_OR_INDEX] seeds=0-3
    gan-zoo generate ckpt=... mode=reference src=IMG_OR_DIR ref=IMG_OR_DIR [domain=...]
    gan-zoo generate ckpt=... mode=interpolate src=IMG_OR_DIR [domain=...] seeds=0-3 frames=60

latent: every source to every chosen domain with the style F_ema(z_seed); one PNG each and the
official grid `latent.png` (first row the sources, then a row per domain and seed). reference:
every source with the style of every reference; the official grid `reference.png` (a white corner
and the sources, then per reference the reference and the translations). A reference's domain is
its parent folder's name (as `ref/<domain>/x.jpg`, the official layout) or `domain=`. interpolate:
the sources under a style walking linearly between the seeds' styles, as frames, GIF and MP4.

ckpt may be an official `*_nets_ema.ckpt` (gan_zoo.official.stargan_v2_ckpt): the grids are those of
clovaai/stargan-v2 `core/utils.py` translate_using_latent (psi 1) and translate_using_reference,
with z drawn per seed instead of from the global generator.
"""

import sys
from pathlib import Path

import torch
from omegaconf import DictConfig
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid

from gan_zoo.data.image_folder import IMAGE_EXTENSIONS
from gan_zoo.data.resized_crop import resize
from gan_zoo.data.transforms import to_signed, to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.models.stargan_v2.module import StarGANv2Module
from gan_zoo.sampling.frames import path_positions
from gan_zoo.sampling.output import OutputDir
from gan_zoo.sampling.seeds import parse_int_list

MODES = ("latent", "reference", "interpolate")


def image_files(value: object, key: str) -> list[Path]:
    """The image named by `key`, or every image under the folder (recursive, sorted)."""
    if value in (None, ""):
        raise ConfigError(f"pass {key}=IMAGE_OR_FOLDER: the {'source' if key == 'src' else 'reference'} image(s) to use")
    path = Path(str(value)).expanduser()
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"{key}={path} does not exist; give an image file or a folder of images")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ConfigError(f"{key}={path} has no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


def load_images(files: list[Path], resolution: int) -> Tensor:
    images = []
    for file in files:
        try:
            with Image.open(file) as encoded:
                images.append(resize(to_signed(encoded.convert("RGB")), resolution))
        except (OSError, SyntaxError, ValueError) as exc:
            raise ConfigError(f"{file} is not a readable image ({exc})") from exc
    return torch.stack(images)


def domain_index(value: object, names: list[str] | None, num_domains: int) -> int:
    """A domain given by name (as the training data named it) or by index."""
    text = str(value)
    if names and text in names:
        return names.index(text)
    if text.isdigit() and int(text) < num_domains:
        return int(text)
    known = f"{', '.join(names)} or " if names else ""
    raise ConfigError(f"domain={text} is not a domain of this model; use {known}an index 0..{num_domains - 1}")


def chosen_domains(cfg: DictConfig, names: list[str] | None, num_domains: int) -> list[int]:
    if cfg.get("domain") is None:
        return list(range(num_domains))
    return [domain_index(cfg.domain, names, num_domains)]


def folder_domains(files: list[Path], num_domains: int) -> list[str] | None:
    """For a model without domain names (official checkpoints store none): the references' folder
    names in sorted order, as the official sample mode numbers them (torchvision ImageFolder on
    --ref_dir), when there are exactly as many folders as domains; None otherwise."""
    folders = sorted({f.parent.name for f in files})
    return folders if len(folders) == num_domains else None


def reference_domains(files: list[Path], cfg: DictConfig, names: list[str] | None, num_domains: int) -> Tensor:
    if cfg.get("domain") is not None:
        return torch.full((len(files),), domain_index(cfg.domain, names, num_domains))
    if not names and (names := folder_domains(files, num_domains)) is not None:
        print(
            f"gan-zoo generate: the model has no domain names; the reference folders {', '.join(names)} are domains "
            f"0..{num_domains - 1} in sorted order, as the official sample mode numbers them",
            file=sys.stderr,
        )
    if not names or any(f.parent.name not in names for f in files):
        unnamed = "" if names else f" (this model has no domain names: give {num_domains} folders, or +overrides.domain_names=[...] with an official file)"
        raise ConfigError(
            f"the domain of reference {files[0]} is unknown: put references in folders named by domain "
            f"({', '.join(names or [])}){unnamed} or pass domain=NAME_OR_INDEX"
        )
    return torch.tensor([names.index(f.parent.name) for f in files])


def one_by_one(module: StarGANv2Module, sources: Tensor, styles: Tensor) -> Tensor:
    """uint8 translations of sources[i] with styles[i], one forward pass each.

    Batched kernels round differently for different batch sizes, so an image made in a batch could
    differ in the last bit from the same (source, seed) made alone; one pass per image keeps
    "same source, same seed, same image" exact whatever else the command generates.
    """
    return to_uint8(torch.cat([module.translate(sources[i : i + 1], styles[i : i + 1]).cpu() for i in range(len(sources))]))


def seed_styles(module: StarGANv2Module, seeds: list[int], domain: int) -> Tensor:
    """F_ema's style of each seed for `domain`, one seed per pass (see one_by_one)."""
    z = module.latents_from_seeds(seeds, module.latent_dim)
    return torch.cat([module.latent_styles(z[k : k + 1], torch.full((1,), domain)).cpu() for k in range(len(seeds))])


def run(cfg: DictConfig, module: StarGANv2Module, ckpt: Path, device: torch.device) -> list[Path]:
    if cfg.mode not in MODES:
        raise ConfigError(f"mode={cfg.mode}: a StarGAN v2 checkpoint generates with mode=latent, reference or interpolate")
    names = module.domain_names  # from the checkpoint's record, or +overrides.domain_names for an official file
    source_files = image_files(cfg.get("src"), "src")
    sources = load_images(source_files, module.G_ema.img_size)
    outdir = cfg.outdir or ckpt.parent.parent / "generated" / ckpt.stem / str(cfg.mode)
    out = OutputDir(outdir, overwrite=bool(cfg.overwrite))
    n = len(sources)
    if cfg.mode == "latent":
        seeds, domains = parse_int_list(cfg.seeds, "seeds"), chosen_domains(cfg, names, module.num_domains)
        label = [names[d] if names else str(d) for d in domains]
        out.check_free(["latent.png"] + [f"{f.stem}_{label[j]}_seed{s}.png" for f in source_files for j in range(len(domains)) for s in seeds])
        rows = [to_uint8(sources)]
        for j, d in enumerate(domains):
            styles = seed_styles(module, seeds, d)
            for k, seed in enumerate(seeds):
                row = one_by_one(module, sources, styles[k : k + 1].expand(n, -1))
                rows.append(row)
                for f, image in zip(source_files, row, strict=True):
                    out.png(f"{f.stem}_{label[j]}_seed{seed}.png", image)
        out.grid("latent.png", torch.cat(rows), columns=n)
    elif cfg.mode == "reference":
        ref_files = image_files(cfg.get("ref"), "ref")
        references = load_images(ref_files, module.G_ema.img_size)
        ref_domains = reference_domains(ref_files, cfg, names, module.num_domains)
        out.check_free(["reference.png"] + [f"{f.stem}_ref{i}_{r.stem}.png" for i, r in enumerate(ref_files) for f in source_files])
        grid = module.reference_grid(sources, references, ref_domains).cpu()
        out.grid("reference.png", grid, columns=n + 1)
        for i, ref in enumerate(ref_files):
            for j, f in enumerate(source_files):
                out.png(f"{f.stem}_ref{i}_{ref.stem}.png", grid[(i + 1) * (n + 1) + 1 + j])
    else:
        seeds, frames = parse_int_list(cfg.seeds, "seeds"), int(cfg.frames)
        if len(seeds) < 2:
            raise ConfigError(f"seeds={seeds}: an interpolation walks between at least 2 seeds' styles")
        domain = chosen_domains(cfg, names, module.num_domains)[0]
        out.check_free([f"frame{i:05d}.png" for i in range(frames)] + ["interpolation.gif", "interpolation.mp4"])
        styles = seed_styles(module, seeds, domain)
        pictures = []
        for i, (segment, t) in enumerate(path_positions(len(seeds), frames)):
            style = torch.lerp(styles[segment], styles[segment + 1], t)
            row = one_by_one(module, sources, style[None].expand(n, -1))
            pictures.append(make_grid(row, nrow=n, padding=0))
            out.png(f"frame{i:05d}.png", pictures[-1])
        frames_tensor = torch.stack(pictures)
        out.gif("interpolation.gif", frames_tensor, float(cfg.fps))
        out.mp4("interpolation.mp4", frames_tensor, float(cfg.fps))
    print(f"gan-zoo generate: wrote {len(out.written)} files to {out.path}")
    return out.written
