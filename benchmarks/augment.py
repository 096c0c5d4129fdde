"""Throughput of the ADA augmentation pipeline (gan_zoo.augment.AugmentPipe), reported like
the other benchmarks (one JSON line per measurement and a results/ CSV row, see benchmarks/README.md).

    python benchmarks/augment.py [--resolutions 64,256 --batch 32 --preset bgc --p 0.5 --iters 5 --repeats 3]

Per resolution and mode, times `pipe(images)` on random [-1, 1] images on the chosen device:
`forward` (no autograd) and `backward` (forward + backward w.r.t. the images, as in G's step, where
D's gradient passes back through the pipe). p = 0.5 makes about 3 in 4 images take the resampling
path of the geometric stage (ADA settles between 0.1 and 0.8 on small sets). Each repeat's figure
is the mean over `iters` calls after one untimed call; the result is the median over repeats.

Flags: --resolutions (comma-separated px), --batch, --preset, --p, --iters, --repeats, --device
(cpu or cuda; default: cuda when available), --threads (CPU threads; default torch's),
--csv NAME (default augment; `none` = print only).
"""

import argparse
import os
import sys
import time

import torch
from common import peak_memory_mb, provenance, report, summarize

from gan_zoo.augment import AugmentPipe


def time_pipe(pipe: AugmentPipe, images: torch.Tensor, backward: bool, iters: int, cuda: bool) -> float:
    """Seconds per call, mean over `iters` calls after one warm-up call."""

    def call() -> None:
        if backward:
            x = images.detach().requires_grad_(True)
            pipe(x).square().mean().backward()
        else:
            with torch.no_grad():
                pipe(images)

    call()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        call()
    if cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters


def benchmark_augment(
    resolution: int,
    batch: int = 32,
    preset: str = "bgc",
    p: float = 0.5,
    backward: bool = False,
    iters: int = 5,
    repeats: int = 3,
    device: str = "cpu",
    csv: str | None = "augment",
) -> dict:
    """Measure one (resolution, mode) point, report it (JSON line + CSV row) and return the record."""
    cuda = device.startswith("cuda")
    torch.manual_seed(0)
    pipe = AugmentPipe.from_preset(preset, p=p).to(device)
    images = torch.rand(batch, 3, resolution, resolution, device=device) * 2 - 1
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    seconds = [time_pipe(pipe, images, backward, iters, cuda) for _ in range(repeats)]
    img_per_s, img_spread = summarize([batch / s for s in seconds])
    s_per_kimg, s_spread = summarize([1000 * s / batch for s in seconds])
    mode = "backward" if backward else "forward"
    record = {
        **provenance(cuda, "32"),
        "config": f"augment {preset} p={p} {mode} res={resolution}",
        "batch": batch,
        "s_per_kimg": s_per_kimg,
        "s_per_kimg_spread": s_spread,
        "img_per_s": img_per_s,
        "img_per_s_spread": img_spread,
        "peak_mem_mb": peak_memory_mb(cuda),
        "iters": iters,
        "repeats": repeats,
        "resolution": resolution,
        "mode": mode,
        "preset": preset,
        "p": p,
        "threads": torch.get_num_threads(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    report("augment", record, csv)
    return record


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="64,256")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--preset", default="bgc")
    parser.add_argument("--p", type=float, default=0.5)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--csv", default="augment")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    for resolution in (int(r) for r in args.resolutions.split(",")):
        for backward in (False, True):
            benchmark_augment(resolution, args.batch, args.preset, args.p, backward, args.iters, args.repeats, args.device, args.csv)


if __name__ == "__main__":
    main(sys.argv[1:])
