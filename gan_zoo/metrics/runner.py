"""MetricEvaluator: computes a list of named metrics on a GANModule's G_ema and a data set.

The one code path behind the training callback and `gan-zoo eval`. Fakes and reals are sharded
over DDP ranks (`streams`), features gathered exactly (`bank.FeatureBank`), real statistics cached
on disk (`cache`). Fakes are generated once per (extractor, count) and shared by the metrics that
need them (e.g. fid50k_full and kid50k_full). The module is evaluated in eval mode, without
gradients and without moving the caller's RNG streams, and left in the mode it was in.
"""

import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import MetricError
from gan_zoo.features import weights
from gan_zoo.features.extractors import RFID_SEED, InceptionFeatures, VGG16Features
from gan_zoo.features.nvidia_vgg16 import NvidiaLPIPS, NvidiaVGG16Features
from gan_zoo.features.torchscript_files import is_nvidia_module_file
from gan_zoo.metrics.bank import FeatureBank
from gan_zoo.metrics.cache import RealStatsCache
from gan_zoo.metrics.cards import protocol_card
from gan_zoo.metrics.distributed import all_true, rank_and_world
from gan_zoo.metrics.fingerprint import dataset_fingerprint
from gan_zoo.metrics.frechet import mean_cov
from gan_zoo.metrics.kinds import MetricSpec, metric_kind, parse_metric
from gan_zoo.metrics.streams import CLASS_DRAWS, conditions_by_class, fake_blocks, real_blocks


@dataclass
class MetricOptions:
    weights: dict[str, str | None] = field(default_factory=dict)  # explicit paths by key (weights.WEIGHT_FILES, ls_classifiers, segmenter; None: cache)
    weights_sha256: dict[str, str | None] = field(default_factory=dict)  # expected hashes replacing the reference ones (test weights)
    cache_dir: str | None = None  # real-statistics cache; None: $GAN_ZOO_CACHE/metrics or ~/.cache/gan_zoo/metrics
    use_cache: bool = True  # false: recompute real statistics every time and write nothing
    batch_size: int = 64  # images per extractor forward pass (speed and memory only)
    sample_block: int = 32  # samples per seeded block: part of the protocol (another value draws other fakes); fixed over DDP world sizes
    num_workers: int = 0  # data loader workers for the real images
    seed: int = 0  # seeds the fakes' latents and the conditioning order; same seed, same samples
    real_mirror: bool = False  # include x-flipped reals (the references do not)
    channels_last: bool = True  # NHWC extractor convolutions (faster on CPU and tensor cores)
    progress: bool = False  # a progress bar per stage (reals, fakes) on stderr: images embedded / total with an ETA (rank 0)


@dataclass
class MetricResult:
    name: str
    values: dict[str, float]  # e.g. {"fid50k_full": 3.1} or {"pr50k3_full_precision": .., "pr50k3_full_recall": ..}
    card: dict[str, Any]
    seconds: float

    @property
    def value(self) -> float:
        return next(iter(self.values.values()))


@contextlib.contextmanager
def evaluation_mode(module: torch.nn.Module) -> Iterator[None]:
    """eval() + no_grad + a forked RNG, then every sub-module's training flag as it was."""
    flags = [(m, m.training) for m in module.modules()]
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            module.eval()
            yield
    finally:
        for m, flag in flags:
            m.training = flag


class MetricEvaluator:
    def __init__(
        self,
        metrics: list[str],  # metric names (names.parse_metric)
        options: MetricOptions | None = None,  # weights, cache, batch, seed
        distance: Any = None,  # PPL distance module (images [-1,1] x2 -> [N]); None: LPIPS VGG from the weight files
        attribute_classifiers: Any = None,  # linear separability classifiers (images -> logits [N, A]); None: from weights.ls_classifiers
    ) -> None:
        self.specs = [parse_metric(name) for name in metrics]
        self.options = options or MetricOptions()
        self.cache = RealStatsCache(self.options.cache_dir, enabled=self.options.use_cache)
        self._networks: dict[str, Any] = {}
        self._distance = distance
        self.injected_distance = distance  # as given, for family kinds that take it in place of their own distance network
        self.attribute_classifiers = attribute_classifiers
        self._device: torch.device | None = None

    # ---- set-up and checks -------------------------------------------------------------------

    def network(self, name: str, device: torch.device, build: Callable[[], Any]) -> Any:
        """The network called `name` on `device`, built by `build` on first use and kept: the reference
        extractors, and the networks of family metric kinds (metrics.kinds), shared by their check,
        describe and compute."""
        if self._device != device:
            self._networks, self._device = {}, device
        if name not in self._networks:
            self._networks[name] = build()
        return self._networks[name]

    def extractor(self, name: str, device: torch.device) -> Any:
        return self.network(name, device, lambda: self._reference_extractor(name, device))

    def _reference_extractor(self, name: str, device: torch.device) -> Any:
        opts = self.options
        if name == "inception":
            return InceptionFeatures(opts.weights.get("inception"), opts.weights_sha256.get("inception"), device=device, channels_last=opts.channels_last)
        if name == "random_inception":
            return InceptionFeatures(random_seed=RFID_SEED, device=device, channels_last=opts.channels_last)
        if name == "vgg16":
            path = weights.resolve(weights.VGG16, opts.weights.get("vgg16"), opts.weights_sha256.get("vgg16"))
            if is_nvidia_module_file(path):  # NVIDIA's reference file, run as is
                return NvidiaVGG16Features(path, device=device)
            return VGG16Features(path, opts.weights_sha256.get("vgg16"), device=device, channels_last=opts.channels_last)
        raise KeyError(f"no reference extractor {name!r}; a family metric kind builds its own with network()")

    def distance(self, device: torch.device) -> Any:
        if self._distance is None:
            from gan_zoo.features.lpips import LPIPSVGG

            opts = self.options
            vgg = weights.resolve(weights.VGG16, opts.weights.get("vgg16"), opts.weights_sha256.get("vgg16"))
            if is_nvidia_module_file(vgg):  # NVIDIA's file holds the LPIPS calibration: no vgg.pth needed
                self._distance = NvidiaLPIPS(vgg)
            else:
                self._distance = LPIPSVGG(vgg, opts.weights.get("lpips_vgg"), opts.weights_sha256.get("vgg16"), opts.weights_sha256.get("lpips_vgg"))
        return self._distance.to(device) if isinstance(self._distance, torch.nn.Module) else self._distance

    def num_reals(self, spec: MetricSpec, dataset: MirroredDataset) -> int:
        available = len(dataset) * (2 if self.options.real_mirror else 1)
        if spec.num_real is None:
            return available
        if spec.num_real_is_cap:
            return min(spec.num_real, available)
        if spec.num_real > available:
            suggestion = f"{spec.kind}{spec.num_gen // 1000}k_full" if spec.num_gen % 1000 == 0 else f"{spec.kind}{spec.num_gen}_full"
            raise MetricError(
                f"metric {spec.name} needs {spec.num_real:,} real images, but the data set has {available:,}; "
                f"use {suggestion} (all reals) or a count of at most {available:,} (e.g. {spec.kind}{available})"
            )
        return spec.num_real

    def check(self, module: Any, dataset: MirroredDataset, device: torch.device | None = None) -> None:
        """Fail now (before training or sampling) on anything that would fail later: names, counts, model, weights.

        Building the networks draws their default initialisation from the global RNG; a forked RNG
        keeps that from shifting the training run's random stream.
        """
        device = device or module.device
        with torch.random.fork_rng(devices=[]):
            self._check(module, dataset, device)

    def _check(self, module: Any, dataset: MirroredDataset, device: torch.device) -> None:
        for spec in self.specs:
            metric_kind(spec.kind).check(self, spec, module, dataset, device)

    # ---- evaluation ----------------------------------------------------------------------------

    def evaluate(self, module: Any, dataset: MirroredDataset) -> list[MetricResult]:
        self.check(module, dataset)
        self._fakes: dict[tuple[str, int], dict[str, Tensor]] = {}
        self._reals: dict[tuple[str, str, int, str], tuple[dict[str, Tensor], bool]] = {}
        self.family_memo: dict[Any, Any] = {}  # family metric kinds keep what several of their metrics share (one evaluate() call)
        self._fingerprint = dataset_fingerprint(dataset)
        results = []
        with evaluation_mode(module):
            for spec in self.specs:
                start = time.perf_counter()
                kind = metric_kind(spec.kind)
                values, extra = kind.compute(self, spec, module, dataset)
                conditioning = {"fake_labels": CLASS_DRAWS} if conditions_by_class(dataset) else {}
                card = protocol_card(
                    spec,
                    kind.describe(self, spec, module.device),
                    {"seed": self.options.seed, "sample_block": self.options.sample_block, **conditioning, **extra},
                )
                results.append(MetricResult(spec.name, values, card, time.perf_counter() - start))
        return results

    def real_statistics(self, dataset: MirroredDataset, device: torch.device) -> list[tuple[str, int, bool | None]]:
        """Fill the real-statistics cache for every metric with a cached real side (`gan-zoo data stats`).

        The entries are exactly those `evaluate` looks up (same key: data set fingerprint, count,
        extractor and weights hash, layer), so a later run or `gan-zoo eval` on the same data finds
        them. Returns (metric, real images, cache hit) per metric; None for metrics whose reals are
        not cached (IS, PPL, the families' own metrics).
        """
        self._reals = {}
        self._fingerprint = dataset_fingerprint(dataset)
        done: list[tuple[str, int, bool | None]] = []
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            for spec in self.specs:
                kind = metric_kind(spec.kind)
                if kind.features is None or kind.real_side is None:
                    done.append((spec.name, 0, None))
                    continue
                count = self.num_reals(spec, dataset)
                _, hit = self._real(*kind.features, count, kind.real_side, dataset, device)
                done.append((spec.name, count, hit))
        return done

    def fake_features(self, spec: MetricSpec, module: Any, dataset: MirroredDataset) -> Tensor:
        """The fakes' features at the layer of the spec's kind (`features`), shared by every kind that reads them."""
        extractor, layer = metric_kind(spec.kind).features  # type: ignore[misc]
        return self._fake_features(extractor, spec.num_gen, module, dataset)[layer]

    def real_features(self, spec: MetricSpec, dataset: MirroredDataset, device: torch.device) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """(the reals' statistics or features for the spec's kind, from the cache when there, card extras)."""
        kind = metric_kind(spec.kind)
        n_real = self.num_reals(spec, dataset)
        real, hit = self._real(*kind.features, n_real, kind.real_side, dataset, device)  # type: ignore[misc]
        return real, {"num_real": n_real, "dataset_fingerprint": self._fingerprint[:16], "real_cache": "hit" if hit else "computed"}

    def _layers_for(self, extractor: str) -> tuple[str, ...]:
        features = [metric_kind(spec.kind).features for spec in self.specs]
        return tuple(sorted({layer for name, layer in filter(None, features) if name == extractor}))

    def _gather(
        self, extractor: Any, layers: tuple[str, ...], blocks: Iterator[tuple[Tensor, Tensor]], device: torch.device, stage: str = "", total: int = 0
    ) -> dict[str, Tensor]:
        """Features of every rank's blocks, in global order; blocks are regrouped into extractor batches.

        With `options.progress`, rank 0 shows a bar named `stage` (e.g. "fakes (inception features)"):
        images embedded of `total`, every rank's share counted as rank 0's.
        """
        banks = {layer: FeatureBank(extractor.dims(layer)).to(device) for layer in layers}
        blocks = self.with_progress(blocks, stage, total)

        def flush(pending: list[tuple[Tensor, Tensor]]) -> None:
            if pending:
                features = extractor(torch.cat([images for _, images in pending]), layers)
                indices = torch.cat([index for index, _ in pending]).to(device)
                for layer in layers:
                    banks[layer].update(features[layer], indices)

        pending: list[tuple[Tensor, Tensor]] = []
        for indices, images in blocks:
            pending.append((indices, images))
            if sum(len(i) for i, _ in pending) >= self.options.batch_size:
                flush(pending)
                pending = []
        flush(pending)
        return {layer: bank.compute() for layer, bank in banks.items()}

    def progress_bar(self, stage: str, total: int) -> Any:
        """A bar named `stage` counting images of `total` on stderr, with an ETA (tqdm), when
        `options.progress` is on, on rank 0; otherwise an object whose update() and close() do nothing.
        Family metrics use it for their own stages (mIoU's label maps, StarGAN v2's translations)."""
        rank, _ = rank_and_world()
        if not self.options.progress or rank != 0 or not total:
            return _NoBar()
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=stage, unit="img", dynamic_ncols=True, mininterval=1.0)

    def with_progress(self, blocks: Iterable[Any], stage: str, total: int, images_in: Callable[[Any], int] = lambda item: len(item[0])) -> Iterator[Any]:
        """`blocks` passed through, counted on a `progress_bar`: each item holds `images_in(item)` images
        of this rank (by default its first element is the block's sample indices), counted for every rank."""
        _, world = rank_and_world()
        with contextlib.closing(self.progress_bar(stage, total)) as bar:
            for item in blocks:
                yield item
                bar.update(min(images_in(item) * world, total - bar.n))

    def _fake_features(self, name: str, count: int, module: Any, dataset: MirroredDataset) -> dict[str, Tensor]:
        key = (name, count)
        if key not in self._fakes:
            rank, world = rank_and_world()
            opts = self.options
            blocks = fake_blocks(module, dataset, count, opts.sample_block, rank, world, opts.seed, opts.num_workers)
            self._fakes[key] = self._gather(
                self.extractor(name, module.device), self._layers_for(name), blocks, module.device, f"fakes ({name} features)", count
            )
        return self._fakes[key]

    def _real(self, name: str, layer: str, count: int, kind: str, dataset: MirroredDataset, device: torch.device) -> tuple[dict[str, Tensor], bool]:
        extractor = self.extractor(name, device)
        cache_key = {
            "dataset": self._fingerprint,
            "resolution": dataset.resolution,
            "mirror": self.options.real_mirror,
            "count": count,
            "extractor": extractor.describe(),
            "layer": layer,
            "kind": kind,
            "statistics": "float64, population covariance" if kind == "stats" else "float32 features in dataset order",
        }
        memo = (name, layer, count, kind)
        if memo in self._reals:
            return self._reals[memo]
        cached = self.cache.load(cache_key)
        rank, world = rank_and_world()
        if all_true(cached is not None, device):  # every rank must take the same branch (collectives follow)
            if self.options.progress and rank == 0:
                _stage_line(f"reals ({name} features): {count:,} images, from the cache")
            self._reals[memo] = (cached, True)  # type: ignore[assignment]
            return cached, True  # type: ignore[return-value]
        blocks = ((i, to_uint8(b["image"])) for i, b in real_blocks(dataset, count, self.options.sample_block, rank, world, self.options.num_workers))
        features = self._gather(extractor, (layer,), blocks, device, f"reals ({name} features, not cached)", count)[layer]
        if kind == "stats":
            mean, cov = mean_cov(features, ddof=0)
            tensors = {"mean": mean, "cov": cov, "num": torch.tensor(len(features))}
        else:
            tensors = {"features": features}
        if rank == 0:
            self.cache.save(cache_key, tensors)
        self._reals[memo] = (tensors, False)
        return tensors, False


def _stage_line(text: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(text, file=sys.stderr)


class _NoBar:
    """The progress bar of a run without one (progress off, or a rank other than 0)."""

    n = 0

    def update(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass
