"""MetricEvaluator: computes a list of named metrics on a GANModule's G_ema and a data set.

The one code path behind the training callback and `gan-zoo eval`. Fakes and reals are sharded
over DDP ranks (`streams`), features gathered exactly (`bank.FeatureBank`), real statistics cached
on disk (`cache`). Fakes are generated once per (extractor, count) and shared by the metrics that
need them (e.g. fid50k_full and kid50k_full). The module is evaluated in eval mode, without
gradients and without moving the caller's RNG streams, and left in the mode it was in.
"""

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from gan_zoo.data.base import MirroredDataset
from gan_zoo.metrics import weights
from gan_zoo.metrics.bank import FeatureBank
from gan_zoo.metrics.cache import RealStatsCache
from gan_zoo.metrics.cards import protocol_card
from gan_zoo.metrics.distributed import all_true, blocks_of_rank, rank_and_world
from gan_zoo.metrics.errors import MetricError
from gan_zoo.metrics.extractors import RFID_SEED, InceptionFeatures, VGG16Features
from gan_zoo.metrics.fingerprint import dataset_fingerprint
from gan_zoo.metrics.frechet import frechet_distance_to_features, mean_cov
from gan_zoo.metrics.inception_score import inception_score
from gan_zoo.metrics.kid import kernel_inception_distance
from gan_zoo.metrics.kinds import MetricSpec, family_kind
from gan_zoo.metrics.names import parse_metric
from gan_zoo.metrics.nvidia_vgg16 import NvidiaLPIPS, NvidiaVGG16Features
from gan_zoo.metrics.ppl import block_generator, draw_pairs, filtered_mean, path_lengths
from gan_zoo.metrics.ppl_interface import PPLGenerator, check_supports_ppl
from gan_zoo.metrics.precision_recall import precision_recall
from gan_zoo.metrics.streams import conditioning_blocks, fake_blocks, real_blocks, to_uint8
from gan_zoo.metrics.torchscript_files import is_nvidia_module_file

# metric kind -> (extractor, feature layer)
LAYERS = {"fid": ("inception", "pool3"), "sfid": ("inception", "spatial"), "rfid": ("random_inception", "pool3"),
          "kid": ("inception", "pool3"), "is": ("inception", "logits_unbiased"), "pr": ("vgg16", "fc2")}
STATS_KINDS = ("fid", "sfid", "rfid")  # need only mean and covariance of the reals


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
            from gan_zoo.metrics.lpips import LPIPSVGG

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
        if spec.kind == "pr" and spec.name.endswith("_full"):
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
            if (kind := family_kind(spec.kind)) is not None:
                kind.check(self, spec, module, dataset, device)
            elif spec.kind == "ppl":
                check_supports_ppl(module, spec.name)
                self.distance(device)
            else:
                self.num_reals(spec, dataset)
                self.extractor(LAYERS[spec.kind][0], device)

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
                values, extra = self._compute(spec, module, dataset)
                card = protocol_card(spec, self._describe(spec, module.device), {"seed": self.options.seed, "sample_block": self.options.sample_block, **extra})
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
                if spec.kind not in LAYERS or spec.kind == "is":
                    done.append((spec.name, 0, None))
                    continue
                extractor, layer = LAYERS[spec.kind]
                count = self.num_reals(spec, dataset)
                _, hit = self._real(extractor, layer, count, "stats" if spec.kind in STATS_KINDS else "features", dataset, device)
                done.append((spec.name, count, hit))
        return done

    def _describe(self, spec: MetricSpec, device: torch.device) -> dict[str, Any]:
        if (kind := family_kind(spec.kind)) is not None:
            return kind.describe(self, spec, device)
        if spec.kind != "ppl":
            return self.extractor(LAYERS[spec.kind][0], device).describe()
        distance = self.distance(device)
        files = getattr(distance, "files", None)
        if not files:
            return {"distance": "custom (not LPIPS: values not comparable with papers)"}
        return {"weights_sha256": files, **getattr(distance, "card", {})}

    def _compute(self, spec: MetricSpec, module: Any, dataset: MirroredDataset) -> tuple[dict[str, float], dict[str, Any]]:
        if (kind := family_kind(spec.kind)) is not None:
            return kind.compute(self, spec, module, dataset)
        if spec.kind == "ppl":
            return {spec.name: self._ppl(spec, module, dataset)}, {}
        extractor, layer = LAYERS[spec.kind]
        fake = self._fake_features(extractor, spec.num_gen, module, dataset)[layer]
        if spec.kind == "is":
            if spec.num_gen < 10:
                raise MetricError(f"metric {spec.name} splits the samples 10 ways; use at least is10")
            mean, std = inception_score(fake, splits=10)
            return {f"{spec.name}_mean": mean, f"{spec.name}_std": std}, {}
        n_real = self.num_reals(spec, dataset)
        real_kind = "stats" if spec.kind in STATS_KINDS else "features"
        real, hit = self._real(extractor, layer, n_real, real_kind, dataset, module.device)
        extra = {"num_real": n_real, "dataset_fingerprint": self._fingerprint[:16], "real_cache": "hit" if hit else "computed"}
        if spec.kind in STATS_KINDS:
            return {spec.name: frechet_distance_to_features(fake, real["mean"], real["cov"], ddof=0)}, extra
        if spec.kind == "kid":
            mean, std = kernel_inception_distance(fake, real["features"], num_subsets=100, max_subset_size=1000)
            return {spec.name: mean, f"{spec.name}_std": std}, extra
        precision, recall = precision_recall(fake, real["features"].float(), k=spec.k)
        return {f"{spec.name}_precision": precision, f"{spec.name}_recall": recall}, extra

    def _layers_for(self, extractor: str) -> tuple[str, ...]:
        return tuple(sorted({LAYERS[s.kind][1] for s in self.specs if s.kind in LAYERS and LAYERS[s.kind][0] == extractor}))

    def _gather(self, extractor: Any, layers: tuple[str, ...], blocks: Iterator[tuple[Tensor, Tensor]], device: torch.device) -> dict[str, Tensor]:
        """Features of every rank's blocks, in global order; blocks are regrouped into extractor batches."""
        banks = {layer: FeatureBank(extractor.dims(layer)).to(device) for layer in layers}

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

    def _fake_features(self, name: str, count: int, module: Any, dataset: MirroredDataset) -> dict[str, Tensor]:
        key = (name, count)
        if key not in self._fakes:
            rank, world = rank_and_world()
            opts = self.options
            blocks = fake_blocks(module, dataset, count, opts.sample_block, rank, world, opts.seed, opts.num_workers)
            self._fakes[key] = self._gather(self.extractor(name, module.device), self._layers_for(name), blocks, module.device)
        return self._fakes[key]

    def _real(self, name: str, layer: str, count: int, kind: str, dataset: MirroredDataset, device: torch.device) -> tuple[dict[str, Tensor], bool]:
        extractor = self.extractor(name, device)
        cache_key = {"dataset": self._fingerprint, "resolution": dataset.resolution, "mirror": self.options.real_mirror,
                     "count": count, "extractor": extractor.describe(), "layer": layer, "kind": kind,
                     "statistics": "float64, population covariance" if kind == "stats" else "float32 features in dataset order"}
        memo = (name, layer, count, kind)
        if memo in self._reals:
            return self._reals[memo]
        cached = self.cache.load(cache_key)
        if all_true(cached is not None, device):  # every rank must take the same branch (collectives follow)
            self._reals[memo] = (cached, True)  # type: ignore[assignment]
            return cached, True  # type: ignore[return-value]
        rank, world = rank_and_world()
        blocks = ((i, to_uint8(b["image"])) for i, b in real_blocks(dataset, count, self.options.sample_block, rank, world, self.options.num_workers))
        features = self._gather(extractor, (layer,), blocks, device)[layer]
        if kind == "stats":
            mean, cov = mean_cov(features, ddof=0)
            tensors = {"mean": mean, "cov": cov, "num": torch.tensor(len(features))}
        else:
            tensors = {"features": features}
        if rank == 0:
            self.cache.save(cache_key, tensors)
        self._reals[memo] = (tensors, False)
        return tensors, False

    def _ppl(self, spec: MetricSpec, module: Any, dataset: MirroredDataset) -> float:
        rank, world = rank_and_world()
        opts = self.options
        distance = self.distance(module.device)
        generator = PPLGenerator(module, spec.name)
        bank = FeatureBank(1, dtype=torch.float64).to(module.device)
        labelled = "label" in dataset.provides
        if labelled:
            blocks = ((n, i, b.get("label")) for n, i, b in conditioning_blocks(dataset, spec.num_gen, opts.sample_block, rank, world, opts.seed, opts.num_workers))
        else:
            blocks = ((r.start // opts.sample_block, torch.tensor(list(r)), None) for r in blocks_of_rank(spec.num_gen, opts.sample_block, rank, world))
        for number, indices, labels in blocks:
            block_rng = block_generator(opts.seed, number)
            t, z0, z1 = draw_pairs(block_rng, len(indices), generator.z_dim, spec.sampling)
            d = path_lengths(generator, t, z0, z1, labels, spec.space, spec.crop, spec.epsilon, distance, block_rng)
            bank.update(d.double().unsqueeze(1), indices.to(module.device))
        return filtered_mean(bank.compute()[:, 0])
