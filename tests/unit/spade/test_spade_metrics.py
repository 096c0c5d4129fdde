"""SPADE's segmentation metrics (mIoU, pixel accuracy): the confusion-matrix maths by hand, the exact
analytic segmenter of the shapes set (a perfect generator scores 1.0, constant ones at most 0.5),
the pluggable TorchScript segmenter and the missing-segmenter error, and the label-map triptych."""

import pytest
import torch
from torch import nn

from gan_zoo.callbacks.grids import LabelMapTriptych, colourize, label_palette
from gan_zoo.data import ShapesDataset
from gan_zoo.errors import MetricNotApplicable
from gan_zoo.metrics import MetricEvaluator, MetricOptions, WeightsError, parse_metric
from gan_zoo.metrics.segmentation import ShapesSegmenter, confusion_matrix, miou_and_accuracy


class LabelModule(nn.Module):
    """The evaluation surface of a SPADE module around a fixed rule for the fakes."""

    family = "spade"

    def __init__(self, rule: str, num_labels: int = 5) -> None:
        super().__init__()
        self.rule, self.num_labels = rule, num_labels
        self.anchor = nn.Parameter(torch.zeros(()))

    @property
    def device(self) -> torch.device:
        return self.anchor.device

    def eval_fakes(self, batch, generator=None):
        if self.rule == "real":
            return batch["image"]
        if self.rule == "inverted":
            return -batch["image"]
        return torch.full_like(batch["image"], 0.9 if self.rule == "bright" else -0.9)


@pytest.fixture(scope="module")
def shapes():
    return ShapesDataset(resolution=16, num_images=40, with_segmaps=True)


def evaluate(module, dataset, name="miou_full", **options):
    return MetricEvaluator([name], MetricOptions(use_cache=False, sample_block=16, **options)).evaluate(module, dataset)[0]


def test_confusion_matrix_miou_and_pixel_accuracy_by_hand() -> None:
    target = torch.tensor([0, 0, 1, 1, 2, -1])
    predicted = torch.tensor([0, 1, 1, 1, 0, 2])
    confusion = confusion_matrix(predicted, target, 3)
    assert confusion.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    miou, accuracy = miou_and_accuracy(confusion)
    # IoU: class 0 = 1 / (2 + 2 - 1) = 1/3, class 1 = 2 / (3 + 2 - 2) = 2/3, class 2 = 0 / 1 = 0
    assert miou == pytest.approx((1 / 3 + 2 / 3 + 0) / 3) and accuracy == pytest.approx(3 / 5)
    assert miou_and_accuracy(torch.tensor([[4, 0], [0, 0]]))[0] == 1.0  # absent classes are not averaged


def test_analytic_shapes_segmenter_is_exact_on_the_real_images(shapes) -> None:
    segmenter = ShapesSegmenter()
    for i in range(len(shapes)):
        item = shapes[i]
        image = ((item["image"] + 1) * 127.5).round().to(torch.uint8)[None]
        assert torch.equal(segmenter.predict(image), segmenter.target({"segmap": item["segmap"][None]}))


def test_a_perfect_generator_scores_one_and_constant_ones_at_most_one_half(shapes) -> None:
    perfect = evaluate(LabelModule("real"), shapes)
    assert perfect.values == {"miou_full": 1.0, "miou_full_accuracy": 1.0}
    assert perfect.card["num_label_maps"] == 40 and "SPADE" in perfect.card["reference"]
    for rule in ("dark", "bright", "inverted"):
        assert evaluate(LabelModule(rule), shapes).value <= 0.5, rule
    assert parse_metric("miou_full").higher_is_better
    assert evaluate(LabelModule("real"), shapes, name="miou20").card["num_label_maps"] == 20


def test_miou_shows_a_progress_bar_of_label_maps_when_asked(shapes, capsys) -> None:
    evaluate(LabelModule("real"), shapes, name="miou20", progress=True)
    err = capsys.readouterr().err
    assert "miou20 (fakes from label maps, segmented)" in err and "20/20" in err
    evaluate(LabelModule("real"), shapes, name="miou20")
    assert capsys.readouterr().err == ""


def test_missing_segmenter_names_the_paper_networks_and_where_to_put_one(shapes, tmp_path) -> None:
    from gan_zoo.data import PairedFolderDataset

    class Unknown(ShapesDataset):  # a label-map set that is not the shapes set
        pass

    other = Unknown(resolution=16, num_images=4, with_segmaps=True)
    with pytest.raises(WeightsError, match="DRN-D-105 for cityscapes") as error:
        evaluate(LabelModule("real"), other)
    assert "weights.segmenter" in str(error.value) and "GAN_ZOO_SEGMENTER_WEIGHTS" in str(error.value)
    with pytest.raises(WeightsError, match="nope.pt does not exist"):
        evaluate(LabelModule("real"), shapes, weights={"segmenter": str(tmp_path / "nope.pt")})
    cityscapes_like = PairedFolderDataset.__new__(PairedFolderDataset)
    cityscapes_like.layout, cityscapes_like.provides = "cityscapes", frozenset({"image", "segmap"})
    with pytest.raises(WeightsError, match=r"evaluated this data set with DRN-D-105"):
        MetricEvaluator(["miou_full"]).check(LabelModule("real"), cityscapes_like, torch.device("cpu"))
    with pytest.raises(MetricNotApplicable, match="label maps"):
        evaluate(LabelModule("real"), ShapesDataset(resolution=16, num_images=4))


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit is deprecated in favour of torch.export; still the portable format
def test_a_torchscript_segmenter_is_plugged_in_by_path(shapes, tmp_path) -> None:
    class Threshold(nn.Module):  # logits over the 5 shapes labels: background vs "kind 1" by brightness
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            bright = (x.amax(dim=1, keepdim=True) >= 112 / 255).float()
            return torch.cat([1 - bright, bright, torch.zeros_like(bright).expand(-1, 3, -1, -1)], dim=1)

    path = tmp_path / "segmenter.pt"
    torch.jit.script(Threshold()).save(str(path))
    shapes.label_nc = 5
    try:
        result = evaluate(LabelModule("real"), shapes, weights={"segmenter": str(path)})
    finally:
        del shapes.label_nc
    assert result.card["classes"] == 5 and result.card["segmenter"] == str(path)
    assert 0 < result.value < 1 and result.values["miou_full_accuracy"] > 0.7  # kinds 2-4 are all called 1


def test_label_palette_and_triptych_rows(shapes) -> None:
    palette = label_palette(6)
    assert palette[0].tolist() == [0, 0, 0] and palette[1].tolist() == [128, 0, 0] and len({tuple(c) for c in palette.tolist()}) == 6
    assert colourize(torch.tensor([[[0, 1]]]), 6).shape == (1, 3, 1, 2)
    images = LabelMapTriptych(dirpath="unused", num_images=3).triptych(LabelModule("real"), shapes)
    assert images.shape == (9, 3, 16, 16) and images.dtype == torch.uint8
    assert torch.equal(images[1], images[2])  # the "real" generator's fake is the real image
