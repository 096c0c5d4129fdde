"""PGGAN's schedule against values computed by hand from the official TrainingSchedule formula."""

import pytest

from gan_zoo.models.pggan.schedule import PGGANSchedule

CELEBAHQ = PGGANSchedule(
    resolution=1024, lod_training_kimg=800, lod_transition_kimg=800, minibatch_base=16, minibatch_dict={256: 14, 512: 6, 1024: 3}, lr_base=0.001
)


@pytest.mark.parametrize(
    ("kimg", "lod", "resolution", "minibatch"),
    [
        (0, 8.0, 4, 16),  # 4x4 stable
        (799.999, 8.0, 4, 16),
        (1200, 7.5, 8, 16),  # halfway through the fade-in of 8x8: the higher resolution's batch
        (1600, 7.0, 8, 16),
        (3 * 1600 + 800 + 400, 4.5, 64, 16),
        (5 * 1600 + 800 + 200, 2.75, 256, 14),
        (7 * 1600 + 800 + 400, 0.5, 1024, 3),
        (19000, 0.0, 1024, 3),  # clipped at full resolution
    ],
)
def test_lod_resolution_and_minibatch(kimg, lod, resolution, minibatch):
    state = CELEBAHQ.at(int(round(kimg * 1000)))
    assert state.lod == pytest.approx(lod)
    assert (state.resolution, state.minibatch, state.lr) == (resolution, minibatch, 0.001)


def test_initial_resolution_and_minibatch_rounding_to_devices():
    schedule = PGGANSchedule(resolution=32, lod_initial_resolution=8, minibatch_base=15, world_size=2)
    state = schedule.at(0)
    assert (state.lod, state.resolution, state.minibatch) == (2.0, 8, 14)


def test_schedule_is_held_for_minibatch_repeats_steps():
    schedule = PGGANSchedule(resolution=8, lod_training_kimg=0.1, lod_transition_kimg=0.1, minibatch_base=32, minibatch_repeats=4)
    # Evaluated at step 0 (nimg 0) and held through steps 1..3, re-evaluated at step 4.
    assert schedule.evaluation_nimg(step=3, cur_nimg=96, last_evaluation_nimg=0) == 0
    assert schedule.evaluation_nimg(step=4, cur_nimg=128, last_evaluation_nimg=0) == 128


def test_constant_stretch_ends_where_the_minibatch_changes_or_training_ends():
    schedule = PGGANSchedule(resolution=16, lod_training_kimg=0.1, lod_transition_kimg=0.1, minibatch_base=32, minibatch_dict={16: 16}, minibatch_repeats=1)
    # 16x16 begins its fade at 0.3 kimg (lod drops below 1): batches of 32 until nimg >= 300.
    minibatch, steps = schedule.constant_stretch(step=0, cur_nimg=0, last_evaluation_nimg=0, total_nimg=10_000)
    assert (minibatch, steps) == (32, 10)  # 10 * 32 = 320 >= 300 is the first evaluation at 16x16
    minibatch, steps = schedule.constant_stretch(step=10, cur_nimg=320, last_evaluation_nimg=288, total_nimg=400)
    assert (minibatch, steps) == (16, 5)
