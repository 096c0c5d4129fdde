"""What every benchmark shares: the Hydra config, the device and dtype, provenance, and the output.

Each measurement is printed as one JSON line (keys `s_per_kimg`, `img_per_s`, `peak_mem_mb`,
`iters`, `device`, `dtype` at least) and appended as one row to `benchmarks/results/<name>.csv`,
so a run on another machine adds rows instead of replacing them (benchmarks/README.md).
"""

import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from gan_zoo.config_dir import CONFIG_DIR

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"

# The fixed CSV columns; anything benchmark-specific goes into the JSON `extra` column, so rows
# from different versions of a script still line up under one header.
CSV_COLUMNS = (
    "timestamp",
    "device",
    "torch",
    "git_sha",
    "config",
    "batch",
    "dtype",
    "s_per_kimg",
    "s_per_kimg_spread",
    "img_per_s",
    "img_per_s_spread",
    "peak_mem_mb",
    "iters",
    "repeats",
    "extra",
)

# Dense bf16 tensor-core peak FLOP/s for MFU, from NVIDIA's H100 / H200 / A100 datasheets (half their "with sparsity"
# figures: H100 SXM 1979, H100 PCIe 1513, H200 1979, A100 624 TFLOPS); matched against torch.cuda.get_device_name().
_PEAK_BF16_FLOPS = (("H100 PCIe", 756e12), ("H100", 989e12), ("H200", 989e12), ("A100", 312e12))


def compose_config(overrides: Sequence[str]) -> DictConfig:
    """The `gan-zoo train` config for these overrides, with the run directory in a fresh temp dir.

    `paths.output_dir` normally comes from Hydra's runtime (`${hydra:...}`), which compose() without
    the hydra node cannot resolve; a benchmark writes nothing there, so any empty dir will do.
    """
    overrides = list(overrides)
    if not any(o.split("=", 1)[0].lstrip("+~") == "paths.output_dir" for o in overrides):
        overrides.append(f"paths.output_dir={tempfile.mkdtemp(prefix='gan_zoo_bench_')}")
    GlobalHydra.instance().clear()  # compose may be called more than once per process
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=False)


def uses_cuda(accelerator: str | None) -> bool:
    """Whether a trainer with this `accelerator` setting will run on a CUDA device."""
    return torch.cuda.is_available() and str(accelerator or "auto") in ("auto", "gpu", "cuda")


def device_name(cuda: bool) -> str:
    """A name that identifies the hardware in a results table (GPU model, or CPU model and cores)."""
    if cuda:
        return torch.cuda.get_device_name(0)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as file:
            model = next((line.split(":", 1)[1].strip() for line in file if line.startswith("model name")), model)
    except OSError:
        pass
    return f"cpu: {model} x{os.cpu_count()}"


def dtype_name(precision: Any) -> str:
    """Lightning's `trainer.precision` setting as a short dtype label."""
    names = {
        "32": "fp32",
        "32-true": "fp32",
        "64-true": "fp64",
        "bf16-mixed": "bf16-mixed",
        "16-mixed": "fp16-mixed",
        "bf16-true": "bf16",
        "16-true": "fp16",
        "transformer-engine": "fp8-te",
    }
    return names.get(str(precision), str(precision))


def peak_bf16_flops(name: str) -> float | None:
    """Dense bf16 peak of a known GPU (for MFU), None for CPUs and unknown devices."""
    return next((flops for key, flops in _PEAK_BF16_FLOPS if key in name), None)


def git_sha() -> str:
    """Short commit of the checkout, with `-dirty` when tracked files differ from it ('unknown' without git)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BENCH_DIR, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha


def peak_memory_mb(cuda: bool) -> float:
    """Peak CUDA memory allocated by tensors (since the last reset) or, on CPU, the process's peak RSS."""
    if cuda:
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def summarize(values: Sequence[float]) -> tuple[float, float]:
    """(median, spread = max - min) over repeats: robust to one disturbed repeat on a shared machine."""
    return statistics.median(values), max(values) - min(values)


def report(bench: str, record: dict[str, Any], csv_name: str | None) -> None:
    """Print `record` as one JSON line and append it to results/<csv_name>.csv (None or "none": print only).

    `record` holds at least the CSV columns except timestamp/extra; its other keys go to `extra`.
    """
    record = {"bench": bench, "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
    print(json.dumps(record), flush=True)
    if csv_name in (None, "none"):
        return
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{csv_name}.csv"
    extra = {k: v for k, v in record.items() if k not in CSV_COLUMNS and k != "bench"}
    row = {column: record.get(column, "") for column in CSV_COLUMNS}
    row["extra"] = json.dumps(extra, sort_keys=True)
    for key in ("s_per_kimg", "s_per_kimg_spread", "img_per_s", "img_per_s_spread", "peak_mem_mb"):
        if isinstance(row[key], float):
            row[key] = f"{row[key]:.4g}"
    new = not path.exists()
    with path.open("a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def provenance(cuda: bool, precision: Any) -> dict[str, Any]:
    """The columns that say where and how a number was measured."""
    return {"device": device_name(cuda), "torch": torch.__version__, "git_sha": git_sha(), "dtype": dtype_name(precision)}
