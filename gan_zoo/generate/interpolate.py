"""mode=interpolate: frames walking through the seeds' latents, in Z (slerp) or W (lerp)."""

from typing import Any

import torch
from torch import Tensor

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.generate import style_split
from gan_zoo.models.base import GANModule
from gan_zoo.sampling.frames import path_positions
from gan_zoo.sampling.output import OutputDir


def slerp_latents(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation of Gaussian latents (keeps their norm statistics, as PPL's Z paths do)."""
    a_unit, b_unit = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((a_unit * b_unit).sum(-1, keepdim=True).clamp(-1, 1))
    sin = torch.sin(omega)
    linear = (1 - t) * a + t * b
    spherical = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin.clamp_min(1e-12)
    return torch.where(sin.abs() < 1e-6, linear, spherical)


def generate_interpolation(
    module: GANModule, seeds: list[int], frames: int, space: str, fps: float, options: dict[str, Any], out: OutputDir
) -> tuple[Tensor, list[str]]:
    """uint8 frames [frames, C, H, W] written as frame%05d.png, interpolation.gif and (with PyAV) .mp4."""
    if len(seeds) < 2:
        raise ConfigError(f"seeds={seeds}: interpolation needs at least 2 seeds")
    if space not in ("z", "w"):
        raise ConfigError(f"space={space}: choose z (slerp between latents) or w (lerp between mapped styles)")
    style = style_split.has_style_split(module)
    if space == "w":
        style_split.require_style_split(module, "mode=interpolate space=w")
    names = [f"frame{i:05d}.png" for i in range(frames)] + ["interpolation.gif", "interpolation.mp4"]
    out.check_free(names)
    positions = path_positions(len(seeds), frames)
    t = torch.tensor([p[1] for p in positions])[:, None]
    start, end = [p[0] for p in positions], [p[0] + 1 for p in positions]
    z_dim = module.G_ema.z_dim
    z = module.latents_from_seeds(seeds, z_dim)
    labels = style_split.class_labels(module, options["class_index"], frames)
    psi, cutoff = options["truncation"], options["truncation_cutoff"]
    images = []
    for batch in range(0, frames, options["batch_size"]):
        chunk = slice(batch, batch + options["batch_size"])
        if space == "w":
            ws = style_split.map_seeds(module, seeds, None if labels is None else labels[: len(seeds)], psi, cutoff).cpu()
            w = torch.lerp(ws[start[chunk]], ws[end[chunk]], t[chunk][:, :, None])
            images.append(to_uint8(style_split.synthesize(module, w.to(module.device), options["noise_mode"])).cpu())
            continue
        z_frames = slerp_latents(z[start[chunk]], z[end[chunk]], t[chunk])
        if style:
            c = None if labels is None else torch.nn.functional.one_hot(labels[chunk], style_split.num_classes(module)).float().to(module.device)
            w = module.G_ema.mapping(z_frames.to(module.device), c, truncation_psi=psi, truncation_cutoff=cutoff)
            images.append(to_uint8(style_split.synthesize(module, w, options["noise_mode"])).cpu())
        else:
            if psi != 1:
                raise ConfigError(f"truncation applies to StyleGAN-family models; this checkpoint is a '{module.family}' model")
            if not hasattr(module, "generate"):
                raise ConfigError(f"mode=interpolate is not available for '{module.family}' models")
            images.append(to_uint8(module.generate(z_frames, None if labels is None else labels[chunk])).cpu())
    frames_tensor = torch.cat(images)
    for index, frame in enumerate(frames_tensor):
        out.png(f"frame{index:05d}.png", frame)
    notes = []
    out.gif("interpolation.gif", frames_tensor, fps)
    if out.mp4("interpolation.mp4", frames_tensor, fps) is None:
        notes.append("no MP4 written: install PyAV (pip install av) for an H.264 interpolation.mp4; the frames and interpolation.gif are written")
    return frames_tensor, notes
