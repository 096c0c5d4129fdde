"""The crops and resizes of NVlabs stylegan3 `dataset_tool.py` (`make_transform`), on PIL images.

An FID against a prepared set only matches the papers' when the reals went through the same
pixels, so these follow that file's rules exactly (PIL Lanczos, integer crop boxes as it computes
them); the tests compare them with the rules written out on numpy arrays.

* `none`: resize to the output size with Lanczos when the size differs (no crop: the aspect ratio
  is not kept), else keep the image.
* `center-crop`: the centred square of the shorter side (box `(side - crop) // 2 .. (side + crop) // 2`
  on each axis), then Lanczos to the output size.
* `center-crop-wide`: rows `round(width * h / w)` high, centred, at the full image width, then
  Lanczos to width x height and pasted centred into a black width x width canvas. As in
  dataset_tool, the band height is computed from the *output* width, and images narrower than the
  output width (or whose band is lower than the output height) are dropped (None).
"""

from PIL import Image

TRANSFORMS = ("none", "center-crop", "center-crop-wide")


def parse_size(resolution: int | str | None, transform: str) -> tuple[int, int] | None:
    """(width, height) of the image content: N -> N x N (N x N/2 for center-crop-wide), "WxH" as given."""
    if resolution is None:
        if transform != "none":
            raise ValueError(f"transform={transform} needs an output size: pass resolution=N (e.g. resolution=256)")
        return None
    text = str(resolution).lower().replace(",", "x")
    try:
        parts = [int(p) for p in text.split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        width = parts[0]
        size = (width, width // 2 if transform == "center-crop-wide" else width)
    elif len(parts) == 2:
        size = (parts[0], parts[1])
    else:
        raise ValueError(f"resolution={resolution} is not a size; pass a number of pixels (256) or WIDTHxHEIGHT (512x384)")
    if min(size) < 1:
        raise ValueError(f"resolution={resolution} must be positive")
    if transform != "center-crop-wide" and size[0] != size[1]:
        raise ValueError(
            f"resolution={resolution} is not square; the zip holds square images (use transform=center-crop-wide for a wide band in a square canvas)"
        )
    return size


def _centred(length: int, keep: int) -> tuple[int, int]:
    return (length - keep) // 2, (length + keep) // 2


def scale(image: Image.Image, size: tuple[int, int] | None) -> Image.Image:
    if size is None or image.size == size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS)


def center_crop(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    width, height = image.size
    crop = min(width, height)
    left, right = _centred(width, crop)
    top, bottom = _centred(height, crop)
    # crop() then resize(), never resize(box=...): a box resize filters with pixels outside the box.
    return image.crop((left, top, right, bottom)).resize(size, Image.Resampling.LANCZOS)


def center_crop_wide(image: Image.Image, size: tuple[int, int]) -> Image.Image | None:
    out_width, out_height = size
    width, height = image.size
    band = int(round(out_width * height / width))  # Python's round: half to even, as numpy's np.round there
    if width < out_width or band < out_height:
        return None
    top, bottom = _centred(height, band)
    resized = image.crop((0, top, width, bottom)).resize((out_width, out_height), Image.Resampling.LANCZOS)
    canvas = Image.new(image.mode, (out_width, out_width))  # black
    canvas.paste(resized, (0, (out_width - out_height) // 2))
    return canvas


def apply(image: Image.Image, transform: str, size: tuple[int, int] | None) -> Image.Image | None:
    """The transformed image, or None when center-crop-wide drops it."""
    if transform == "none":
        return scale(image, size)
    assert size is not None
    if transform == "center-crop":
        return center_crop(image, size)
    if transform == "center-crop-wide":
        return center_crop_wide(image, size)
    raise ValueError(f"transform={transform} is not one of {', '.join(TRANSFORMS)}")
