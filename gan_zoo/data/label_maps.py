"""Label-map files -> the label indices SPADE one-hots (NVlabs/SPADE `data/`), shared by the paired data sets
and `gan-zoo generate`.

A data set declares `label_nc` labels. Raw file values are shifted down by `label_shift` (ADE20K
stores its 150 classes as 1..150), and the raw values in `dontcare_values` (ADE20K's 0, COCO-Stuff's
255) become the extra dontcare label `label_nc` when `contain_dontcare_label` is set. Any other value
outside [0, label_nc) is an error naming the file. Resizing is nearest-neighbour on the integer
array, so no new label values appear and 16-bit instance maps keep their ids.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from gan_zoo.data.errors import DataError


def read_integer_map(path: Path) -> np.ndarray:
    """An 8/16/32-bit single-channel PNG as an int64 [H, W] array (a colour file's first channel)."""
    try:
        with Image.open(path) as picture:
            array = np.asarray(picture)
    except (OSError, SyntaxError, ValueError) as error:
        raise DataError(f"{path} is not a readable label/instance map ({error}); replace or delete it") from error
    if array.ndim == 3:
        array = array[..., 0]
    return array.astype(np.int64)


def resize_nearest(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize with pixel-centre sampling (PIL's NEAREST rule), any integer dtype."""
    if array.shape == (height, width):
        return array
    rows = np.minimum(((np.arange(height) + 0.5) * array.shape[0] / height).astype(np.int64), array.shape[0] - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * array.shape[1] / width).astype(np.int64), array.shape[1] - 1)
    return array[rows[:, None], cols[None, :]]


def convert_labels(
    raw: np.ndarray,  # file values [H, W]
    label_nc: int,  # labels of the data set (without dontcare)
    where: str | Path,  # the file, for the error message
    label_shift: int = 0,  # subtracted from every value that is not dontcare (ADE20K: 1)
    dontcare_values: Sequence[int] = (),  # raw values that mean "unlabelled"
    contain_dontcare_label: bool = False,  # map dontcare values to label_nc (else they are errors)
) -> np.ndarray:
    """Label indices in [0, label_nc) (+ label_nc = dontcare) as int64 [H, W]; DataError on others."""
    dontcare = np.isin(raw, np.asarray(list(dontcare_values), dtype=np.int64)) if contain_dontcare_label else np.zeros(raw.shape, bool)
    labels = raw - label_shift
    bad = ~dontcare & ((labels < 0) | (labels >= label_nc))
    if bad.any():
        value = int(raw[bad][0])
        allowed = f"{label_shift}..{label_shift + label_nc - 1}"
        if contain_dontcare_label and dontcare_values:
            allowed += f" (or dontcare {', '.join(str(v) for v in dontcare_values)})"
        raise DataError(
            f"{where} has the label value {value}, outside the {label_nc} labels declared by data.label_nc (file values "
            f"{allowed}); fix the file or set data.label_nc to the data set's label count"
        )
    return np.where(dontcare, label_nc, labels)
