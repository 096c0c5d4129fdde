"""Training-loader throughput from a folder of PNGs vs an NVlabs-style zip, and `gan-zoo data prepare`
throughput (benchmarks/README.md).

    python benchmarks/data.py [--num-images 512 --resolution 256 --batch 32 --workers 0,2 --repeats 3]
    python benchmarks/data.py --what prepare --prepare-workers 1,2 [--source-size 512x384]

Writes `--num-images` random RGB PNGs of `--resolution`² into a temp dir and the same files into a
stored (uncompressed) zip, as dataset_tool writes them, then reads them through the real path:
ImageFolderDataset -> GANDataModule.make_train_loader (StreamBatchSampler, PNG decode, [-1, 1]
float32 CHW). Per source and worker count, each repeat builds a fresh loader over `--passes`
passes of the set and times all of it, worker start-up included (a real run pays that once per
loader, i.e. per batch-size stretch; it is also reported alone as first_batch_s). The files are in the page cache (just written),
so this is decode + collate throughput, not disk throughput. The images are smooth random fields
plus noise, so their PNG size is close to a photograph's rather than incompressible noise.

Prepare: `--num-images` JPEGs (quality 90) of `--source-size` (default 512x384, about an ImageNet or
LSUN photograph) in a folder, turned into a zip at `--resolution`² with transform=center-crop
(decode, crop, Lanczos, PNG, zip write) by `prepare_dataset` with each of `--prepare-workers` worker
processes; img/s counts source images, process start-up included.

Flags: --what (loader,prepare), --num-images, --resolution, --batch (images per batch), --workers
(loader workers, comma-separated), --prepare-workers, --source-size, --repeats, --passes (passes over
the set per repeat), --csv NAME (default data; `none` = print only).
Target (the project's own, so that loading never limits training): loader img/s >= 3x the train step's img/s
at the paper configs. For scale, the speed table in NVlabs/stylegan2-ada-pytorch's README.md gives 21.6-24.2
s/kimg (41-46 img/s) for StyleGAN2-ADA on one V100 at 256².
"""

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from common import peak_memory_mb, provenance, report, summarize
from PIL import Image

from gan_zoo.data import GANDataModule, ImageFolderDataset
from gan_zoo.data.prepare import prepare_dataset


def write_images(folder: Path, count: int, resolution: int, seed: int = 0) -> list[Path]:
    """`count` PNGs: a bilinearly upsampled 16x16 random field plus mild per-pixel noise."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        coarse = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).resize((resolution, resolution), Image.BILINEAR)
        pixels = np.asarray(coarse).astype(np.int16) + rng.integers(-8, 9, (resolution, resolution, 3))
        path = folder / f"{i // 1000:05d}" / f"img{i:08d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def write_zip(zip_path: Path, folder: Path, paths: list[Path]) -> None:
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in paths:
            archive.write(path, path.relative_to(folder).as_posix())


def time_loader(datamodule: GANDataModule, num_images: int, batch: int, passes: int) -> tuple[float, int, float]:
    """(seconds, images, seconds to the first batch) for one fresh loader, worker start-up included.

    The start-up is not discarded: with workers, the first batch's wait also prefetches the next
    ones, so timing only what follows would overstate the steady rate. Enough batches (--passes)
    make the one-off start-up small; it is reported separately as first_batch_s.
    """
    num_batches = max(passes * num_images // batch, 1)
    begin = time.perf_counter()
    iterator = iter(datamodule.make_train_loader(0, batch, num_batches, rank=0, world_size=1))
    images = next(iterator)["image"].shape[0]
    first = time.perf_counter() - begin
    for item in iterator:
        images += item["image"].shape[0]
    return time.perf_counter() - begin, images, first


def write_photos(folder: Path, count: int, width: int, height: int, seed: int = 1) -> None:
    """`count` JPEGs of width x height, smooth random fields plus noise (a photograph's file size)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize((width, height), Image.BILINEAR)
        pixels = np.asarray(coarse).astype(np.int16) + rng.integers(-8, 9, (height, width, 3))
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(folder / f"{i:06d}.jpg", quality=90)


def bench_prepare(args: argparse.Namespace, tmp: Path) -> None:
    width, height = (int(v) for v in args.source_size.lower().split("x"))
    source = tmp / "photos"
    write_photos(source, args.num_images, width, height)
    for workers in (int(w) for w in args.prepare_workers.split(",")):
        timed = []
        for repeat in range(args.repeats):
            dest = tmp / f"prepared_{workers}_{repeat}.zip"
            begin = time.perf_counter()
            result = prepare_dataset(source, dest, resolution=args.resolution, transform="center-crop", workers=workers, progress=False)
            timed.append(time.perf_counter() - begin)
            zip_mib = dest.stat().st_size / 2**20
            dest.unlink()
        img_per_s, img_spread = summarize([result.written / s for s in timed])
        s_per_kimg, s_spread = summarize([1000 * s / result.written for s in timed])
        report(
            "data",
            {
                **provenance(False, "32-true"),
                "config": f"prepare workers={workers} res={args.resolution} n={args.num_images} from {args.source_size} jpeg center-crop",
                "batch": "",
                "s_per_kimg": s_per_kimg,
                "s_per_kimg_spread": s_spread,
                "img_per_s": img_per_s,
                "img_per_s_spread": img_spread,
                "peak_mem_mb": peak_memory_mb(False),
                "peak_mem_kind": "main_process_max_rss",
                "iters": result.written,
                "repeats": args.repeats,
                "source": "prepare",
                "workers": workers,
                "resolution": args.resolution,
                "source_size": args.source_size,
                "zip_mib": round(zip_mib, 1),
            },
            args.csv,
        )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--num-images", type=int, default=512)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", default="0,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--csv", default="data")
    parser.add_argument("--what", default="loader,prepare")
    parser.add_argument("--prepare-workers", default="1,2")
    parser.add_argument("--source-size", default="512x384")
    args = parser.parse_args(argv)
    what = set(args.what.split(","))
    if "prepare" in what:
        with tempfile.TemporaryDirectory(prefix="gan_zoo_prepare_bench_") as tmp:
            bench_prepare(args, Path(tmp))
    if "loader" not in what:
        return
    with tempfile.TemporaryDirectory(prefix="gan_zoo_data_bench_") as tmp:
        folder, zip_path = Path(tmp) / "images", Path(tmp) / "images.zip"
        folder.mkdir()
        begin = time.perf_counter()
        paths = write_images(folder, args.num_images, args.resolution)
        write_zip(zip_path, folder, paths)
        mean_kb = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        print(f"# wrote {len(paths)} PNGs ({mean_kb:.0f} KiB each) and a zip in {time.perf_counter() - begin:.1f} s", file=sys.stderr)
        for source, path in (("folder", folder), ("zip", zip_path)):
            for workers in (int(w) for w in args.workers.split(",")):
                begin = time.perf_counter()
                dataset = ImageFolderDataset(path, resolution=args.resolution)  # checks every header
                build_s = time.perf_counter() - begin
                datamodule = GANDataModule(dataset, resolution=args.resolution, batch_size=args.batch, num_workers=workers)
                timed = [time_loader(datamodule, args.num_images, args.batch, args.passes) for _ in range(args.repeats)]
                img_per_s, img_spread = summarize([n / s for s, n, _ in timed])
                s_per_kimg, s_spread = summarize([1000 * s / n for s, n, _ in timed])
                report(
                    "data",
                    {
                        **provenance(False, "32-true"),
                        "config": f"{source} workers={workers} res={args.resolution} n={args.num_images}",
                        "batch": args.batch,
                        "s_per_kimg": s_per_kimg,
                        "s_per_kimg_spread": s_spread,
                        "img_per_s": img_per_s,
                        "img_per_s_spread": img_spread,
                        "peak_mem_mb": peak_memory_mb(False),
                        "peak_mem_kind": "main_process_max_rss",
                        "iters": timed[0][1] // args.batch,
                        "repeats": args.repeats,
                        "source": source,
                        "workers": workers,
                        "resolution": args.resolution,
                        "mean_file_kib": round(mean_kb, 1),
                        "dataset_build_s": round(build_s, 3),
                        "first_batch_s": round(min(f for _, _, f in timed), 3),
                        "threads": torch.get_num_threads(),
                    },
                    args.csv,
                )


if __name__ == "__main__":
    main(sys.argv[1:])
