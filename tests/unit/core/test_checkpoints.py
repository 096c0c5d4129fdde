"""Checkpoint files: atomic writes, weights-only loading, which checkpoint a run starts from."""

import time

import pytest
import torch

from gan_zoo.checkpoints import load_checkpoint_file
from gan_zoo.errors import CheckpointError
from gan_zoo.training.checkpoint_io import AtomicCheckpointIO
from gan_zoo.training.resume import resolve_ckpt_path


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("simulated crash while writing")


class Custom:
    pass


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path):
    io = AtomicCheckpointIO()
    path = tmp_path / "last.ckpt"
    io.save_checkpoint({"value": torch.tensor(1)}, path)
    with pytest.raises(RuntimeError, match="simulated crash"):
        io.save_checkpoint({"value": Unpicklable()}, path)
    assert load_checkpoint_file(path)["value"].item() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_loading_refuses_pickled_code_and_truncated_files(tmp_path):
    torch.save({"obj": Custom()}, tmp_path / "code.ckpt")
    with pytest.raises(CheckpointError, match="weights-only"):
        load_checkpoint_file(tmp_path / "code.ckpt")
    AtomicCheckpointIO().save_checkpoint({"w": torch.zeros(1000)}, tmp_path / "t.ckpt")
    data = (tmp_path / "t.ckpt").read_bytes()
    (tmp_path / "t.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint_file(tmp_path / "t.ckpt")


def test_resolve_ckpt_path(tmp_path):
    ckpts = tmp_path / "checkpoints"
    assert resolve_ckpt_path(None, ckpts) is None
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        resolve_ckpt_path("last", ckpts)
    ckpts.mkdir()
    (ckpts / "kimg000001.000.ckpt").write_bytes(b"x")
    time.sleep(0.01)
    (ckpts / "kimg000002.000.ckpt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="already holds 2 checkpoint"):
        resolve_ckpt_path(None, ckpts)
    assert resolve_ckpt_path("last", ckpts).name == "kimg000002.000.ckpt"
    (ckpts / "last.ckpt").write_bytes(b"x")
    assert resolve_ckpt_path("last", ckpts).name == "last.ckpt"
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        resolve_ckpt_path(str(tmp_path / "nope.ckpt"), ckpts)
