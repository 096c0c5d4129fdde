"""W&B run names say the experiment and the overrides; multirun jobs share their sweep as group."""

from gan_zoo.training.loggers import run_name_and_group


def test_name_is_the_experiment_and_overrides_and_group_the_sweep():
    overrides = ["experiment=smoke/stylegan2", "model.lr=0.002", "logger=wandb", "logger.wandb.tags=[a]", "seed=1"]
    assert run_name_and_group("smoke/stylegan2", "stylegan2", overrides, None) == {"name": "smoke/stylegan2 model.lr=0.002 seed=1"}
    swept = run_name_and_group(None, "pggan", ["model=pggan", "data=digits", "seed=2"], "multirun/train/2026-01-01_00-00-00")
    assert swept == {"name": "pggan data=digits seed=2", "group": "multirun/train/2026-01-01_00-00-00"}
