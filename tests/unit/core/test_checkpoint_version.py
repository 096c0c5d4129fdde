"""Checkpoint format versions: a format-1 StyleGAN2 checkpoint (up-sampling kernels stored rotated by
180°, no `resample_filter` buffers, no version field), built here from a current one, generates the
same images through `load_module` and resumes training exactly as the checkpoint it came from."""

import copy
import re

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from gan_zoo.checkpoints import load_module
from gan_zoo.errors import CheckpointError
from gan_zoo.models.stylegan2.module import StyleGAN2Module
from gan_zoo.training.checkpoint_version import CHECKPOINT_FORMAT_VERSION, upgrade_checkpoint

MODEL_TARGET = "gan_zoo.models.stylegan2.module.StyleGAN2Module"
TINY = {"resolution": 16, "z_dim": 8, "w_dim": 8, "channel_base": 128, "channel_max": 8, "mapping": {"num_layers": 2}}
UP_KERNEL = re.compile(r"(G|G_ema)\.synthesis\.b\d+\.conv0\.weight")  # the up-sampling convolutions


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def tiny_module(total_kimg: float = 0.008) -> StyleGAN2Module:
    module = StyleGAN2Module(**TINY)
    module.configure_run(total_kimg=total_kimg, batch_size=4, identity={"experiment": "test", "model_target": MODEL_TARGET})
    return module


def checkpoint_of(module: StyleGAN2Module) -> dict:
    """What Lightning writes for the networks: state dict, hyperparameters, the gan-zoo record."""
    checkpoint = {"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams)}
    module.on_save_checkpoint(checkpoint)
    return checkpoint


def as_format_1(checkpoint: dict, module: StyleGAN2Module) -> dict:
    """The same networks as gan-zoo stored them before format 2."""
    old = copy.deepcopy(checkpoint)
    del old["gan_zoo"]["format_version"]
    state = old["state_dict"]
    for key in [k for k in state if k.endswith(".resample_filter")]:
        del state[key]
    rotated = {k for k in state if UP_KERNEL.fullmatch(k)}
    assert rotated  # the tiny G has up-sampling blocks (8 and 16 px), in G and G_ema
    for key in rotated:
        state[key] = state[key].flip([-2, -1])
    if "optimizer_states" in old:  # Adam's moments of those kernels, as the old run held them
        g_adam = old["optimizer_states"][0]["state"]  # over G.parameters(), in order
        for index, (name, _) in enumerate(module.G.named_parameters()):
            if f"G.{name}" in rotated:
                for key in ("exp_avg", "exp_avg_sq"):
                    g_adam[index][key] = g_adam[index][key].flip([-2, -1])
    return old


def test_checkpoints_record_the_format_version() -> None:
    checkpoint = checkpoint_of(tiny_module())
    assert checkpoint["gan_zoo"]["format_version"] == CHECKPOINT_FORMAT_VERSION == 2
    before = copy.deepcopy(checkpoint)
    upgrade_checkpoint(checkpoint, tiny_module())  # current format: nothing changes
    assert all(torch.equal(before["state_dict"][k], v) for k, v in checkpoint["state_dict"].items())
    checkpoint["gan_zoo"]["format_version"] = CHECKPOINT_FORMAT_VERSION + 1
    with pytest.raises(CheckpointError, match="newer"):
        upgrade_checkpoint(checkpoint, tiny_module())


def test_format_1_upgrade_restores_the_state_dict() -> None:
    module = tiny_module()
    old = as_format_1(checkpoint_of(module), module)
    upgraded = upgrade_checkpoint(old, tiny_module())
    assert upgraded["gan_zoo"]["format_version"] == 2
    current = module.state_dict()
    assert upgraded["state_dict"].keys() == current.keys()
    for key, value in current.items():
        assert torch.equal(upgraded["state_dict"][key], value), key


def test_format_1_checkpoint_generates_the_same_images_through_load_module(tmp_path) -> None:
    module = tiny_module()
    with torch.no_grad():  # trained-looking noise strengths and biases, so every parameter shows in the images
        for name, p in module.G_ema.named_parameters():
            if name.endswith(("noise_strength", "conv0.bias", "conv1.bias")):
                p.copy_(torch.randn_like(p) * 0.3)
    expected = module.sample([0, 1, 2])
    current = checkpoint_of(module)
    torch.save(current, tmp_path / "format2.ckpt")
    torch.save(as_format_1(current, module), tmp_path / "format1.ckpt")
    for name in ("format2.ckpt", "format1.ckpt"):
        loaded, record = load_module(tmp_path / name, torch.device("cpu"))
        assert record["format_version"] == 2
        assert torch.equal(loaded.sample([0, 1, 2]), expected), name


def _trainer() -> L.Trainer:
    return L.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=10,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )


def _loader() -> DataLoader:
    # The same 4 images every step, so where a resumed run stands in its data does not matter;
    # the module stops training at its total_kimg.
    images = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    return DataLoader([{"image": image} for image in images] * 16, batch_size=4)


def test_format_1_checkpoint_resumes_exactly_as_the_checkpoint_it_came_from(tmp_path) -> None:
    first = tiny_module(total_kimg=0.008)  # 2 steps: one with the path-length phase (every 4)
    trainer = _trainer()
    trainer.fit(first, train_dataloaders=_loader())
    trainer.save_checkpoint(tmp_path / "format2.ckpt")
    current = torch.load(tmp_path / "format2.ckpt", weights_only=True)
    assert current["gan_zoo"]["format_version"] == 2 and current["optimizer_states"][0]["state"]
    torch.save(as_format_1(current, first), tmp_path / "format1.ckpt")

    results = {}
    for name in ("format2.ckpt", "format1.ckpt"):
        resumed = tiny_module(total_kimg=0.024)  # 4 more steps, again through a path-length step
        trainer = _trainer()
        trainer.fit(resumed, train_dataloaders=_loader(), ckpt_path=tmp_path / name)
        assert int(resumed.cur_nimg) == 24
        trainer.save_checkpoint(tmp_path / f"resumed_{name}")
        results[name] = torch.load(tmp_path / f"resumed_{name}", weights_only=True)
    a, b = results["format2.ckpt"], results["format1.ckpt"]
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key
    for opt_a, opt_b in zip(a["optimizer_states"], b["optimizer_states"], strict=True):
        for index, state in opt_a["state"].items():
            assert torch.equal(state["exp_avg"], opt_b["state"][index]["exp_avg"]), index
            assert torch.equal(state["exp_avg_sq"], opt_b["state"][index]["exp_avg_sq"]), index
