"""The train step with 1 vs 2 processes, and GANDDPStrategy vs Lightning's stock DDP (benchmarks/README.md).

    python benchmarks/ddp.py experiment=smoke/pggan data.batch_size=16 [--iters 8 --repeats 3 ...]

Runs benchmarks/train_step.py once per variant in a subprocess (Lightning launches the second
rank by re-running that script), with the same Hydra overrides and the same *global* batch, so
img/s compare per image:

  1proc               one process (on CPU with all cores' threads, torch's default)
  1proc_1thread       CPU only: one process limited to one thread, what each rank of a 2-process
                      run gets on a 2-core machine (Lightning sets OMP_NUM_THREADS = cores / ranks)
  2proc_gan_ddp       two processes, GANDDPStrategy: one flattened all-reduce per phase (ours)
  2proc_lightning_ddp two processes, Lightning's `ddp_find_unused_parameters_true`: the module is
                      wrapped in DistributedDataParallel, whose reducer all-reduces in buckets during
                      every backward. GANModule still averages by hand when world_size > 1, so this
                      variant pays both collectives (the gradients end up averaged twice, equal to
                      once since they were already equal): it measures the reducer's extra cost, not a
                      training-correct alternative.

Scaling efficiency = img/s(2 processes) / (2 x img/s(1proc)); the GPU target (benchmarks/README.md, "Reading
them") is >= 1.8x one process, i.e. >= 0.9. On CPU the 2 processes share the cores the single process already
used, so expect about 0.5 there; `1proc_1thread` shows how much of a rank's time is compute vs communication.

Flags: --warmup/--iters/--repeats as train_step.py (defaults 2/8/3), --variants a,b (default: all
that apply), --csv NAME (default ddp; `none` = print only). GPU variants (trainer=gpu / trainer=ddp
with devices=2, NCCL) are used when at least 2 CUDA devices are visible, CPU gloo variants otherwise.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from common import report

TRAIN_STEP = Path(__file__).resolve().parent / "train_step.py"

CPU_VARIANTS = {
    "1proc": (["trainer=cpu"], {}),
    "1proc_1thread": (["trainer=cpu"], {"OMP_NUM_THREADS": "1"}),
    "2proc_gan_ddp": (["trainer=ddp_sim"], {}),
    "2proc_lightning_ddp": (["trainer=cpu", "trainer.devices=2", "+trainer.strategy=ddp_find_unused_parameters_true"], {}),
}
GPU_VARIANTS = {
    "1proc": (["trainer=gpu"], {}),
    "2proc_gan_ddp": (["trainer=ddp", "trainer.devices=2"], {}),
    "2proc_lightning_ddp": (["trainer=gpu", "trainer.devices=2", "+trainer.strategy=ddp_find_unused_parameters_true"], {}),
}


def run_variant(overrides: list[str], variant: list[str], env: dict[str, str], args: argparse.Namespace) -> dict:
    """train_step.py's JSON record for the base overrides plus the variant's (the variant wins)."""
    command = [
        sys.executable,
        str(TRAIN_STEP),
        *overrides,
        *variant,
        "--csv",
        "none",
        "--no-flops",
        "--warmup",
        str(args.warmup),
        "--iters",
        str(args.iters),
        "--repeats",
        str(args.repeats),
    ]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    lines = [line for line in result.stdout.splitlines() if line.startswith('{"bench": "train_step"')]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return json.loads(lines[-1])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iters", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default=None, help="comma-separated subset of the variants, in this order")
    parser.add_argument("--csv", default="ddp")
    args, overrides = parser.parse_known_args(argv)
    variants = GPU_VARIANTS if torch.cuda.device_count() >= 2 else CPU_VARIANTS
    names = args.variants.split(",") if args.variants else list(variants)
    results = {}
    for name in names:
        variant, env = variants[name]
        results[name] = run_variant(overrides, variant, env, args)
        print(f"# {name}: {results[name]['img_per_s']:.2f} img/s", file=sys.stderr, flush=True)
    base = results.get("1proc")
    for name, record in results.items():
        speedup = record["img_per_s"] / base["img_per_s"] if base else None
        row = {
            key: record[key]
            for key in (
                "device",
                "torch",
                "git_sha",
                "dtype",
                "batch",
                "s_per_kimg",
                "s_per_kimg_spread",
                "img_per_s",
                "img_per_s_spread",
                "peak_mem_mb",
                "iters",
                "repeats",
                "world_size",
                "threads",
            )
        }
        row.update(
            config=" ".join(overrides),
            variant=name,
            env=variants[name][1],
            s_per_kimg_repeats=record["s_per_kimg_repeats"],
            speedup_vs_1proc=round(speedup, 4) if speedup else None,
            scaling_efficiency=round(speedup / record["world_size"], 4) if speedup else None,
        )
        report("ddp", row, args.csv)


if __name__ == "__main__":
    main(sys.argv[1:])
