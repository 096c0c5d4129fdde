"""SPADE's parameter-free sync batch norm on two gloo processes equals batch norm on the global batch.

Each process holds half of one fixed batch. Outputs, input gradients of the summed per-process losses
(what DDP's gradient all-reduce optimises) and the running statistics must equal nn.BatchNorm2d's on
the whole batch in one process.
"""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from gan_zoo.layers.spade_norm import ParamFreeSyncBatchNorm

CHANNELS = 3


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, CHANNELS, 5, 5, generator=g, dtype=torch.float64) * 3 + 1
    weights = torch.randn(4, CHANNELS, 5, 5, generator=g, dtype=torch.float64)  # makes every output matter differently
    return x, weights


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        x, weights = _batch()
        half = slice(2 * rank, 2 * rank + 2)
        mine = x[half].clone().requires_grad_(True)
        norm = ParamFreeSyncBatchNorm(CHANNELS).double().train()
        y = norm(mine)
        (y * weights[half]).sum().backward()
        torch.save({"y": y.detach(), "grad": mine.grad, "mean": norm.running_mean, "var": norm.running_var}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_two_processes_normalise_with_the_global_batch_statistics(tmp_path):
    x, weights = _batch()
    reference = nn.BatchNorm2d(CHANNELS, affine=False).double().train()
    whole = x.clone().requires_grad_(True)
    y = reference(whole)
    (y * weights).sum().backward()
    out = str(tmp_path / "sync")
    mp.start_processes(_worker, args=(_free_port(), out), nprocs=2, start_method="spawn")
    ranks = [torch.load(f"{out}.{rank}") for rank in (0, 1)]
    assert torch.allclose(torch.cat([r["y"] for r in ranks]), y.detach(), atol=1e-12)
    assert torch.allclose(torch.cat([r["grad"] for r in ranks]), whole.grad, atol=1e-12)
    for r in ranks:
        assert torch.allclose(r["mean"], reference.running_mean, atol=1e-12)
        assert torch.allclose(r["var"], reference.running_var, atol=1e-12)
    # One process alone would normalise with its own half's statistics: a different output.
    alone = nn.BatchNorm2d(CHANNELS, affine=False).double().train()(x[:2])
    assert not torch.allclose(alone, ranks[0]["y"])
