"""Linear separability (Karras et al. 2019 §4.2), with NVIDIA's protocol (metrics/linear_separability.py).

    ls          200,000 samples; per attribute the 100,000 most confident are kept (the paper)
    ls<N>[k]    N samples, the most confident N/2 kept (small runs; not comparable with the paper)

For every sample: z ~ N(0, I), w = mapping(z) (no truncation), an image from the synthesis network
with random noise inputs, box-downsampled to 256 px when larger, classified by every attribute
classifier (probabilities softmax([logit, -logit])). Per attribute: keep the most confident half,
label each kept sample by its argmax, fit a linear SVM (scikit-learn LinearSVC, default settings) on
z and, separately, on w (the last style input), and measure the conditional entropy H(Y|X) in bits
of the classifier's labels Y given the SVM's predictions X on the same samples. The score is
2 ** sum over attributes of H (the paper writes exp(); the code uses bits), reported as
`<name>_z` and `<name>_w`; lower is more separable (1.0 = every attribute is a linear cut).
"""

import re
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.svm import LinearSVC
from torch import Tensor

from gan_zoo.errors import MetricError
from gan_zoo.features.attribute_classifiers import load_attribute_classifiers
from gan_zoo.metrics.bank import FeatureBank
from gan_zoo.metrics.distributed import rank_and_world
from gan_zoo.metrics.kinds import MetricSpec, register_metric
from gan_zoo.metrics.ppl import block_generator
from gan_zoo.metrics.ppl_interface import PPLGenerator, check_supports_ppl
from gan_zoo.metrics.streams import latent_blocks

PAPER_SAMPLES, PAPER_KEEP = 200_000, 100_000
CLASSIFIER_SIZE = 256  # the paper's classifiers were trained on 256x256 CelebA-HQ


def conditional_entropy_bits(predicted: np.ndarray, target: np.ndarray) -> float:
    """H(Y|X) in bits of binary labels `target` (Y) given binary predictions `predicted` (X)."""
    joint = np.array([[np.mean((predicted == x) & (target == y)) for y in (0, 1)] for x in (0, 1)], dtype=np.float64)
    p_x = joint.sum(axis=1, keepdims=True)
    nonzero = joint > 0
    # H(Y|X) = -sum p(x,y) log2 p(x,y)/p(x); NVIDIA computes H(Y) - I(X;Y), the same quantity.
    return max(0.0, float(-(joint[nonzero] * np.log2(joint[nonzero] / np.broadcast_to(p_x, joint.shape)[nonzero])).sum()))


def attribute_entropy(logits: Tensor, latents: Tensor, num_keep: int) -> float:
    """H(Y|X) for one attribute: logits [N], latents [N, D] (float64 on CPU)."""
    probs = torch.stack([logits, -logits], dim=1).double().softmax(dim=1).numpy()
    confidence = probs.max(axis=1)
    keep = np.argsort(-confidence, kind="stable")[:num_keep]  # ties keep sample order, like Python's sorted()
    targets = probs[keep].argmax(axis=1)
    inputs = latents[keep].numpy()
    if len(np.unique(targets)) < 2:
        return 0.0  # one class only: NVIDIA's code catches the SVM's failure and counts it as perfect
    svm = LinearSVC(random_state=0)  # seeded: liblinear's coordinate descent shuffles with it
    svm.fit(inputs, targets)
    return conditional_entropy_bits(svm.predict(inputs), targets)


def separability_score(entropies: list[float]) -> float:
    return float(2.0 ** np.sum(entropies))


def downsample_for_classifier(images: Tensor) -> Tensor:
    """Box-downsample by an integer factor to 256 px when larger (NVIDIA's reshape-mean), else unchanged."""
    if images.shape[-1] <= CLASSIFIER_SIZE:
        return images
    factor = images.shape[-1] // CLASSIFIER_SIZE
    return F.avg_pool2d(images, factor)


# ---- the metric kind ----------------------------------------------------------------------------------


_NAME = re.compile(r"^ls(?:(\d+)(k?))?$")


def _parse(m: re.Match[str]) -> MetricSpec:
    name = m[0]
    if m[1] is None:
        return MetricSpec(name, "ls", PAPER_SAMPLES, 0, options=(("keep", PAPER_KEEP),))
    n = int(m[1]) * (1000 if m[2] else 1)
    if n < 4:
        raise MetricError(f"metric {name} needs at least 4 samples (half are kept per attribute)")
    return MetricSpec(name, "ls", n, 0, options=(("keep", n // 2),))


def _classifiers(evaluator: Any, device: torch.device) -> Any:
    def build() -> Any:
        explicit = getattr(evaluator, "attribute_classifiers", None)
        classifiers = explicit if explicit is not None else load_attribute_classifiers(evaluator.options.weights.get("ls_classifiers"), device)
        return classifiers.to(device)

    return evaluator.network("ls_classifiers", device, build)


def _check(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any, device: torch.device) -> None:
    check_supports_ppl(module, spec.name)  # the same mapping/synthesis split PPL needs
    _classifiers(evaluator, device)


def _synthesise(generator: PPLGenerator, ws: Tensor, seed: int) -> Tensor:
    """Images with random noise inputs (NVIDIA: randomize_noise=True), seeded per block."""
    torch.manual_seed(seed)
    if generator.hooks:
        return generator.synthesis(ws)
    return generator.module.G_ema.synthesis(ws, noise_mode="random")


def _describe(evaluator: Any, spec: MetricSpec, device: torch.device) -> dict[str, Any]:
    return {
        **_classifiers(evaluator, device).describe(),
        "svm": "sklearn LinearSVC defaults, random_state=0",
        "noise": "random per image, seeded per block",
        "truncation": "none",
        "latent_w": "last style input",
        "resize": "box downsample to 256 when larger",
        "score": "2 ** sum of H(Y|X) in bits",
    }


@register_metric(
    pattern=_NAME.pattern,
    parse=_parse,
    check=_check,
    reference="StyleGAN (Karras et al. 2019) linear separability, NVIDIA metrics/linear_separability.py: "
    "200k samples, 100k most confident kept per attribute, LinearSVC on z and w, H(Y|X) in bits",
    describe=_describe,
    higher_is_better=False,
    examples=("ls",),
)
def ls(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> tuple[dict[str, float], dict[str, Any]]:
    rank, world = rank_and_world()
    opts = evaluator.options
    device = module.device
    generator = PPLGenerator(module, spec.name)
    classifiers = _classifiers(evaluator, device)
    num_attributes = len(classifiers.names)
    banks: dict[str, FeatureBank] = {}
    blocks = latent_blocks(dataset, spec.num_gen, opts.sample_block, rank, world, opts.seed, opts.num_workers)
    for number, indices, labels in evaluator.with_progress(blocks, f"{spec.name} (fakes classified)", spec.num_gen, images_in=lambda item: len(item[1])):
        block_rng = block_generator(opts.seed, number)
        z = torch.randn(len(indices), generator.z_dim, generator=block_rng).to(device)
        labels = labels.to(device) if labels is not None else None
        ws = generator.mapping(z, labels)
        images = _synthesise(generator, ws, int(torch.randint(2**62, (), generator=block_rng)))
        logits = classifiers(downsample_for_classifier(images.float()))
        w_last = ws[:, -1] if ws.ndim == 3 else ws
        for key, values in (("z", z), ("w", w_last), ("logits", logits)):
            if key not in banks:
                banks[key] = FeatureBank(values.shape[1], dtype=torch.float64).to(device)
            banks[key].update(values.double(), indices.to(device))
    if not banks:  # a rank without blocks still joins the gathers with empty banks of the right widths
        w_dim = int(generator.mapping(torch.zeros(1, generator.z_dim, device=device), None).shape[-1])
        banks = {"z": FeatureBank(generator.z_dim, torch.float64), "w": FeatureBank(w_dim, torch.float64), "logits": FeatureBank(num_attributes, torch.float64)}
        banks = {k: b.to(device) for k, b in banks.items()}
    gathered = {key: bank.compute() for key, bank in banks.items()}
    keep = dict(spec.options)["keep"]
    entropies: dict[str, list[float]] = {"z": [], "w": []}
    for a in range(num_attributes):
        for space in ("z", "w"):
            entropies[space].append(attribute_entropy(gathered["logits"][:, a], gathered[space], keep))
    values = {f"{spec.name}_{space}": separability_score(h) for space, h in entropies.items()}
    per_attribute = {name: {"z": round(hz, 6), "w": round(hw, 6)} for name, hz, hw in zip(classifiers.names, entropies["z"], entropies["w"], strict=True)}
    return values, {"num_keep": keep, "conditional_entropy_bits": per_attribute}
