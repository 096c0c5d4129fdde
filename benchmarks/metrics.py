"""Metric feature-extraction throughput, ours vs torch-fidelity, and the wall time of an FID (benchmarks/README.md).

    python benchmarks/metrics.py [--images 64 --resolution 32 --batches 16,64 --repeats 3 --fid-samples 2000]

Extraction: the same uint8 images (smooth random fields with noise, --resolution² px) through
torch-fidelity 0.4.0's FeatureExtractorInceptionV3 (its default: NCHW, fp32, batch 64) and through
gan-zoo's `InceptionFeatures` (BatchNorm folded, channels-last, batched TF1 resize) at each batch
size in --batches, both loading one weight file in the torch-fidelity format (a random one with
the reference's architecture: the reference weights cannot be downloaded here, and the cost does not
depend on the values). Implementations alternate within each repeat, so a busy shared machine slows
both alike; the figure is images/s (median over repeats, with the spread). Each row also reports
the largest feature difference to torch-fidelity's (same features: ~1e-6 relative).

FID: `MetricEvaluator(["fid<N>"])` end to end on --fid-samples fakes from a small generator and as
many real images of the embedded shapes set (--resolution px), real-statistics cache off: generation,
decoding, both extractions, statistics and the Fréchet distance, all timed as one wall-clock figure.

Flags: --device (cpu, cuda), --csv NAME (default metrics; `none` = print only).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import peak_memory_mb, provenance, report, summarize
from torch import Tensor, nn

from gan_zoo.data import ShapesDataset
from gan_zoo.features.extractors import InceptionFeatures, random_inception_state
from gan_zoo.features.weights import sha256_of
from gan_zoo.metrics import MetricEvaluator, MetricOptions


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batches", default="16,64")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fid-samples", type=int, default=2000)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--csv", default="metrics")
    return parser.parse_args(argv)


def test_images(count: int, resolution: int) -> Tensor:
    g = torch.Generator().manual_seed(0)
    coarse = torch.rand(count, 3, 8, 8, generator=g) * 255
    smooth = nn.functional.interpolate(coarse, size=resolution, mode="bilinear", align_corners=False)
    return (smooth + torch.randn(count, 3, resolution, resolution, generator=g) * 12).clamp(0, 255).to(torch.uint8)


def extract(fn, images: Tensor, batch: int, device: torch.device) -> tuple[Tensor, float]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.inference_mode():
        features = torch.cat([fn(images[i : i + batch].to(device)) for i in range(0, len(images), batch)])
    if device.type == "cuda":
        torch.cuda.synchronize()
    return features.cpu(), time.perf_counter() - start


class SmallGenerator(nn.Module):
    """Enough of a GANModule for the evaluator: a device, eval_fakes, and a cheap conv generator."""

    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.net = nn.Sequential(
            nn.Linear(64, 64 * 4 * 4), nn.Unflatten(1, (64, 4, 4)), nn.Upsample(scale_factor=resolution // 4), nn.Conv2d(64, 3, 3, padding=1), nn.Tanh()
        )

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def eval_fakes(self, batch: dict[str, Tensor], generator: torch.Generator | None = None) -> Tensor:
        return self.net(torch.randn(batch["image"].shape[0], 64, generator=generator).to(self.device))


def main(argv: list[str]) -> None:
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    args = parse_args(argv)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    threads = torch.get_num_threads()
    folder = Path(tempfile.mkdtemp(prefix="gan_zoo_bench_metrics_"))
    weights = folder / "weights-inception-random.pth"
    torch.save(random_inception_state(1), weights)
    digest = sha256_of(weights)
    images = test_images(args.images, args.resolution)
    theirs = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(weights)).to(device)
    ours = InceptionFeatures(weights, digest, device=device)
    batches = [int(b) for b in args.batches.split(",")]
    runs = {"torch-fidelity": (lambda x: theirs(x)[0], 64)}
    runs.update({f"gan-zoo b{b}": (lambda x: ours(x)["pool3"], b) for b in batches})
    for _name, (fn, batch) in runs.items():  # warm-up: allocator, oneDNN/cuDNN kernel choice
        extract(fn, images[: 2 * batch], batch, device)
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    features: dict[str, Tensor] = {}
    for _ in range(args.repeats):
        for name, (fn, batch) in runs.items():
            features[name], elapsed = extract(fn, images, batch, device)
            seconds[name].append(elapsed)
    reference = features["torch-fidelity"]
    base_rate = summarize([args.images / s for s in seconds["torch-fidelity"]])[0]
    for name, (_, batch) in runs.items():
        rate, spread = summarize([args.images / s for s in seconds[name]])
        report(
            "metrics",
            {
                **provenance(cuda, "32-true"),
                "config": f"inception pool3 {name} res={args.resolution} n={args.images}",
                "batch": batch,
                "s_per_kimg": 1000 / rate,
                "s_per_kimg_spread": "",
                "img_per_s": rate,
                "img_per_s_spread": spread,
                "peak_mem_mb": peak_memory_mb(cuda),
                "iters": args.images,
                "repeats": args.repeats,
                "impl": name,
                "speedup_vs_torch_fidelity": round(rate / base_rate, 3),
                "threads": threads,
                "max_abs_feature_diff": float((features[name] - reference).abs().max()),
                "feature_scale": float(reference.abs().max()),
            },
            args.csv,
        )
    if args.fid_samples:
        n = args.fid_samples
        dataset = ShapesDataset(resolution=args.resolution, num_images=n, seed=0)
        generator = SmallGenerator(args.resolution).to(device)
        options = MetricOptions(weights={"inception": str(weights)}, weights_sha256={"inception": digest}, use_cache=False, batch_size=batches[0])
        start = time.perf_counter()
        (result,) = MetricEvaluator([f"fid{n}"], options).evaluate(generator, dataset)
        elapsed = time.perf_counter() - start
        report(
            "metrics",
            {
                **provenance(cuda, "32-true"),
                "config": f"fid{n} end to end (fakes + reals) res={args.resolution}",
                "batch": batches[0],
                "s_per_kimg": elapsed / (2 * n) * 1000,
                "s_per_kimg_spread": "",
                "img_per_s": 2 * n / elapsed,
                "img_per_s_spread": "",
                "peak_mem_mb": peak_memory_mb(cuda),
                "iters": 2 * n,
                "repeats": 1,
                "impl": "gan-zoo",
                "wall_s": round(elapsed, 2),
                "fid": result.value,
                "threads": threads,
            },
            args.csv,
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main(sys.argv[1:])
