"""PGGAN's training schedule: level of detail, minibatch and learning rate as a function of images shown.

Follows `TrainingSchedule` of the official code: phases of `lod_training_kimg` (stable) plus
`lod_transition_kimg` (fade-in) per resolution, starting at `lod_initial_resolution`; the minibatch
and the learning rate depend on the resolution being trained (the higher one during a fade).
The schedule is re-evaluated every `minibatch_repeats` minibatches, as the official loop does.
"""

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScheduleState:
    lod: float  # level of detail: 0 = full resolution, log2(resolution) - 2 = 4x4
    resolution: int  # resolution being trained (the higher one during a fade-in)
    minibatch: int  # global images per step
    lr: float  # learning rate of G and D


@dataclass(frozen=True)
class PGGANSchedule:
    resolution: int  # final (data) resolution
    lod_initial_resolution: int = 4  # first resolution trained
    lod_training_kimg: float = 600.0  # kimg of stable training per resolution
    lod_transition_kimg: float = 600.0  # kimg of fade-in per resolution
    minibatch_base: int = 16  # global minibatch where minibatch_dict has no entry
    minibatch_dict: dict[int, int] = field(default_factory=dict)  # resolution -> global minibatch
    lr_base: float = 0.001  # Adam lr where lr_dict has no entry
    lr_dict: dict[int, float] = field(default_factory=dict)  # resolution -> lr
    minibatch_repeats: int = 4  # minibatches between schedule evaluations
    world_size: int = 1  # the minibatch is rounded down to a multiple of it, as the official code does

    def at(self, nimg: int) -> ScheduleState:
        kimg = nimg / 1000.0
        phase_dur = self.lod_training_kimg + self.lod_transition_kimg
        phase_idx = int(math.floor(kimg / phase_dur)) if phase_dur > 0 else 0
        phase_kimg = kimg - phase_idx * phase_dur
        resolution_log2 = int(math.log2(self.resolution))
        lod = resolution_log2 - math.floor(math.log2(self.lod_initial_resolution)) - phase_idx
        if self.lod_transition_kimg > 0:
            lod -= max(phase_kimg - self.lod_training_kimg, 0.0) / self.lod_transition_kimg
        lod = max(lod, 0.0)
        resolution = 2 ** (resolution_log2 - int(math.floor(lod)))
        minibatch = int(self.minibatch_dict.get(resolution, self.minibatch_base))
        minibatch -= minibatch % self.world_size
        lr = float(self.lr_dict.get(resolution, self.lr_base))
        return ScheduleState(lod=float(lod), resolution=resolution, minibatch=minibatch, lr=lr)

    def evaluation_nimg(self, step: int, cur_nimg: int, last_evaluation_nimg: int) -> int:
        """The images-shown count at which the schedule in force at `step` was evaluated."""
        return cur_nimg if step % self.minibatch_repeats == 0 else last_evaluation_nimg

    def constant_stretch(self, step: int, cur_nimg: int, last_evaluation_nimg: int, total_nimg: int) -> tuple[int, int]:
        """(global minibatch, number of steps) until the minibatch changes or training ends."""
        eval_nimg = self.evaluation_nimg(step, cur_nimg, last_evaluation_nimg)
        minibatch = self.at(eval_nimg).minibatch
        steps = 0
        while cur_nimg < total_nimg:
            eval_nimg = self.evaluation_nimg(step, cur_nimg, eval_nimg)
            if self.at(eval_nimg).minibatch != minibatch:
                break
            cur_nimg += minibatch
            step += 1
            steps += 1
        return minibatch, steps
