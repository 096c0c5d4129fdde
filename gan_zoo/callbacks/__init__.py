"""Callbacks shared by every family: kimg-based checkpoints, sample grids, the kimg progress bar."""

from gan_zoo.callbacks.checkpoint import KimgCheckpoint
from gan_zoo.callbacks.progress import KimgProgressBar
from gan_zoo.callbacks.samples import SampleGrid

__all__ = ["KimgCheckpoint", "KimgProgressBar", "SampleGrid"]
