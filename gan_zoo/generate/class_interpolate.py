"""mode=interpolate with classes=[a, b, ...]: frames walking from class to class at one latent.

A class-conditional StyleGAN maps (z, class) to w; its labels are indices (the mapping embeds
`argmax(c)`), so there is no path through label space. The walk is therefore in W: each class's
w for the same z (truncated towards that class's own w_avg when truncation < 1), then lerped, as
StyleGAN-XL's class-interpolation figures show one object morphing between categories.
"""

from typing import Any

import torch
from torch import Tensor

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import ConfigError
from gan_zoo.generate import style_split
from gan_zoo.models.base import GANModule
from gan_zoo.sampling.frames import path_positions
from gan_zoo.sampling.output import OutputDir


def generate_class_interpolation(
    module: GANModule, seed: int, classes: list[int], frames: int, fps: float, options: dict[str, Any], out: OutputDir
) -> tuple[Tensor, list[str]]:
    """uint8 frames [frames, C, H, W] written as frame%05d.png, interpolation.gif and (with PyAV) .mp4."""
    style_split.require_style_split(module, "mode=interpolate classes=[...]")
    num_classes = style_split.num_classes(module)
    if num_classes == 0:
        raise ConfigError(f"classes={classes}: this '{module.family}' model is unconditional; class interpolation needs a class-conditional one")
    if len(classes) < 2:
        raise ConfigError(f"classes={classes}: a class interpolation needs at least 2 classes")
    if options["class_index"] is not None:
        raise ConfigError("pass either class=<index> (one class) or classes=[a,b,...] (a walk between classes), not both")
    for label in classes:
        if not 0 <= label < num_classes:
            raise ConfigError(f"classes={classes}: class {label} is out of range; this model has classes 0..{num_classes - 1}")
    out.check_free([f"frame{i:05d}.png" for i in range(frames)] + ["interpolation.gif", "interpolation.mp4"])
    positions = path_positions(len(classes), frames)
    t = torch.tensor([p[1] for p in positions])[:, None, None]
    start, end = [p[0] for p in positions], [p[0] + 1 for p in positions]
    ws = style_split.map_seeds(module, [seed] * len(classes), torch.tensor(classes), options["truncation"], options["truncation_cutoff"]).cpu()
    images = []
    for batch in range(0, frames, options["batch_size"]):
        chunk = slice(batch, batch + options["batch_size"])
        w = torch.lerp(ws[start[chunk]], ws[end[chunk]], t[chunk])
        images.append(to_uint8(style_split.synthesize(module, w.to(module.device), options["noise_mode"])).cpu())
    frames_tensor = torch.cat(images)
    for index, frame in enumerate(frames_tensor):
        out.png(f"frame{index:05d}.png", frame)
    out.gif("interpolation.gif", frames_tensor, fps)
    notes = []
    if out.mp4("interpolation.mp4", frames_tensor, fps) is None:
        notes.append("no MP4 written: install PyAV (pip install av) for an H.264 interpolation.mp4; the frames and interpolation.gif are written")
    return frames_tensor, notes
