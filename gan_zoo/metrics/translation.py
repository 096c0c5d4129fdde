"""StarGAN v2's evaluation as a family metric kind (protocol of clovaai/stargan-v2 `metrics/eval.py`).

`translation_latent` / `translation_reference` (optionally `translation_latent100`: at most 100
validation sources per domain, for quick checks): for every (source, target) domain pair, every
validation image of the source domain is translated `outputs` = 10 times to the target domain,
with latent-guided styles (F_ema of fresh z) or reference-guided ones (E_ema of validation images
of the target domain, cycled). Per task (e.g. cat2dog):

* FID between the translations and the target domain's real *training* images (as the official
  code), on the official networks (metrics.stargan_networks): torchvision's ImageNet Inception-v3,
  every image resized to 299 by PIL from uint8 (fakes rounded as the official PNGs are saved, reals
  from their decoded files at native size), statistics with np.cov's N - 1;
* LPIPS diversity: LPIPS-AlexNet over all pairs of the 10 outputs of the same inputs, averaged over
  each batch, then over batches.

Sources and references are the validation images resized to the model's size by PIL (the official
`Resize` of the eval loader). Logged per task (`<name>_fid/cat2dog`, `<name>_lpips/cat2dog`) and
averaged over tasks (`<name>_fid`, `<name>_lpips`). The Fréchet distance uses the eigenvalue form
where the official code calls scipy's sqrtm (equal to rounding). Every rank computes the whole
metric (it is not sharded).
"""

import re
from typing import Any

import torch
from torch import Tensor

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import MetricError, MetricNotApplicable
from gan_zoo.features.stargan_networks import LPIPSAlex, TorchvisionInceptionFeatures, pil_resize
from gan_zoo.metrics.frechet import frechet_distance_to_features, mean_cov
from gan_zoo.metrics.kinds import MetricSpec, register_metric

OUTPUTS_PER_INPUT = 10  # official num_outs_per_domain
MODES = ("latent", "reference")


def parse(match: re.Match[str]) -> MetricSpec:
    mode, number, unit = match[1], match[2], match[3]
    max_sources = None if number is None else int(number) * (1000 if unit else 1)
    if max_sources == 0:
        raise MetricError(f"metric {match[0]}: give at least one source image per domain")
    return MetricSpec(match[0], "translation", num_gen=0, num_real=None, options=(("mode", mode), ("max_sources", max_sources), ("outputs", OUTPUTS_PER_INPUT)))


def _options(spec: MetricSpec) -> dict[str, Any]:
    return dict(spec.options)


def _inception(evaluator: Any, device: torch.device) -> TorchvisionInceptionFeatures:
    """torchvision's ImageNet Inception-v3 (official metrics/fid.py), built once per evaluator and device."""
    opts = evaluator.options
    return evaluator.network(
        "tv_inception", device, lambda: TorchvisionInceptionFeatures(opts.weights.get("tv_inception"), opts.weights_sha256.get("tv_inception"), device=device)
    )


def _distance(evaluator: Any, device: torch.device) -> Any:
    """LPIPS-AlexNet (official metrics/lpips.py); a distance given to the evaluator replaces it, as for PPL."""
    if evaluator.injected_distance is not None:
        return evaluator.distance(device)
    opts = evaluator.options
    alex = evaluator.network(
        "lpips_alex",
        device,
        lambda: LPIPSAlex(
            opts.weights.get("alexnet"), opts.weights.get("lpips_alex"), opts.weights_sha256.get("alexnet"), opts.weights_sha256.get("lpips_alex")
        ),
    )
    return alex.to(device)


def check(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any, device: torch.device) -> None:
    if not all(hasattr(module, name) for name in ("translate", "latent_styles", "reference_styles")):
        raise MetricNotApplicable(
            f"metric {spec.name} evaluates image-to-image translation (StarGAN v2); {getattr(module, 'family', type(module).__name__)} models do not translate"
        )
    if getattr(dataset, "validation", None) is None:
        raise MetricError(f"metric {spec.name} translates validation images, but the data set has no validation split; set data.dataset.val_split (e.g. val)")
    _inception(evaluator, device)
    _distance(evaluator, device)


def describe(evaluator: Any, spec: MetricSpec, device: torch.device) -> dict[str, Any]:
    distance = _distance(evaluator, device)
    files = getattr(distance, "files", None)
    return {
        **_inception(evaluator, device).describe(),
        "lpips_weights_sha256": files or "custom distance",
        **getattr(distance, "card", {}),
        "statistics": "mean and np.cov (N - 1), as the official fid.py",
        "outputs_per_input": _options(spec)["outputs"],
    }


def _batches(images: Any, indices: list[int], resolution: int, size: int) -> list[Tensor]:
    """Validation images in [-1, 1] at the model's size: uint8, PIL bilinear, as the official eval loader."""
    return [
        torch.stack([pil_resize(to_uint8(images.image(i)), resolution, rgb=False).float() / 127.5 - 1 for i in indices[s : s + size]])
        for s in range(0, len(indices), size)
    ]


def _real_statistics(evaluator: Any, images: Any, domain: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """The target domain's real statistics, computed once per evaluation (latent and reference share them)."""
    key = ("translation_reals", id(images), domain)
    if key not in evaluator.family_memo:
        evaluator.family_memo[key] = _compute_real_statistics(evaluator, images, domain, device)
    return evaluator.family_memo[key]


def _compute_real_statistics(evaluator: Any, images: Any, domain: int, device: torch.device) -> tuple[Tensor, Tensor]:
    extractor = _inception(evaluator, device)
    members, size = images.members(domain), evaluator.options.batch_size
    # Each real image at its own size: the official loader resizes the decoded file straight to 299.
    features = [extractor([to_uint8(images.image(i)) for i in members[s : s + size]]) for s in range(0, len(members), size)]
    return mean_cov(torch.cat(features), ddof=1)


@register_metric(
    pattern=r"^translation_(latent|reference)(?:(\d+)(k?))?$",
    parse=parse,
    check=check,
    reference="StarGAN v2 official evaluation (core/eval.py, metrics/fid.py, metrics/lpips.py): per-task FID on torchvision "
    "Inception-v3 and LPIPS-AlexNet diversity over 10 outputs per input",
    describe=describe,
    higher_is_better=False,
    examples=("translation_latent", "translation_reference"),
)
def translation(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> tuple[dict[str, float], dict[str, Any]]:
    options = _options(spec)
    mode, outputs = options["mode"], options["outputs"]
    device, resolution = module.device, dataset.resolution
    train, val, names = dataset.images, dataset.validation, list(dataset.validation.names)
    extractor, distance = _inception(evaluator, device), _distance(evaluator, device)
    generator = torch.Generator().manual_seed(evaluator.options.seed)
    batch_size = evaluator.options.batch_size
    fids: dict[str, float] = {}
    lpips: dict[str, float] = {}
    sources = {d: len(val.members(d)[: options["max_sources"]]) for d in range(len(names))}
    total = sum(sources[s] for t in range(len(names)) for s in range(len(names)) if s != t) * outputs
    bar = evaluator.progress_bar(f"{spec.name} (translations)", total)
    for target, target_name in enumerate(names):
        mu, cov = _real_statistics(evaluator, train, target, device)
        references = torch.cat(_batches(val, val.members(target), resolution, batch_size))
        cursor = 0  # references are used in order, cycling, as the official reference loader
        for source, source_name in enumerate(names):
            if source == target:
                continue
            members = val.members(source)[: options["max_sources"]]
            features, distances = [], []
            for x_src in _batches(val, members, resolution, batch_size):
                n = x_src.shape[0]
                domains = torch.full((n,), target)
                group = []
                for _ in range(outputs):
                    if mode == "latent":
                        styles = module.latent_styles(torch.randn(n, module.latent_dim, generator=generator), domains)
                    else:  # the next n target-domain references
                        x_ref = references[(cursor + torch.arange(n)) % len(references)]
                        cursor += n
                        styles = module.reference_styles(x_ref, domains)
                    fake = module.translate(x_src, styles)
                    group.append(fake)
                    features.append(extractor(to_uint8(fake)))
                    bar.update(n)
                pairs = [distance(group[i], group[j]).mean() for i in range(outputs) for j in range(i + 1, outputs)]
                distances.append(torch.stack(pairs).mean())
            task = f"{source_name}2{target_name}"
            fids[task] = frechet_distance_to_features(torch.cat(features), mu, cov, ddof=1)
            lpips[task] = float(torch.stack(distances).mean())
    bar.close()
    values = {f"{spec.name}_fid": sum(fids.values()) / len(fids), f"{spec.name}_lpips": sum(lpips.values()) / len(lpips)}
    values.update({f"{spec.name}_fid/{task}": value for task, value in fids.items()})
    values.update({f"{spec.name}_lpips/{task}": value for task, value in lpips.items()})
    extra = {
        "mode": mode,
        "tasks": list(fids),
        "max_sources_per_domain": options["max_sources"] or "all",
        "real_images": "training images of the target domain (as the official evaluation)",
    }
    return values, extra
