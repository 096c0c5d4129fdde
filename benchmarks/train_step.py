"""Time full training iterations of any `gan-zoo train` config (benchmarks/README.md).

    python benchmarks/train_step.py experiment=smoke/pggan data.batch_size=16 [--iters 16 ...]

Takes the same Hydra overrides as `gan-zoo train` (so `model.compile=true`,
`trainer.precision=bf16-mixed`, `trainer=ddp_sim` ... all pass through) plus its own flags:

  --warmup N     untimed iterations first (>= 1: compilation, cuDNN autotune, allocator growth)
  --iters N      iterations per timed repeat; a whole number of regularisation cycles (default 16)
  --repeats N    timed repeats; the result is the median over them, with the spread (max - min)
  --at-kimg K    put the module's progress at K kimg first (PGGAN: selects the resolution and fade);
                 default: after every fade-in, i.e. the final resolution
  --random-data  random images of the configured shape instead of the data set (when it is absent)
  --csv NAME     append to benchmarks/results/NAME.csv (default train_step; `none` = print only)
  --no-flops     skip counting FLOPs in the first warm-up iteration (they give TFLOP/s and MFU)
  --profile      run torch.profiler over the timed iterations and report the time per phase (each
                 phase's forward, backward and optimizer step; the EMA update; the rest of
                 training_step; Lightning's loop around it) to results/train_step_profile.csv, with
                 the costliest operators in results/profiles/<family>.txt (appended)

What one iteration is: `trainer.fit` runs the module's own `training_step` (every phase, lazy
regularisers on their intervals, the G_ema update, the DDP gradient all-reduce) under a Trainer made
from `cfg.trainer`, so precision, strategy and device count are those of a real run. The images are
one real batch read from the configured data set once (that read is timed and reported as
`batch_load_s`; loaders are measured by benchmarks/data.py) and kept on the device, so neither
decoding nor the host-to-device copy is in the step time. Each repeat's figure is the wall-clock
mean over its `iters` iterations, from the end of one iteration to the end of another (Lightning's
loop overhead included). With --profile, those timed iterations run under the profiler (a few
percent slower); each row says so (`profiled`).
"""

import argparse
import functools
import sys
import time
import warnings
from typing import Any

import lightning as L
import torch
from common import RESULTS_DIR, compose_config, peak_bf16_flops, peak_memory_mb, provenance, report, summarize, uses_cuda
from hydra.utils import instantiate
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from gan_zoo.training.build import build_datamodule, build_module, trainer_settings
from gan_zoo.training.threads import apply_threads


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """(our flags, the Hydra overrides): everything that is not one of our flags goes to Hydra."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--iters", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--at-kimg", type=float, default=None)
    parser.add_argument("--random-data", action="store_true")
    parser.add_argument("--csv", default="train_step")
    parser.add_argument("--no-flops", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args, overrides = parser.parse_known_args(argv)
    unknown = [o for o in overrides if o.startswith("-")]
    if unknown:
        parser.error(f"unknown flags {unknown} (Hydra overrides are key=value)")
    if args.warmup < 1 or args.iters < 1 or args.repeats < 1:
        parser.error("--warmup, --iters and --repeats must be >= 1 (the first warm-up iteration starts the clock)")
    return args, overrides


def default_at_kimg(module: L.LightningModule) -> float:
    """kimg at which a progressive schedule has finished every fade-in (0 for families without one)."""
    schedule = getattr(module, "schedule", None)
    if schedule is None or not hasattr(schedule, "lod_training_kimg"):
        return 0.0
    fades = int(schedule.resolution).bit_length() - int(schedule.lod_initial_resolution).bit_length()
    return fades * (schedule.lod_training_kimg + schedule.lod_transition_kimg)


def place_progress(module: L.LightningModule, at_kimg: float, steps: int) -> None:
    """Set the images-shown counters as if training had reached `at_kimg`, with room for `steps` more.

    step_count stays 0, so the first step re-evaluates PGGAN's schedule at cur_nimg (and resets Adam
    as a new level of detail would): the warm-up iterations absorb that.
    """
    nimg = int(round(at_kimg * 1000))
    module.cur_nimg.fill_(nimg)
    if hasattr(module, "schedule_nimg"):
        module.schedule_nimg.fill_(nimg)
    # total_kimg must not end the run early, but stay finite: plan_batches walks the steps up to it.
    module.total_nimg = nimg + (steps + 1) * module.global_batch_size()


def random_batch(keys: frozenset[str], n: int, shape: tuple[int, int, int], num_classes: int) -> dict[str, torch.Tensor]:
    """Random values for every batch key a family needs: images in [-1, 1], class / domain labels,
    label maps with `num_classes` labels and instance ids (SPADE), reference images (StarGAN v2)."""
    batch = {"image": torch.rand(n, *shape) * 2 - 1}
    classes = max(num_classes, 1)
    if "label" in keys:
        batch["label"] = torch.randint(classes, (n,))
    if "segmap" in keys:
        batch["segmap"] = torch.randint(classes, (n, *shape[1:]))
    if "instance" in keys:
        batch["instance"] = torch.randint(8, (n, *shape[1:]))
    for key in ("ref_image", "ref_image2"):
        if key in keys:
            batch[key] = torch.rand(n, *shape) * 2 - 1
    if "ref_label" in keys:
        batch["ref_label"] = torch.randint(classes, (n,))
    return batch


class InMemoryBatches(L.LightningDataModule):
    """One batch, read once from the real data set (or drawn at random), served `steps` times.

    Built inside `train_dataloader`, where the rank, the world size and the module's plan (PGGAN's
    per-resolution minibatch) are known, exactly as GANDataModule does for a real run.
    """

    def __init__(self, source: Any, steps: int, random_shape: tuple[int, int, int] | None, num_classes: int) -> None:
        super().__init__()
        self.source = source  # a GANDataModule, or None with random_shape
        self.steps = steps  # batches to serve (warm-up + timed)
        self.random_shape = random_shape  # (channels, height, width) for --random-data
        self.num_classes = num_classes  # labels drawn in [0, num_classes) for --random-data
        self.load_seconds = 0.0

    def label_counts(self) -> torch.Tensor:
        """Images per class the conditional fakes are drawn from: the data set's, or uniform for --random-data."""
        return self.source.label_counts() if self.random_shape is None else torch.ones(self.num_classes)

    def train_dataloader(self) -> "RepeatedBatch":
        module, trainer = self.trainer.lightning_module, self.trainer
        start_nimg, per_rank, _ = module.plan_batches()
        begin = time.perf_counter()
        if self.random_shape is None:
            loader = self.source.make_train_loader(start_nimg, per_rank, 1, rank=trainer.global_rank, world_size=trainer.world_size)
            batch = next(iter(loader))
        else:
            batch = random_batch(module.provides_required, per_rank, self.random_shape, self.num_classes)
        self.load_seconds = time.perf_counter() - begin
        batch = {key: value.to(module.device) for key, value in batch.items()}
        return RepeatedBatch(batch, self.steps)


class RepeatedBatch:
    """The same batch `steps` times. Not a list: Lightning would read a list as several loaders."""

    def __init__(self, batch: dict[str, torch.Tensor], steps: int) -> None:
        self.batch = batch
        self.steps = steps

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        return (self.batch for _ in range(self.steps))


class FlopCount(TorchDispatchMode):
    """Total FLOPs of the aten ops run inside it, by torch's own formulas (matmul, conv, ...).

    Not torch's FlopCounterMode: its per-module tracker breaks `autograd.grad(create_graph=True)`,
    which gradient penalties and path-length regularisers need.
    """

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


class StepTimer(L.Callback):
    """Clock at the end of every iteration (after a CUDA sync); FLOPs of the first iteration; with
    `profile`, torch.profiler from the end of the warm-up to the end of the last iteration."""

    def __init__(self, warmup: int, cuda: bool, count_flops: bool, profile: bool = False) -> None:
        self.warmup = warmup
        self.cuda = cuda
        self.count_flops = count_flops
        self.profiler: torch.profiler.profile | None = None
        if profile:
            activities = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if cuda else [])
            self.profiler = torch.profiler.profile(activities=activities)
        self.stamps: list[float] = []  # perf_counter at the end of each iteration
        self.images: list[int] = []  # global images in each iteration
        self.flops: int | None = None
        self._counter: FlopCount | None = None

    def on_train_batch_start(self, trainer: L.Trainer, module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        if batch_idx == 0 and self.count_flops:  # a warm-up iteration: the counter's overhead is not timed
            self._counter = FlopCount()
            self._counter.__enter__()

    def on_train_batch_end(self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._counter is not None:
            self._counter.__exit__(None, None, None)
            self.flops = self._counter.total
            self._counter = None
        if self.cuda:
            torch.cuda.synchronize()
        self.stamps.append(time.perf_counter())
        self.images.append(batch["image"].shape[0] * trainer.world_size)
        if len(self.stamps) == self.warmup and self.cuda:
            torch.cuda.reset_peak_memory_stats()  # steady-state peak, not compilation's
        if self.profiler is not None and len(self.stamps) == self.warmup:
            self.profiler.__enter__()

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if self.profiler is not None:
            self.profiler.__exit__(None, None, None)

    def repeat_seconds(self, iters: int, repeats: int) -> list[tuple[float, int]]:
        """(seconds, images) of each timed repeat: `iters` whole iterations after the warm-up."""
        out = []
        for r in range(repeats):
            first, last = self.warmup - 1 + r * iters, self.warmup - 1 + (r + 1) * iters
            out.append((self.stamps[last] - self.stamps[first], sum(self.images[first + 1 : last + 1])))
        return out


def spans_in_training_step(module: L.LightningModule) -> None:
    """Wrap the module's training_step in a profiler range, so that Lightning's loop around it shows."""
    step = module.training_step

    @functools.wraps(step)
    def training_step(*args: Any, **kwargs: Any) -> Any:
        with torch.profiler.record_function("training_step"):
            return step(*args, **kwargs)

    module.training_step = training_step


def phase_breakdown(timer: StepTimer, timed_iters: int) -> dict[str, float]:
    """ms per iteration of each `phase/<name>` range (GANModule.training_step), the rest of training_step
    (schedules, logging) and Lightning's loop (the wall clock outside training_step)."""
    assert timer.profiler is not None
    spans = {
        event.key: event.cpu_time_total / 1000 / timed_iters
        for event in timer.profiler.key_averages()
        if event.key.startswith("phase/") or event.key == "training_step"
    }
    wall_ms = 1000 * (timer.stamps[-1] - timer.stamps[timer.warmup - 1]) / timed_iters
    step_ms = spans.pop("training_step")
    phases = {key.removeprefix("phase/"): round(ms, 1) for key, ms in sorted(spans.items())}
    return {
        **phases,
        "training_step_rest": round(step_ms - sum(spans.values()), 1),
        "lightning_loop": round(wall_ms - step_ms, 1),
        "iteration": round(wall_ms, 1),
    }


def write_operator_table(timer: StepTimer, record: dict[str, Any], family: str) -> None:
    """Append the costliest operators (self time) to results/profiles/<family>.txt, under the run's config."""
    assert timer.profiler is not None
    sort_by = "self_cuda_time_total" if timer.cuda else "self_cpu_time_total"
    table = timer.profiler.key_averages().table(sort_by=sort_by, row_limit=25)
    path = RESULTS_DIR / "profiles" / f"{family}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write(
            f"## {record['timestamp']} {record['device']} torch {record['torch']} {record['git_sha']} {record['dtype']}\n"
            f"## {record['config']}\n## ms per iteration: {record['phase_ms']}\n{table}\n\n"
        )


def main(argv: list[str]) -> dict[str, Any] | None:
    args, overrides = parse_args(argv)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*smaller than the logging interval.*")
    cfg = compose_config(overrides)
    apply_threads(cfg.trainer)  # as gan-zoo train: trainer.threads, else $OMP_NUM_THREADS, else the cores / processes
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = build_module(cfg)
    at_kimg = default_at_kimg(module) if args.at_kimg is None else args.at_kimg
    steps = args.warmup + args.iters * args.repeats
    place_progress(module, at_kimg, steps)
    if args.random_data:
        width = int(cfg.data.resolution)  # non-square sets (SPADE Cityscapes) give width / height as aspect_ratio
        source, shape = None, (int(cfg.data.channels), int(round(width / float(cfg.data.get("aspect_ratio") or 1))), width)
    else:
        source, shape = build_datamodule(cfg), None
        source.setup("fit")  # a missing data set fails here; --random-data benchmarks without it
    classes = int(cfg.data.get("label_nc") or cfg.data.get("num_classes") or 0)  # SPADE: labels of the label maps
    data = InMemoryBatches(source, steps, shape, classes)
    cuda = uses_cuda(cfg.trainer.get("accelerator"))
    timer = StepTimer(args.warmup, cuda, count_flops=not args.no_flops and not cfg.model.get("compile", False), profile=args.profile)
    if args.profile:
        spans_in_training_step(module)
    trainer: L.Trainer = instantiate(
        trainer_settings(cfg),
        callbacks=[timer],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        max_steps=-1,
        max_epochs=1,
        reload_dataloaders_every_n_epochs=0,
        use_distributed_sampler=False,
    )
    trainer.fit(module, datamodule=data)
    if trainer.global_rank != 0:
        return None
    timed = timer.repeat_seconds(args.iters, args.repeats)
    s_per_kimg, s_spread = summarize([1000 * s / n for s, n in timed])
    img_per_s, img_spread = summarize([n / s for s, n in timed])
    record = {
        **provenance(cuda, cfg.trainer.precision),
        "config": " ".join(overrides),
        "batch": timer.images[-1],
        "s_per_kimg": s_per_kimg,
        "s_per_kimg_spread": s_spread,
        "img_per_s": img_per_s,
        "img_per_s_spread": img_spread,
        "peak_mem_mb": peak_memory_mb(cuda),
        "peak_mem_kind": "cuda_max_allocated" if cuda else "process_max_rss",
        "iters": args.iters,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "s_per_kimg_repeats": [round(1000 * s / n, 4) for s, n in timed],
        "world_size": trainer.world_size,
        "threads": torch.get_num_threads(),
        "at_kimg": at_kimg,
        "phase": module.progress_description(),
        "compile": bool(cfg.model.get("compile", False)),
        "data": "random" if args.random_data else "real",
        "batch_load_s": round(data.load_seconds, 4),
        "profiled": args.profile,
    }
    if timer.flops is not None:
        flops = timer.flops * trainer.world_size  # counted on rank 0; every rank does the same work
        flops_per_s = flops * img_per_s / timer.images[0]  # FLOPs per iteration x iterations per second
        peak = peak_bf16_flops(record["device"]) if cuda else None  # per device, so MFU is per device too
        record.update(
            gflop_per_iter=round(flops / 1e9, 3), tflops=round(flops_per_s / 1e12, 4), mfu=round(flops_per_s / trainer.world_size / peak, 4) if peak else None
        )
    report("train_step", record, args.csv)
    if args.profile:
        profile = {**record, "phase_ms": phase_breakdown(timer, args.iters * args.repeats), "family": module.family}
        report("train_step_profile", profile, None if args.csv in (None, "none") else f"{args.csv}_profile")
        if args.csv not in (None, "none"):
            write_operator_table(timer, {**profile, "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S")}, module.family)
        return profile
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
