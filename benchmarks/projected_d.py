"""Cost of the projected discriminator per feature network (Projected GAN / StyleGAN-XL),
reported like the other benchmarks (benchmarks/README.md).

    python benchmarks/projected_d.py [--backbones tf_efficientnet_lite0,deit_base_distilled_patch16_224
                                      --resolutions 16,32 --batch 8 --iters 3 --repeats 3]

Per backbone and input resolution, times one projected discriminator with only that backbone
(StyleGAN-XL's layout: per-backbone normalisation, DiffAugment, resize to 224, frozen trunk, random
CCM/CSM, four conditional mini-discriminators on 1000 classes) in the two ways training uses it:
`forward` (no autograd: D on G's detached fakes is forward + backward into the mini-discs only, so this
is the floor) and `backward` (forward + backward to the input images, as in G's step, where the
gradient passes back through the frozen trunk). Random frozen trunks (`pretrained_backbones=false`)
cost the same as the pretrained ones. Each repeat's figure is the mean over `iters` calls after one
untimed call; the result is the median over repeats.

Flags: --backbones, --resolutions, --batch, --iters, --repeats, --device (cpu or cuda; default: cuda
when available), --threads, --csv NAME (default projected_d; `none` = print only).
"""

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F
from common import peak_memory_mb, provenance, report, summarize

from gan_zoo.models.projected_gan.discriminator import stylegan_xl_discriminator

CLASSES = 1000


def time_discriminator(D: torch.nn.Module, images: torch.Tensor, c: torch.Tensor, backward: bool, iters: int, cuda: bool) -> float:
    """Seconds per call, mean over `iters` calls after one warm-up call."""

    def call() -> None:
        if backward:
            x = images.detach().requires_grad_(True)
            sum(logits.mean() for logits in D(x, c)).backward()
        else:
            with torch.no_grad():
                D(images, c)

    call()
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        call()
    if cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iters


def benchmark_backbone(
    backbone: str,
    resolution: int,
    batch: int = 8,
    backward: bool = False,
    iters: int = 3,
    repeats: int = 3,
    device: str = "cpu",
    csv: str | None = "projected_d",
) -> dict:
    """Measure one (backbone, resolution, mode) point, report it (JSON line + CSV row) and return the record."""
    cuda = device.startswith("cuda")
    torch.manual_seed(0)
    D = stylegan_xl_discriminator(CLASSES, pretrained_backbones=False, backbones=(backbone,)).to(device).train()
    images = torch.rand(batch, 3, resolution, resolution, device=device) * 2 - 1
    c = F.one_hot(torch.randint(CLASSES, (batch,)), CLASSES).float().to(device)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    seconds = [time_discriminator(D, images, c, backward, iters, cuda) for _ in range(repeats)]
    img_per_s, img_spread = summarize([batch / s for s in seconds])
    s_per_kimg, s_spread = summarize([1000 * s / batch for s in seconds])
    mode = "backward" if backward else "forward"
    record = {
        **provenance(cuda, "32"),
        "config": f"projected D {backbone} {mode} res={resolution} (224 px trunk input)",
        "batch": batch,
        "s_per_kimg": s_per_kimg,
        "s_per_kimg_spread": s_spread,
        "img_per_s": img_per_s,
        "img_per_s_spread": img_spread,
        "peak_mem_mb": peak_memory_mb(cuda),
        "iters": iters,
        "repeats": repeats,
        "backbone": backbone,
        "resolution": resolution,
        "mode": mode,
        "trainable_params": sum(p.numel() for p in D.parameters() if p.requires_grad),
        "threads": torch.get_num_threads(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    report("projected_d", record, csv)
    return record


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbones", default="tf_efficientnet_lite0,deit_base_distilled_patch16_224")
    parser.add_argument("--resolutions", default="16,32")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--csv", default="projected_d")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    csv = None if args.csv == "none" else args.csv
    for backbone in args.backbones.split(","):
        for resolution in (int(r) for r in args.resolutions.split(",")):
            for backward in (False, True):
                benchmark_backbone(backbone, resolution, args.batch, backward, args.iters, args.repeats, args.device, csv)


if __name__ == "__main__":
    main(sys.argv[1:])
