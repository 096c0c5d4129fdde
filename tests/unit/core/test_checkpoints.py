"""Checkpoint files: atomic writes, weights-only loading, which checkpoint a run starts from."""

import signal
import time

import lightning as L
import pytest
import torch

from gan_zoo.callbacks import KimgCheckpoint
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


class FailingStep(L.LightningModule):
    """A module whose first training step raises, as a bad batch or a bug would."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(1, 1)
        self.register_buffer("cur_nimg", torch.tensor(0))

    def training_step(self, batch, batch_idx):
        raise RuntimeError("simulated failure in a step")

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=2)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


@pytest.mark.parametrize("fails", [False, True])
def test_the_ctrl_c_handler_is_given_back_when_the_fit_ends_or_fails(tmp_path, fails):
    # During a fit, a first Ctrl-C asks for a clean stop; afterwards, even after a fit that raised, Ctrl-C
    # must interrupt again (a notebook that trains twice, the next command of a script).
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    module = FailingStep()
    if not fails:
        module.training_step = lambda batch, batch_idx: module.layer(batch).sum()
    seen = []
    probe = L.Callback()
    probe.on_train_batch_start = lambda *args: seen.append(signal.getsignal(signal.SIGINT))
    trainer = L.Trainer(
        max_steps=1,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        callbacks=[KimgCheckpoint(dirpath=str(tmp_path)), probe],
    )
    if fails:
        with pytest.raises(RuntimeError, match="simulated failure"):
            trainer.fit(module)
    else:
        trainer.fit(module)
    assert seen and seen[0] not in before  # the clean-stop handler was in place during the step
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
