"""The named augmentation pipelines of the ADA code (`--augpipe`), as AugmentPipe multipliers."""

from typing import Any

_BLIT = {"xflip": 1.0, "rotate90": 1.0, "xint": 1.0}
_GEOM = {"scale": 1.0, "rotate": 1.0, "aniso": 1.0, "xfrac": 1.0}
_COLOR = {"brightness": 1.0, "contrast": 1.0, "lumaflip": 1.0, "hue": 1.0, "saturation": 1.0}
_FILTER = {"imgfilter": 1.0}
_NOISE = {"noise": 1.0}
_CUTOUT = {"cutout": 1.0}

PRESETS: dict[str, dict[str, float]] = {
    "blit": _BLIT,
    "geom": _GEOM,
    "color": _COLOR,
    "filter": _FILTER,
    "noise": _NOISE,
    "cutout": _CUTOUT,
    "bgc": {**_BLIT, **_GEOM, **_COLOR},  # the ADA default
    "bgcf": {**_BLIT, **_GEOM, **_COLOR, **_FILTER},
    "bgcfn": {**_BLIT, **_GEOM, **_COLOR, **_FILTER, **_NOISE},
    "bgcfnc": {**_BLIT, **_GEOM, **_COLOR, **_FILTER, **_NOISE, **_CUTOUT},
}


def preset_kwargs(name: str) -> dict[str, Any]:
    """AugmentPipe multipliers of a named preset; an unknown name lists the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown augmentation preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return dict(PRESETS[name])
