"""AugmentPipe: the StyleGAN2-ADA differentiable augmentation pipeline (Karras et al. 2020, App. B).

Stages, in the paper's order, each transform applied to a sample with probability p * multiplier:
pixel blitting (exact gather) -> general geometric (one composed matrix, one wavelet resampling) ->
colour (one 4x4 matrix) -> band filtering -> noise -> cutout. A sample that draws no transform in a
stage leaves that stage bit-for-bit unchanged; the resampling and filtering run only on the samples
that need them. Everything is differentiable w.r.t. the images (D's gradient reaches G through it).
"""

import math
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.augment.bandfilter import filter_bands, normalise_gains
from gan_zoo.augment.blit import blit, blit_matrices
from gan_zoo.augment.color import apply_color, hue_rotation, luma_flip, saturation, scale3d, translate3d
from gan_zoo.augment.corruption import add_noise, cutout
from gan_zoo.augment.draws import Draws
from gan_zoo.augment.filters import band_filters
from gan_zoo.augment.geometric import WaveletResampler, rotate2d, scale2d, translate2d
from gan_zoo.augment.presets import preset_kwargs

_MULTIPLIERS = (
    "xflip",
    "rotate90",
    "xint",
    "scale",
    "rotate",
    "aniso",
    "xfrac",
    "brightness",
    "contrast",
    "lumaflip",
    "hue",
    "saturation",
    "imgfilter",
    "noise",
    "cutout",
)
_STRENGTHS = (
    "xint_max",
    "scale_std",
    "rotate_max",
    "aniso_std",
    "xfrac_std",
    "brightness_std",
    "contrast_std",
    "hue_max",
    "saturation_std",
    "imgfilter_std",
    "noise_std",
    "cutout_size",
)


def _keep(on: Tensor, matrix: Tensor) -> Tensor:
    """matrix [N, k, k] where `on`, the exact identity elsewhere (so skipped samples stay bit-exact)."""
    eye = torch.eye(matrix.shape[-1], dtype=matrix.dtype, device=matrix.device)
    return torch.where(on[:, None, None], matrix, eye)


class AugmentPipe(nn.Module):
    def __init__(
        self,
        # --- probability multipliers (each transform fires with probability p * multiplier) ---
        xflip: float = 0.0,  # mirror x (the mirror itself is a coin flip, as in the paper)
        rotate90: float = 0.0,  # rotate by 0/90/180/270 degrees (square images only)
        xint: float = 0.0,  # integer translation, uniform in +-xint_max of the image size
        scale: float = 0.0,  # isotropic scaling, log2-normal with scale_std
        rotate: float = 0.0,  # arbitrary rotation, drawn twice (before and after aniso) at 1-sqrt(1-p)
        aniso: float = 0.0,  # anisotropic scaling (s, 1/s), log2-normal with aniso_std
        xfrac: float = 0.0,  # fractional translation, normal with xfrac_std of the image size
        brightness: float = 0.0,  # add b ~ N(0, brightness_std^2) to all channels
        contrast: float = 0.0,  # scale about mid-grey, log2-normal with contrast_std
        lumaflip: float = 0.0,  # invert luma, keep chroma (a coin flip when it fires)
        hue: float = 0.0,  # rotate about the luma axis, uniform in +-hue_max * pi
        saturation: float = 0.0,  # scale chroma, log2-normal with saturation_std
        imgfilter: float = 0.0,  # random gains on 4 frequency bands (each band fires separately)
        noise: float = 0.0,  # additive Gaussian noise, sigma ~ |N(0, noise_std^2)|
        cutout: float = 0.0,  # zero a square of cutout_size at a uniform position
        # --- strengths (the paper's values as defaults) ---
        xint_max: float = 0.125,  # fraction of the image size
        scale_std: float = 0.2,  # std of log2(scale)
        rotate_max: float = 1.0,  # fraction of pi
        aniso_std: float = 0.2,  # std of log2(anisotropy)
        xfrac_std: float = 0.125,  # fraction of the image size
        brightness_std: float = 0.2,  # in [-1, 1] image units
        contrast_std: float = 0.5,  # std of log2(contrast)
        hue_max: float = 1.0,  # fraction of pi
        saturation_std: float = 1.0,  # std of log2(saturation)
        imgfilter_bands: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0),  # per-band multipliers, low to high
        imgfilter_std: float = 1.0,  # std of log2(band gain)
        noise_std: float = 0.1,  # std of the noise sigma, in [-1, 1] image units
        cutout_size: float = 0.5,  # side of the square, fraction of the image size
        p: float = 0.0,  # initial probability (a buffer: saved in checkpoints, steered by AdaptiveAugment)
    ) -> None:
        super().__init__()
        given = locals()  # the constructor arguments by name
        self.multipliers = {name: float(given[name]) for name in _MULTIPLIERS}
        self.strengths = {name: float(given[name]) for name in _STRENGTHS}
        for name, value in {**self.multipliers, **self.strengths}.items():
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"AugmentPipe {name} must be a finite number >= 0, got {value}")
        if not 0 < cutout_size <= 1:
            raise ValueError(f"AugmentPipe cutout_size is a fraction of the image in (0, 1], got {cutout_size}")
        if len(imgfilter_bands) != 4 or any(b < 0 for b in imgfilter_bands):
            raise ValueError(f"AugmentPipe imgfilter_bands needs 4 multipliers >= 0, got {tuple(imgfilter_bands)}")
        if not math.isfinite(p) or p < 0:
            raise ValueError(f"AugmentPipe p must be >= 0, got {p}")
        self.imgfilter_bands = tuple(float(b) for b in imgfilter_bands)
        self.register_buffer("p", torch.tensor(float(p)))
        # Fixed filters are derived from their definitions, so they stay out of checkpoints.
        self.register_buffer("band_taps", torch.tensor(band_filters(), dtype=torch.float32), persistent=False)
        self.resampler = WaveletResampler()

    @classmethod
    def from_preset(cls, name: str, p: float = 0.0, **overrides: Any) -> "AugmentPipe":
        """A named ADA pipeline ('bgc', 'bgcfnc', ...) with initial p; overrides replace any constructor argument."""
        return cls(**{**preset_kwargs(name), **overrides, "p": p})

    def enabled(self) -> list[str]:
        return [name for name, value in self.multipliers.items() if value > 0]

    def extra_repr(self) -> str:
        return f"p={float(self.p):.4f}, enabled=[{', '.join(self.enabled())}]"

    # ---- forward ---------------------------------------------------------------------------------

    def forward(
        self,
        images: Tensor,  # [N, C, H, W] in [-1, 1]
        generator: torch.Generator | None = None,  # None: torch's global RNG (saved with checkpoints)
        rank: int = 0,  # with world_size: draw for the global batch and keep this rank's samples
        world_size: int = 1,
    ) -> Tensor:
        if images.ndim != 4 or not images.is_floating_point():
            raise ValueError(f"AugmentPipe expects float images [N, C, H, W], got {tuple(images.shape)} {images.dtype}")
        p = float(self.p)
        if p <= 0 or not self.enabled() or images.shape[0] == 0:
            return images
        x = images if images.dtype in (torch.float32, torch.float64) else images.float()
        draws = Draws(x.shape[0], x.device, generator, rank, world_size)
        x = self._blit(x, draws, p)
        x = self._geometric(x, draws, p)
        x = self._color(x, draws, p)
        x = self._filter(x, draws, p)
        x = self._corrupt(x, draws, p)
        return x.to(images.dtype)

    # Each stage draws all its numbers before deciding (per rank) whether to skip work, so that every
    # rank consumes the RNG identically.

    def _blit(self, x: Tensor, draws: Draws, p: float) -> Tensor:
        m, s = self.multipliers, self.strengths
        if not (m["xflip"] or m["rotate90"] or m["xint"]):
            return x
        n, _, h, w = x.shape
        flip = torch.zeros(n, dtype=torch.bool, device=x.device)
        turns = torch.zeros(n, dtype=torch.long, device=x.device)
        shift = torch.zeros(n, 2, dtype=torch.long, device=x.device)
        if m["xflip"]:
            flip = draws.chance(p * m["xflip"]) & (draws.integers(2) == 1)
        if m["rotate90"]:
            turns = torch.where(draws.chance(p * m["rotate90"]), draws.integers(4), 0)
        if m["xint"]:
            t = (draws.uniform(2) * 2 - 1) * s["xint_max"]
            pixels = torch.round(t * torch.tensor([w, h], device=x.device)).long()
            shift = torch.where(draws.chance(p * m["xint"])[:, None], pixels, 0)
        if not (flip.any() or (turns != 0).any() or (shift != 0).any()):
            return x
        return blit(x, blit_matrices(flip, turns, shift))

    def _geometric(self, x: Tensor, draws: Draws, p: float) -> Tensor:
        m, s = self.multipliers, self.strengths
        if not (m["scale"] or m["rotate"] or m["aniso"] or m["xfrac"]):
            return x
        n, _, h, w = x.shape
        maps = torch.eye(3, dtype=torch.float64, device=x.device).repeat(n, 1, 1)
        active = torch.zeros(n, dtype=torch.bool, device=x.device)
        # Rotation is drawn twice; 1 - sqrt(1 - p) each keeps the chance of any rotation at p.
        p_rot = 1 - math.sqrt(max(0.0, 1 - min(p * m["rotate"], 1.0)))

        def compose(on: Tensor, matrix: Tensor) -> None:
            nonlocal maps, active
            maps = maps @ _keep(on, matrix)
            active = active | on

        def rotation() -> None:
            theta = (draws.uniform().double() * 2 - 1) * math.pi * s["rotate_max"]
            compose(draws.chance(p_rot), rotate2d(theta))

        if m["scale"]:
            k = torch.exp2(draws.normal().double() * s["scale_std"])
            compose(draws.chance(p * m["scale"]), scale2d(k, k))
        if m["rotate"]:
            rotation()
        if m["aniso"]:
            k = torch.exp2(draws.normal().double() * s["aniso_std"])
            compose(draws.chance(p * m["aniso"]), scale2d(k, 1 / k))
        if m["rotate"]:
            rotation()
        if m["xfrac"]:
            t = draws.normal(2).double() * s["xfrac_std"]
            compose(draws.chance(p * m["xfrac"]), translate2d(t[:, 0] * w, t[:, 1] * h))
        if not active.any():
            return x
        index = active.nonzero().squeeze(1)
        return x.index_copy(0, index, self.resampler(x[index], maps[index]))

    def _color(self, x: Tensor, draws: Draws, p: float) -> Tensor:
        m, s = self.multipliers, self.strengths
        if not (m["brightness"] or m["contrast"] or m["lumaflip"] or m["hue"] or m["saturation"]):
            return x
        n = x.shape[0]
        color = torch.eye(4, dtype=torch.float64, device=x.device).repeat(n, 1, 1)
        active = torch.zeros(n, dtype=torch.bool, device=x.device)

        def compose(name: str, matrix: Tensor) -> None:
            nonlocal color, active
            on = draws.chance(p * m[name])
            color = _keep(on, matrix) @ color  # colour maps act on values: left-multiply keeps the order
            active = active | on

        if m["brightness"]:
            compose("brightness", translate3d(draws.normal().double() * s["brightness_std"]))
        if m["contrast"]:
            compose("contrast", scale3d(torch.exp2(draws.normal().double() * s["contrast_std"])))
        if m["lumaflip"]:
            compose("lumaflip", luma_flip(draws.integers(2).double()))
        if m["hue"]:
            compose("hue", hue_rotation((draws.uniform().double() * 2 - 1) * math.pi * s["hue_max"]))
        if m["saturation"]:
            compose("saturation", saturation(torch.exp2(draws.normal().double() * s["saturation_std"])))
        if not active.any():
            return x
        return apply_color(x, color)

    def _filter(self, x: Tensor, draws: Draws, p: float) -> Tensor:
        m, s = self.multipliers, self.strengths
        if not m["imgfilter"]:
            return x
        n = x.shape[0]
        gains = torch.ones(n, 4, dtype=torch.float64, device=x.device)
        active = torch.zeros(n, dtype=torch.bool, device=x.device)
        for band, multiplier in enumerate(self.imgfilter_bands):
            gain = torch.exp2(draws.normal().double() * s["imgfilter_std"])
            on = draws.chance(p * m["imgfilter"] * multiplier)
            gains[:, band] = torch.where(on, gain, 1.0)
            active = active | on
        if not active.any():
            return x
        index = active.nonzero().squeeze(1)
        taps = self.band_taps.to(x.dtype)
        return x.index_copy(0, index, filter_bands(x[index], normalise_gains(gains[index]), taps))

    def _corrupt(self, x: Tensor, draws: Draws, p: float) -> Tensor:
        m, s = self.multipliers, self.strengths
        if m["noise"]:
            sigma = draws.normal().abs() * s["noise_std"]
            sigma = torch.where(draws.chance(p * m["noise"]), sigma, 0.0)
            noise = draws.normal(*x.shape[1:]).to(x.dtype)  # drawn even when unused: ranks stay in step
            if (sigma > 0).any():
                x = add_noise(x, sigma, noise)
        if m["cutout"]:
            centre = draws.uniform(2)
            on = draws.chance(p * m["cutout"])
            if on.any():
                x = cutout(x, centre, s["cutout_size"], on)
        return x
