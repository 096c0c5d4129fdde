"""The few collective operations the metrics need, no-ops without an initialised process group."""

import torch
import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_true(flag: bool, device: torch.device) -> bool:
    """Whether `flag` holds on every rank (so that all ranks take the same branch)."""
    if rank_and_world()[1] == 1:
        return flag
    value = torch.tensor([int(flag)], device=device if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item())


def blocks_of_rank(total: int, block: int, rank: int, world: int) -> list[range]:
    """This rank's blocks of the global sample indices [0, total): blocks rank, rank+world, ...

    Blocks have a fixed size independent of the world size, and what is generated for a block
    depends only on its index, so 1 and N processes produce the same samples.
    """
    starts = range(rank * block, total, world * block)
    return [range(s, min(s + block, total)) for s in starts]
