"""SPADE's parameter-free sync batch norm on two gloo processes equals the synchronised batch norm's
formula on the global batch.

Each process holds half of one fixed batch. Outputs, input gradients of the summed per-process losses
(what DDP's gradient all-reduce optimises) and the running statistics must equal the formula's on the
whole batch in one process: inverse std clamp(biased variance, min=eps) ** -0.5 (one channel has a
variance below eps, where `+ eps` would differ), running variance unbiased, no batch counting.
"""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gan_zoo.layers.spade_norm import ParamFreeSyncBatchNorm

CHANNELS = 3


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, CHANNELS, 5, 5, generator=g, dtype=torch.float64) * 3 + 1
    x[:, 1] = 0.5 + 1e-3 * torch.randn(4, 5, 5, generator=g, dtype=torch.float64)  # variance ~1e-6 < eps
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
        torch.save(
            {"y": y.detach(), "grad": mine.grad, "mean": norm.running_mean, "var": norm.running_var, "batches": norm.num_batches_tracked}, f"{out}.{rank}"
        )
        dist.barrier()  # both ranks done before either tears the group down
    finally:
        dist.destroy_process_group()


def _reference(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(output, batch mean, unbiased batch variance) on the whole batch, from the formula."""
    mean = x.mean((0, 2, 3))
    biased = (x - mean[None, :, None, None]).square().mean((0, 2, 3))
    n = x.numel() // x.shape[1]
    return (x - mean[None, :, None, None]) * (biased.clamp(min=eps) ** -0.5)[None, :, None, None], mean, biased * n / (n - 1)


def test_two_processes_normalise_with_the_global_batch_statistics(tmp_path):
    x, weights = _batch()
    whole = x.clone().requires_grad_(True)
    y, mean, var = _reference(whole)
    (y * weights).sum().backward()
    out = str(tmp_path / "sync")
    mp.start_processes(_worker, args=(_free_port(), out), nprocs=2, start_method="spawn")
    ranks = [torch.load(f"{out}.{rank}") for rank in (0, 1)]
    assert torch.allclose(torch.cat([r["y"] for r in ranks]), y.detach(), atol=1e-12)
    assert torch.allclose(torch.cat([r["grad"] for r in ranks]), whole.grad, atol=1e-12)
    for r in ranks:
        assert torch.allclose(r["mean"], 0.1 * mean.detach(), atol=1e-12)
        assert torch.allclose(r["var"], 0.9 + 0.1 * var.detach(), atol=1e-12)
        assert int(r["batches"]) == 0
    # One process alone would normalise with its own half's statistics: a different output.
    alone = _reference(x[:2])[0]
    assert not torch.allclose(alone, ranks[0]["y"])
