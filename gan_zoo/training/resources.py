"""Memory a run has needed so far, as the loggers show it (`memory/*` in every logged row)."""

import sys

import torch

try:
    import resource
except ImportError:  # Windows: no getrusage
    resource = None  # type: ignore[assignment]


def peak_memory_gb(device: torch.device) -> dict[str, float]:
    """The process's peak resident memory, and on CUDA the most memory PyTorch has allocated on `device`, in GB."""
    memory: dict[str, float] = {}
    if resource is not None:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        memory["memory/peak_rss_gb"] = (rss if sys.platform == "darwin" else rss * 1024) / 1e9  # bytes on macOS, KiB on Linux (getrusage(2))
    if device.type == "cuda":
        memory["memory/cuda_max_allocated_gb"] = torch.cuda.max_memory_allocated(device) / 1e9
    return memory
