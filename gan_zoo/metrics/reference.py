"""The reference metrics, registered by name as NVlabs stylegan3 `metrics/metric_main.py` and
autonomousvision/stylegan-xl `metrics/metric_main.py` register theirs:

    fid50k_full   50,000 fakes vs every real image      fid50k / fid10k   N fakes vs the first N reals
    fid<N>k[_full], fid<N>[_full]  any count (plain counts for small runs, e.g. fid500_full)
    sfid.. rfid.. kid..  the same counts (kid50k_full: 100 subsets of 1000)
    pr50k3_full   precision/recall, 50k fakes, k=3, reals capped at 200k (pr<N>_k<K>[_full] for plain counts)
    is50k         Inception Score of 50k fakes, 10 splits
    ppl_zfull ppl_wfull ppl_zend ppl_wend (StyleGAN v1: centre crop, 100k samples)
    ppl2_wend     (StyleGAN2: full image, 50k samples); a count suffix (ppl2_wend2k) sets fewer samples
"""

import re
from typing import Any

import torch
from torch import Tensor

from gan_zoo.errors import MetricError
from gan_zoo.metrics.bank import FeatureBank
from gan_zoo.metrics.distributed import rank_and_world
from gan_zoo.metrics.frechet import frechet_distance_to_features
from gan_zoo.metrics.inception_score import inception_score
from gan_zoo.metrics.kid import kernel_inception_distance
from gan_zoo.metrics.kinds import MetricSpec, metric_kind, register_metric
from gan_zoo.metrics.ppl import block_generator, draw_pairs, filtered_mean, path_lengths
from gan_zoo.metrics.ppl_interface import PPLGenerator, check_supports_ppl
from gan_zoo.metrics.precision_recall import precision_recall
from gan_zoo.metrics.streams import latent_blocks

PR_MAX_REAL = 200_000  # StyleGAN2/3 pr50k3_full: max_real=200000

Values = tuple[dict[str, float], dict[str, Any]]


def _count(number: str, unit: str) -> int:
    return int(number) * (1000 if unit == "k" else 1)


def _counted(match: re.Match[str]) -> MetricSpec:
    """<kind><N>[k][_full]: N fakes against N reals, or against every real with _full."""
    n = _count(match[2], match[3])
    return MetricSpec(match[0], match[1], n, None if match[4] else n)


def _counted_pattern(kind: str) -> str:
    return rf"^({kind})(\d+)(k?)(_full)?$"


def _check_features(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any, device: torch.device) -> None:
    evaluator.num_reals(spec, dataset)
    evaluator.extractor(metric_kind(spec.kind).features[0], device)  # type: ignore[index]


def _describe_features(evaluator: Any, spec: MetricSpec, device: torch.device) -> dict[str, Any]:
    return evaluator.extractor(metric_kind(spec.kind).features[0], device).describe()  # type: ignore[index]


FEATURE_METRIC = {"check": _check_features, "describe": _describe_features}


def _frechet(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    fake = evaluator.fake_features(spec, module, dataset)
    real, extra = evaluator.real_features(spec, dataset, module.device)
    return {spec.name: frechet_distance_to_features(fake, real["mean"], real["cov"], ddof=0)}, extra


@register_metric(
    _counted_pattern("fid"),
    _counted,
    examples=("fid50k_full", "fid50k", "fid10k"),
    features=("inception", "pool3"),
    real_side="stats",
    reference="StyleGAN2-ADA/StyleGAN3 fid50k_full (Heusel et al. 2017; TTUR-compatible Inception and resize)",
    **FEATURE_METRIC,
)
def fid(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    return _frechet(evaluator, spec, module, dataset)


@register_metric(
    _counted_pattern("sfid"),
    _counted,
    examples=("sfid50k_full",),
    features=("inception", "spatial"),
    real_side="stats",
    reference="StyleGAN-XL / ADM sFID (Nash et al. 2021): TF mixed_6/conv = Mixed_6d.branch1x1, first 7 channels, 7x17x17",
    **FEATURE_METRIC,
)
def sfid(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    return _frechet(evaluator, spec, module, dataset)


@register_metric(
    _counted_pattern("rfid"),
    _counted,
    examples=("rfid50k_full",),
    features=("random_inception", "pool3"),
    real_side="stats",
    reference="gan-zoo rFID after StyleGAN-XL (Kynkäänniemi et al. 2023 idea): FID with a random-init Inception; "
    "NOT comparable to StyleGAN-XL's published rFID (its random network file differs)",
    **FEATURE_METRIC,
)
def rfid(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    return _frechet(evaluator, spec, module, dataset)


@register_metric(
    _counted_pattern("kid"),
    _counted,
    examples=("kid50k_full", "kid50k"),
    features=("inception", "pool3"),
    real_side="features",
    reference="StyleGAN2-ADA/StyleGAN3 kid50k_full (Bińkowski et al. 2018)",
    **FEATURE_METRIC,
)
def kid(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    fake = evaluator.fake_features(spec, module, dataset)
    real, extra = evaluator.real_features(spec, dataset, module.device)
    mean, std = kernel_inception_distance(fake, real["features"], num_subsets=100, max_subset_size=1000)
    return {spec.name: mean, f"{spec.name}_std": std}, extra


def _parse_pr(match: re.Match[str]) -> MetricSpec:
    n = _count(match[1], "k" if match[2] == "k" else "")
    return MetricSpec(match[0], "pr", n, PR_MAX_REAL if match[4] else n, k=int(match[3]), num_real_is_cap=bool(match[4]))


@register_metric(
    r"^pr(\d+)(k|_k)(\d+)(_full)?$",
    _parse_pr,
    examples=("pr50k3_full", "pr50k3"),
    features=("vgg16", "fc2"),
    real_side="features",
    higher_is_better=True,
    reference="StyleGAN2/3 pr50k3_full (Kynkäänniemi et al. 2019), VGG16 fc2; weights: NVIDIA's vgg16.pt/.pkl run as is "
    "(the reference) or torchvision ImageNet VGG16 (the card's extractor says which)",
    **FEATURE_METRIC,
)
def pr(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    fake = evaluator.fake_features(spec, module, dataset)
    real, extra = evaluator.real_features(spec, dataset, module.device)
    precision, recall = precision_recall(fake, real["features"].float(), k=spec.k)
    return {f"{spec.name}_precision": precision, f"{spec.name}_recall": recall}, extra


@register_metric(
    r"^is(\d+)(k?)$",
    lambda m: MetricSpec(m[0], "is", _count(m[1], m[2]), 0),
    kind="is",
    examples=("is50k",),
    features=("inception", "logits_unbiased"),
    higher_is_better=True,
    reference="StyleGAN2-ADA/StyleGAN3 is50k (Salimans et al. 2016)",
    **FEATURE_METRIC,
)
def inception_score_metric(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    fake = evaluator.fake_features(spec, module, dataset)
    if spec.num_gen < 10:
        raise MetricError(f"metric {spec.name} splits the samples 10 ways; use at least is10")
    mean, std = inception_score(fake, splits=10)
    return {f"{spec.name}_mean": mean, f"{spec.name}_std": std}, {}


def _parse_ppl(match: re.Match[str]) -> MetricSpec:
    v2 = match[1] == "ppl2"
    n = _count(match[4], match[5]) if match[4] else (50_000 if v2 else 100_000)
    return MetricSpec(match[0], "ppl", n, 0, space=match[2], sampling=match[3], crop=not v2)


def _check_ppl(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any, device: torch.device) -> None:
    check_supports_ppl(module, spec.name)
    evaluator.distance(device)


def _describe_ppl(evaluator: Any, spec: MetricSpec, device: torch.device) -> dict[str, Any]:
    distance = evaluator.distance(device)
    files = getattr(distance, "files", None)
    if not files:
        return {"distance": "custom (not LPIPS: values not comparable with papers)"}
    return {"weights_sha256": files, **getattr(distance, "card", {})}


@register_metric(
    r"^(ppl|ppl2)_(z|w)(full|end)(?:(\d+)(k?))?$",
    _parse_ppl,
    check=_check_ppl,
    describe=_describe_ppl,
    examples=("ppl_zfull", "ppl_wfull", "ppl_zend", "ppl_wend", "ppl2_wend"),
    reference="StyleGAN (v1: ppl_*, centre crop) / StyleGAN2 (ppl2_wend, full image) perceptual path length",
)
def ppl(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> Values:
    rank, world = rank_and_world()
    opts = evaluator.options
    distance = evaluator.distance(module.device)
    generator = PPLGenerator(module, spec.name)
    bank = FeatureBank(1, dtype=torch.float64).to(module.device)
    blocks = latent_blocks(dataset, spec.num_gen, opts.sample_block, rank, world, opts.seed, opts.num_workers)
    for number, indices, labels in blocks:
        block_rng = block_generator(opts.seed, number)
        t, z0, z1 = draw_pairs(block_rng, len(indices), generator.z_dim, spec.sampling)
        d: Tensor = path_lengths(generator, t, z0, z1, labels, spec.space, spec.crop, spec.epsilon, distance, block_rng)
        bank.update(d.double().unsqueeze(1), indices.to(module.device))
    return {spec.name: filtered_mean(bank.compute()[:, 0])}, {}
