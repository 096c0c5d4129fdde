"""Progressive growing as a GANModule mixin: the official schedule drives lod, minibatch and lr.

Shared by PGGAN and StyleGAN v1, whose training loops grow the networks the same way: the schedule
(`PGGANSchedule`) is re-evaluated every `minibatch_repeats` steps; each evaluation sets the Adam
learning rate of every optimizer and, when a level of detail starts or ends its fade-in, clears
Adam's state; the reals are cross-faded between levels of detail like the fakes.
"""

import math
from typing import Any

import torch
from torch import Tensor

from gan_zoo.layers.resample import downscale_box, upscale_nearest
from gan_zoo.models.pggan.schedule import PGGANSchedule, ScheduleState


def reals_at_lod(images: Tensor, lod: float) -> Tensor:
    """Full-resolution reals at the current resolution, cross-faded between levels of detail.

    The official `process_reals` reads the data set's lower-resolution copy (made by 2×2 box
    averaging) and blends it with its own 2×2-box-down-then-up version by lod - floor(lod).
    """
    lod_floor = int(lod)
    images = downscale_box(images, 2**lod_floor) if lod_floor > 0 else images
    frac = lod - lod_floor
    if frac > 0:
        images = torch.lerp(images, upscale_nearest(downscale_box(images, 2), 2), frac)
    return images


class ProgressiveGrowing:
    """Mix into a GANModule (before it in the bases) and call `init_growing` in __init__."""

    def init_growing(
        self,
        resolution: int,  # final image resolution; the schedule counts levels of detail down to it
        schedule: dict[str, Any] | None,  # PGGANSchedule fields except resolution and world_size
        reset_optimizer_for_new_lod: bool,  # official: Adam state cleared at each new level of detail
    ) -> None:
        self.growing_resolution = resolution
        self.schedule_config = dict(schedule or {})
        for table in ("minibatch_dict", "lr_dict"):  # resolution keys may arrive as strings from the command line
            self.schedule_config[table] = {int(k): v for k, v in self.schedule_config.get(table, {}).items()}
        self.reset_optimizer_for_new_lod = reset_optimizer_for_new_lod
        # The images-shown count at which the schedule in force was last evaluated (progress state).
        self.register_buffer("schedule_nimg", torch.zeros((), dtype=torch.long))

    def setup(self, stage: str) -> None:
        super().setup(stage)  # type: ignore[misc]  # GANModule's: compiles the networks when asked
        if getattr(self, "compile_backend", None) is not None:
            # A compiled G or D is traced anew for every level of detail and fade state (2·max_lod + 1 of them),
            # for each kind of call (G's phase, D's phase, sampling): past dynamo's recompile limit (8) it
            # would run eagerly for the rest of the growth. The limit is process-wide; it is only raised.
            states = 2 * (int(math.log2(self.growing_resolution)) - 2) + 1
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 3 * states + 4)

    @property
    def schedule(self) -> PGGANSchedule:
        return PGGANSchedule(resolution=self.growing_resolution, world_size=self.world_size, **self.schedule_config)

    def current_state(self) -> ScheduleState:
        return self.schedule.at(int(self.schedule_nimg))

    def global_batch_size(self) -> int:
        step, cur = int(self.step_count), int(self.cur_nimg)
        return self.schedule.at(self.schedule.evaluation_nimg(step, cur, int(self.schedule_nimg))).minibatch

    def plan_batches(self) -> tuple[int, int, int]:
        minibatch, steps = self.schedule.constant_stretch(int(self.step_count), int(self.cur_nimg), int(self.schedule_nimg), self.total_nimg)
        return int(self.cur_nimg), self._per_rank(minibatch), steps

    def before_step(self, batch: dict[str, Tensor]) -> None:
        step = int(self.step_count)
        if step % self.schedule.minibatch_repeats:
            return
        previous = self.current_state() if step > 0 else None
        self.schedule_nimg.fill_(int(self.cur_nimg))
        state = self.current_state()
        for optimizer in self._optimizer_list():
            for group in optimizer.param_groups:
                group["lr"] = state.lr
            new_lod = previous is None or (math.floor(state.lod) != math.floor(previous.lod) or math.ceil(state.lod) != math.ceil(previous.lod))
            if self.reset_optimizer_for_new_lod and new_lod:
                optimizer.optimizer.state.clear()
        expected = self._per_rank(state.minibatch)
        if batch["image"].shape[0] != expected:
            raise RuntimeError(
                f"{self.family} expected a per-rank batch of {expected} images at kimg {int(self.cur_nimg) / 1000:.1f}, got {batch['image'].shape[0]}"
            )

    def progress_description(self) -> str:
        state = self.current_state()
        fade = state.lod - int(state.lod)
        return f"{state.resolution}x{state.resolution}" + (f" fade {1 - fade:.2f}" if fade > 0 else "")

    def process_reals(self, images: Tensor, lod: float) -> Tensor:
        return reals_at_lod(images, lod)
