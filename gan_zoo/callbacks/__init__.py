"""Callbacks shared by every family: kimg-based checkpoints, sample grids, the kimg progress bar, metrics."""

from gan_zoo.callbacks.checkpoint import KimgCheckpoint
from gan_zoo.callbacks.metrics import MetricsCallback
from gan_zoo.callbacks.progress import KimgProgressBar
from gan_zoo.callbacks.samples import SampleGrid
from gan_zoo.callbacks.triptych import LabelMapTriptych

__all__ = ["KimgCheckpoint", "KimgProgressBar", "LabelMapTriptych", "MetricsCallback", "SampleGrid"]
