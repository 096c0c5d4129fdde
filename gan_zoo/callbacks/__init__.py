"""Callbacks shared by every family: kimg-based checkpoints, sample grids, the kimg progress bar, metrics."""

from gan_zoo.callbacks.checkpoint import KimgCheckpoint
from gan_zoo.callbacks.grids import LabelMapTriptych, SampleGrid
from gan_zoo.callbacks.metrics import MetricsCallback
from gan_zoo.callbacks.progress import KimgProgressBar

__all__ = ["KimgCheckpoint", "KimgProgressBar", "LabelMapTriptych", "MetricsCallback", "SampleGrid"]
