"""Segmentation accuracy of generated images (SPADE's evaluation, Park et al. 2019 §4, Table 1) as a family metric.

`miou_full` (every item of the data set) or `miou500` / `miou2k` (the first N items, in order, no
flips): each item's label map (and instance map) is rendered by `module.eval_fakes` (seeded per
block, as every metric's fakes), a segmenter labels the generated image, and the confusion matrix
against the input label map gives

* `<name>`: mean IoU over the classes that occur in the predictions or the labels (nanmean),
* `<name>_accuracy`: pixel accuracy over the labelled pixels (the dontcare label is ignored).

The segmenter is pluggable: a TorchScript file (weights.segmenter in the metrics config, or
$GAN_ZOO_SEGMENTER_WEIGHTS) mapping float RGB in [0, 1], NCHW, to logits over the data set's labels
(wrap the network so that it resizes, normalises and remaps its classes itself). The paper used
DRN-D-105 (Cityscapes), UperNet101 (ADE20K) and DeepLabV2 (COCO-Stuff). On the embedded shapes set
an exact analytic segmenter needs no file: backgrounds are darker than 96 in every channel and shapes
at least 128 in every channel, so "any channel >= 112" separates shape from background exactly (two
classes): the real images score 1.0, any constant image at most 0.5.
Confusion matrices are summed over DDP ranks, so the value does not depend on the process count.
"""

import os
import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import MetricError, MetricNotApplicable, WeightsError
from gan_zoo.features.torchscript_files import jit_load
from gan_zoo.metrics.distributed import rank_and_world
from gan_zoo.metrics.kinds import MetricSpec, register_metric
from gan_zoo.metrics.ppl import block_generator
from gan_zoo.metrics.streams import real_blocks

SEGMENTER_ENV = "GAN_ZOO_SEGMENTER_WEIGHTS"
# The networks of the paper's evaluation, by data-set layout, for the missing-file message.
PAPER_SEGMENTERS = {
    "cityscapes": "DRN-D-105 (github.com/fyu/drn, Cityscapes)",
    "ade20k": "UperNet101 (github.com/CSAILVision/semantic-segmentation-pytorch, ADE20K)",
    "cocostuff": "DeepLabV2 (github.com/kazuto1011/deeplab-pytorch, COCO-Stuff 164k)",
}
SHAPES_THRESHOLD = 112  # between the shapes set's background (< 96) and shape (>= 128) channel values


class ShapesSegmenter:
    """Exact foreground/background segmenter of the shapes set: class 1 where any channel >= 112."""

    num_classes = 2

    def predict(self, images: Tensor) -> Tensor:
        """uint8 [N, C, H, W] -> long [N, H, W]."""
        return (images.amax(dim=1) >= SHAPES_THRESHOLD).long()

    def target(self, batch: dict[str, Tensor]) -> Tensor:
        return (batch["segmap"] > 0).long()

    def describe(self) -> dict[str, Any]:
        return {"segmenter": "analytic shapes foreground (any channel >= 112), classes background/shape"}


class TorchScriptSegmenter:
    def __init__(
        self,
        path: Path,  # TorchScript file: float RGB [0, 1] NCHW -> logits [N, num_classes, h, w]
        num_classes: int,  # the data set's labels (label_nc); the dontcare label (label_nc) is ignored
        device: torch.device,  # where the network runs
    ) -> None:
        try:
            self.network = jit_load(path, device).eval()
        except Exception as error:
            raise WeightsError(f"segmenter: {path} cannot be loaded as a TorchScript module ({error}); {how_to_get(None)}") from error
        self.path, self.num_classes, self.device = path, num_classes, device

    @torch.no_grad()
    def predict(self, images: Tensor) -> Tensor:
        logits = self.network(images.to(self.device).float() / 255)
        if logits.ndim != 4 or logits.shape[1] != self.num_classes:
            raise MetricError(
                f"segmenter {self.path} returned {list(logits.shape)}; it must return logits [N, {self.num_classes}, H, W] over the data set's labels"
            )
        if logits.shape[2:] != images.shape[2:]:
            logits = F.interpolate(logits, size=images.shape[2:], mode="bilinear", align_corners=False)
        return logits.argmax(dim=1)

    def target(self, batch: dict[str, Tensor]) -> Tensor:
        segmap = batch["segmap"].long()
        return torch.where(segmap < self.num_classes, segmap, -1)  # the dontcare label is not scored

    def describe(self) -> dict[str, Any]:
        from gan_zoo.features.weights import sha256_of

        return {"segmenter": str(self.path), "segmenter_sha256": sha256_of(self.path)}


def how_to_get(dataset: Any) -> str:
    layout = getattr(dataset, "layout", None)
    paper = (
        f"the paper evaluated this data set with {PAPER_SEGMENTERS[layout]}; "
        if layout in PAPER_SEGMENTERS
        else ("the paper used " + ", ".join(f"{v.split(' (')[0]} for {k}" for k, v in PAPER_SEGMENTERS.items()) + "; ")
    )
    return (
        f"{paper}export such a network with torch.jit.script/trace so that it maps float RGB in [0, 1] (NCHW) to logits over "
        f"the data set's labels, and point the metrics config's weights.segmenter=/path/to/segmenter.pt (or {SEGMENTER_ENV}) at it"
    )


def build_segmenter(evaluator: Any, dataset: Any, device: torch.device) -> Any:
    """The configured TorchScript segmenter; the analytic one on shapes; else a WeightsError saying what to get."""
    path = evaluator.options.weights.get("segmenter") or os.environ.get(SEGMENTER_ENV)
    if path:
        path = Path(path).expanduser()
        if not path.is_file():
            raise WeightsError(f"segmenter: {path} does not exist; {how_to_get(dataset)}")
        return TorchScriptSegmenter(path, int(dataset.label_nc), device)
    if "segmap" in dataset.provides and type(dataset).__name__ == "ShapesDataset":
        return ShapesSegmenter()
    raise WeightsError(f"segmentation metrics need a segmenter network and none is configured; {how_to_get(dataset)}")


def confusion_matrix(predicted: Tensor, target: Tensor, num_classes: int) -> Tensor:
    """[num_classes, num_classes] int64 counts (rows: target, columns: prediction); target -1 is ignored."""
    keep = target >= 0
    index = target[keep] * num_classes + predicted[keep]
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def miou_and_accuracy(confusion: Tensor) -> tuple[float, float]:
    """(mean IoU over classes present in target or prediction, pixel accuracy)."""
    confusion = confusion.double()
    true_positive = confusion.diag()
    union = confusion.sum(0) + confusion.sum(1) - true_positive
    iou = true_positive[union > 0] / union[union > 0]
    return float(iou.mean()), float(true_positive.sum() / confusion.sum().clamp_min(1))


_NAME = re.compile(r"^miou(?:(\d+)(k?)|_full)$")


def _parse(match: re.Match[str]) -> MetricSpec:
    count = None if match[1] is None else int(match[1]) * (1000 if match[2] else 1)
    if count == 0:
        raise MetricError(f"metric {match[0]}: evaluate at least one label map")
    return MetricSpec(match[0], "miou", num_gen=count or 0, num_real=count)


def _check(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any, device: torch.device) -> None:
    if "segmap" not in getattr(dataset, "provides", ()):
        raise MetricNotApplicable(f"metric {spec.name} scores generated images against label maps, but the data set has none; use a label-map data set")
    if not hasattr(module, "num_labels"):
        raise MetricNotApplicable(
            f"metric {spec.name} evaluates label-map-conditioned models (SPADE); {getattr(module, 'family', type(module).__name__)} models take no label maps"
        )
    build_segmenter(evaluator, dataset, device)


def _count(spec: MetricSpec, dataset: Any) -> int:
    if spec.num_real is None:
        return len(dataset)
    if spec.num_real > len(dataset):
        raise MetricError(f"metric {spec.name} needs {spec.num_real:,} label maps, but the data set has {len(dataset):,}; use miou_full or a smaller count")
    return spec.num_real


def _describe(evaluator: Any, spec: MetricSpec, device: torch.device) -> dict[str, Any]:
    return {
        "fakes": "module.eval_fakes on the data set's label maps (first items, in order, no flips)",
        "miou": "nanmean IoU over classes present in labels or predictions; dontcare ignored",
    }


@register_metric(
    pattern=_NAME.pattern,
    parse=_parse,
    check=_check,
    reference="SPADE (Park et al. 2019) evaluation: a segmentation network on images generated from the validation "
    "label maps, mIoU and pixel accuracy against those label maps",
    describe=_describe,
    higher_is_better=True,
    examples=("miou_full",),
)
def miou(evaluator: Any, spec: MetricSpec, module: Any, dataset: Any) -> tuple[dict[str, float], dict[str, Any]]:
    device = module.device
    segmenter = build_segmenter(evaluator, dataset, device)
    rank, world = rank_and_world()
    block = evaluator.options.sample_block
    confusion = torch.zeros(segmenter.num_classes, segmenter.num_classes, dtype=torch.long, device=device)
    count = _count(spec, dataset)
    blocks = real_blocks(dataset, count, block, rank, world, evaluator.options.num_workers)
    for indices, batch in evaluator.with_progress(blocks, f"{spec.name} (fakes from label maps, segmented)", count):
        batch = {k: v.to(device) for k, v in batch.items()}
        fakes = module.eval_fakes(batch, block_generator(evaluator.options.seed, int(indices[0]) // block))
        predicted = segmenter.predict(to_uint8(fakes)).to(device)
        confusion += confusion_matrix(predicted, segmenter.target(batch).to(device), segmenter.num_classes)
    if world > 1:
        torch.distributed.all_reduce(confusion)
    mean_iou, accuracy = miou_and_accuracy(confusion)
    extra = {"num_label_maps": _count(spec, dataset), "classes": segmenter.num_classes, **segmenter.describe()}
    return {spec.name: mean_iou, f"{spec.name}_accuracy": accuracy}, extra
