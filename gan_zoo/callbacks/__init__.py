"""Callbacks shared by every family: kimg-based checkpoints, sample grids, the kimg progress bar, metrics."""

from gan_zoo.callbacks.checkpoint import KimgCheckpoint
from gan_zoo.callbacks.metrics import MetricsCallback
from gan_zoo.callbacks.progress import KimgProgressBar
from gan_zoo.callbacks.samples import SampleGrid

__all__ = ["KimgCheckpoint", "KimgProgressBar", "MetricsCallback", "SampleGrid"]
