"""`gan-zoo data {prepare,check,stats} [overrides]`: get a data set ready before training.

* prepare: a downloaded data set -> the NVlabs-style zip the presets read (gan_zoo.data.prepare);
* check: walk a configured data set's files, counts per split/domain and the first problem (gan_zoo.data.check);
* stats: real-image statistics of metrics into the cache that training and `gan-zoo eval` read.

Each action is a Hydra app of its own (conf/data_<action>.yaml), so each takes overrides, --help
and --cfg job; the action is the first argument and is removed before Hydra reads the rest.
"""

import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import ConfigError
from gan_zoo.task import report_config_errors, report_user_errors

ACTIONS = {
    "prepare": "a download -> zip: gan-zoo data prepare source=cifar-10-python.tar.gz dest=data/cifar10.zip",
    "check": "counts and the first problem of a data set: gan-zoo data check data=cityscapes",
    "stats": "real statistics into the metrics cache: gan-zoo data stats data=ffhq metrics=[fid50k_full]",
}


def _usage() -> str:
    lines = ["usage: gan-zoo data {" + ",".join(ACTIONS) + "} [hydra overrides] [--help] [--cfg job]", ""]
    return "\n".join(lines + [f"  {name:<8} {text}" for name, text in ACTIONS.items()])


def _interrupted(dest: str) -> None:
    print(f"gan-zoo data prepare: interrupted; nothing was written to {dest}", file=sys.stderr)
    sys.exit(130)


def prepare(cfg: DictConfig) -> None:
    from gan_zoo.data.prepare import prepare_dataset

    for key in ("source", "dest"):
        if cfg.get(key) in (None, "", "???"):
            raise ConfigError(f"pass {key}=PATH: gan-zoo data prepare source=DOWNLOADED_FILE_OR_FOLDER dest=OUT.zip")
    options = {
        key: cfg[key]
        for key in (
            "resolution",
            "transform",
            "labels",
            "split",
            "subset",
            "max_images",
            "channels",
            "workers",
            "skip_bad",
            "overwrite",
            "compress_level",
            "progress",
        )
    }
    try:
        result = prepare_dataset(str(cfg.source), str(cfg.dest), **options)
    except KeyboardInterrupt:
        _interrupted(str(cfg.dest))
    size = f"{result.size[0]}x{result.size[1]}" if result.size else "-"
    classes = f"{result.num_classes} classes" if result.num_classes else "no labels"
    print(f"gan-zoo data prepare: {result.description}")
    print(f"gan-zoo data prepare: wrote {result.written:,} images ({size}, {result.channels} channel(s), {classes}) to {result.dest} in {result.seconds:.1f} s")
    if result.dropped:
        print(f"gan-zoo data prepare: {result.dropped:,} images were left out by transform=center-crop-wide (narrower than the output), as dataset_tool does")
    if result.skipped:
        print(f"gan-zoo data prepare: skipped {len(result.skipped):,} unreadable images (skip_bad=true):")
        for where, problem in result.skipped:
            print(f"  {where}: {problem}")


def check(cfg: DictConfig) -> None:
    from hydra.utils import instantiate

    from gan_zoo.data.check import check_built, check_domains, check_pairs
    from gan_zoo.data.prepare.run import default_workers

    if cfg.get("data") is None:
        raise ConfigError("no data set chosen: pass data=<name> (gan-zoo list shows them), e.g. gan-zoo data check data=cityscapes")
    settings = OmegaConf.to_container(cfg.data.dataset, resolve=True)
    target = str(settings.get("_target_", ""))  # type: ignore[union-attr]
    workers = default_workers() if cfg.workers is None else int(cfg.workers)
    if target.endswith(("LayoutDataset", "PairedFolderDataset")):
        report = check_pairs(settings, workers)  # type: ignore[arg-type]
    elif target.endswith("domain_folder_pairs"):
        report = check_domains(settings, workers)  # type: ignore[arg-type]
    else:
        report = check_built(lambda: instantiate(cfg.data.dataset, _convert_="all")(), f"{target.rsplit('.', 1)[-1]} at {settings.get('path', '(embedded)')}")  # type: ignore[union-attr]
    print(f"gan-zoo data check: {report.kind}")
    for name, count in report.counts.items():
        print(f"  {name}: {count:,}")
    if report.problem:
        from gan_zoo.data.errors import DataError

        raise DataError(report.problem)
    print("gan-zoo data check: no problem found")


def stats(cfg: DictConfig) -> None:
    from gan_zoo.eval import pick_device
    from gan_zoo.metrics import MetricEvaluator, MetricOptions
    from gan_zoo.training.build import build_datamodule

    callback = (cfg.get("callbacks") or {}).get("metrics") or {}
    names = cfg.metrics if cfg.get("metrics") is not None else (callback.get("names") or ["fid50k_full"])
    names = [str(m) for m in (names if OmegaConf.is_list(names) or isinstance(names, list) else [names])]
    if not names:
        raise ConfigError("metrics=[] names no metric; pass e.g. metrics=[fid50k_full,kid50k_full] (gan-zoo list shows them)")

    def fallback(key: str) -> dict[str, str | None]:
        own, trained = dict(cfg.get(key) or {}), dict(callback.get(key) or {})
        return {name: own.get(name) or trained.get(name) for name in {*own, *trained}}

    options = MetricOptions(
        weights=fallback("weights"),
        weights_sha256=fallback("weights_sha256"),
        cache_dir=cfg.cache_dir or callback.get("cache_dir"),
        batch_size=int(cfg.batch_size),
        num_workers=int(cfg.num_workers),
        progress=True,
    )
    evaluator = MetricEvaluator(names, options)
    datamodule = build_datamodule(cfg)
    datamodule.setup("validate")
    dataset = datamodule.dataset
    print(
        f"gan-zoo data stats: {type(dataset).__name__} at {getattr(dataset, 'path', '(embedded)')}: {len(dataset):,} images; cache {evaluator.cache.directory}"
    )
    for name, count, hit in evaluator.real_statistics(dataset, pick_device(str(cfg.device))):
        state = "no cached real statistics (nothing to do)" if hit is None else f"{count:,} real images, {'already cached' if hit else 'computed and cached'}"
        print(f"  {name}: {state}")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="data_prepare")
def _prepare_main(cfg: DictConfig) -> None:
    with report_user_errors("data prepare"):
        prepare(cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="data_check")
def _check_main(cfg: DictConfig) -> None:
    with report_user_errors("data check"):
        check(cfg)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="data_stats")
def _stats_main(cfg: DictConfig) -> None:
    with report_user_errors("data stats"):
        stats(cfg)


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return
    if args[0] not in ACTIONS:
        print(f"gan-zoo data: unknown action {args[0]!r}; choose one of: {', '.join(ACTIONS)}", file=sys.stderr)
        print(_usage(), file=sys.stderr)
        sys.exit(2)
    action = args.pop(0)
    sys.argv = [sys.argv[0], *args]
    with report_config_errors(f"data {action}"):
        {"prepare": _prepare_main, "check": _check_main, "stats": _stats_main}[action]()
