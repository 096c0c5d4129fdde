"""StyleGAN2's path-length regulariser (Karras et al. 2020, §3.2 and §B; ADA `training/loss.py`
`StyleGAN2Loss`), used by StyleGAN2/3 and StyleGAN-XL.

J_wᵀy for y ~ N(0, 1/(H·W)) per pixel, ‖·‖ averaged over the ws, and its squared deviation from a
running mean `pl_mean` that already includes this batch. The gradient also flows through the batch's
mean length in that running mean, as in the official code (TF `training/loss.py`
G_logistic_ns_pathreg, ADA: `pl_mean.lerp(pl_lengths.mean(), pl_decay)`, not detached): the
gradient gains -decay·mean(2(l - new_mean))·∇mean(l).
"""

import torch


def path_lengths(images: torch.Tensor, ws: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """√(mean over ws of ‖∂Σ(images·noise)/∂w‖²) per sample; `noise` ~ N(0, 1)/√(H·W), shaped like images."""
    if noise.shape != images.shape:
        raise ValueError(f"path-length noise {list(noise.shape)} must be shaped like the images {list(images.shape)}")
    (grads,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    return grads.square().sum(dim=2).mean(dim=1).sqrt()


def path_length_penalty(
    lengths: torch.Tensor,  # [N] path lengths of this batch
    pl_mean: torch.Tensor,  # running mean before this batch
    decay: float,  # weight of this batch in the running mean
    batch_mean: torch.Tensor | None = None,  # mean length (over all processes), with or without grad; None: lengths.mean()
) -> tuple[torch.Tensor, torch.Tensor]:
    """((lengths - new_mean)² per sample, new_mean) with new_mean = lerp(pl_mean, mean length, decay).

    new_mean carries the batch mean's gradient (detach it before storing it as the running mean).
    """
    batch_mean = lengths.mean() if batch_mean is None else batch_mean
    new_mean = pl_mean.lerp(batch_mean, decay)
    return (lengths - new_mean).square(), new_mean


def running_path_length_penalty(lengths: torch.Tensor, pl_mean: torch.Tensor, decay: float, world_size: int) -> torch.Tensor:
    """path_length_penalty's per-sample penalty; the running-mean buffer `pl_mean` is updated in place.

    Over DDP the new mean's value uses all processes' batch mean (one running mean, as one process
    would keep it) and its gradient this process's mean (as each official process has).
    """
    batch_mean = lengths.mean()  # not detached: the official gradient also flows through the new running mean
    if world_size > 1:
        global_mean = batch_mean.detach().clone()
        torch.distributed.all_reduce(global_mean)
        batch_mean = batch_mean + (global_mean / world_size - batch_mean).detach()
    penalty, new_mean = path_length_penalty(lengths, pl_mean, decay, batch_mean)
    pl_mean.copy_(new_mean.detach())
    return penalty
