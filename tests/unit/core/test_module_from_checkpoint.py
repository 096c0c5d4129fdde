"""A checkpoint's hyperparameters alone rebuild its module, for every family: what `gan-zoo generate`,
`gan-zoo eval` and `init_ckpt=` do with a checkpoint (StyleGAN3's once kept StyleGAN2's `lr` and failed)."""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from gan_zoo.checkpoints import module_from_checkpoint
from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import CheckpointError
from gan_zoo.training.build import build_module

FAMILIES = sorted(path.stem for path in (Path(CONFIG_DIR) / "model").glob("*.yaml"))


def smoke_checkpoint(family: str, tmp_path: Path) -> tuple[torch.nn.Module, dict]:
    """(the smoke preset's module, the checkpoint Lightning would write of it, as far as gan-zoo reads it)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment=smoke/{family}", f"paths.output_dir={tmp_path}"])
    torch.manual_seed(0)
    module = build_module(cfg)
    checkpoint = {"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}
    module.on_save_checkpoint(checkpoint)
    checkpoint["gan_zoo"]["model_target"] = f"{type(module).__module__}.{type(module).__qualname__}"
    return module, checkpoint


@pytest.mark.parametrize("family", FAMILIES)
def test_a_checkpoint_rebuilds_its_module_from_its_hyperparameters_alone(family, tmp_path):
    module, checkpoint = smoke_checkpoint(family, tmp_path)
    rebuilt, record = module_from_checkpoint(checkpoint, tmp_path / "last.ckpt", torch.device("cpu"))
    assert type(rebuilt) is type(module) and record["family"] == family
    state, rebuilt_state = module.state_dict(), rebuilt.state_dict()
    assert list(state) == list(rebuilt_state)
    for key, value in state.items():
        assert torch.equal(value, rebuilt_state[key]), key


def test_older_stylegan3_checkpoints_with_stylegan2s_arguments_still_load_and_others_are_refused(tmp_path):
    module, checkpoint = smoke_checkpoint("stylegan3", tmp_path)
    # What StyleGAN3 checkpoints held before: StyleGAN2's own arguments, which StyleGAN3 derives itself.
    checkpoint["hyper_parameters"].update(lr=0.002, auto=False, auto_gpus=1)
    rebuilt, _ = module_from_checkpoint(checkpoint, tmp_path / "old.ckpt", torch.device("cpu"))
    assert rebuilt.D_lr == module.D_lr
    checkpoint["hyper_parameters"]["not_an_argument"] = 1  # no class in the chain takes it: not silently dropped
    with pytest.raises(CheckpointError, match=r"old\.ckpt: its hyperparameters do not build .*not_an_argument"):
        module_from_checkpoint(checkpoint, tmp_path / "old.ckpt", torch.device("cpu"))
