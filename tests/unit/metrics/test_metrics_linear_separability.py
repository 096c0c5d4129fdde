"""Linear separability: the entropy arithmetic by hand, separable vs XOR attributes, classifier folders, StyleGAN2."""

import json

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from gan_zoo.features.attribute_classifiers import AttributeClassifiers, celebahq_filename, load_attribute_classifiers
from gan_zoo.metrics import MetricEvaluator, MetricOptions, WeightsError, parse_metric
from gan_zoo.metrics.linear_separability import conditional_entropy_bits, downsample_for_classifier, separability_score
from tests.unit.metrics_support import TinyModule, shapes

BLOCK = 50


class CoordinateG(nn.Module):
    """mapping: w = f(z) (identity, or (z0*z1, z1, ...)); synthesis writes w into the first pixels (+ tiny noise)."""

    def __init__(self, z_dim: int = 4, product_mapping: bool = False, resolution: int = 16) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.num_ws, self.resolution = z_dim, 0, 3, resolution
        self.product_mapping = product_mapping
        self.noise_modes: list[str] = []

    def mapping(self, z: Tensor, c: Tensor | None, truncation_psi: float = 1.0) -> Tensor:
        w = torch.cat([z[:, :1] * z[:, 1:2], z[:, 1:]], dim=1) if self.product_mapping else z
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)

    def synthesis(self, ws: Tensor, noise_mode: str = "random") -> Tensor:
        self.noise_modes.append(noise_mode)
        images = torch.randn(ws.shape[0], 3, self.resolution, self.resolution) * 1e-3  # the "noise inputs"
        images[:, 0, 0, : self.z_dim] += ws[:, -1]
        return images


class CoordinateModule(TinyModule):
    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.G_ema = CoordinateG(**kwargs)
        self.anchor = nn.Parameter(torch.zeros(1))


class PixelProduct(nn.Module):
    """Logit = 10 * product of the given pixels of the first row: one pixel = a linear cut, two = XOR."""

    def __init__(self, *pixels: int) -> None:
        super().__init__()
        self.pixels = list(pixels)

    def forward(self, images: Tensor) -> Tensor:
        return 10 * images[:, 0, 0, self.pixels].prod(dim=1)


def _ls(module, classifiers: dict[str, nn.Module], count: int = 400) -> dict[str, float]:
    options = MetricOptions(batch_size=BLOCK, sample_block=BLOCK, use_cache=False)
    evaluator = MetricEvaluator([f"ls{count}"], options, attribute_classifiers=AttributeClassifiers(classifiers))
    (result,) = evaluator.evaluate(module, shapes(8))
    assert result.card["num_keep"] == count // 2 and "linear separability" in result.card["reference"]
    return result.values


def test_conditional_entropy_and_score_by_hand():
    # Joint p(x, y) = [[.4, .1], [.1, .4]]: H(Y|X) = H(0.8, 0.2) = 0.7219 bits.
    predicted = np.array([0] * 5 + [1] * 5)
    target = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
    assert conditional_entropy_bits(predicted, target) == pytest.approx(-(0.8 * np.log2(0.8) + 0.2 * np.log2(0.2)))
    assert conditional_entropy_bits(target, target) == 0.0
    # Independent predictions carry no information: H(Y|X) = H(Y) = 1 bit for balanced labels.
    assert conditional_entropy_bits(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) == pytest.approx(1.0)
    assert separability_score([0.5, 1.5]) == 4.0


def test_names_parse_with_the_paper_counts():
    paper = parse_metric("ls")
    assert (paper.kind, paper.num_gen, dict(paper.options)["keep"]) == ("ls", 200_000, 100_000)
    assert dict(parse_metric("ls2k").options)["keep"] == 1000
    assert not paper.higher_is_better


def test_a_linear_attribute_scores_one_and_xor_about_two():
    values = _ls(CoordinateModule(), {"linear": PixelProduct(0)})
    assert values["ls400_z"] == pytest.approx(1.0, abs=0.02) and values["ls400_w"] == pytest.approx(1.0, abs=0.02)
    xor = _ls(CoordinateModule(), {"xor": PixelProduct(0, 1)})
    # sign(z0 z1) has no linear cut: the best line leaves about one bit of uncertainty.
    assert xor["ls400_z"] > 1.7 and xor["ls400_w"] > 1.7


def test_z_and_w_are_measured_separately():
    # w0 = z0 z1: the attribute sign(w0) is a linear cut in W but XOR in Z.
    module = CoordinateModule(product_mapping=True)
    values = _ls(module, {"w0": PixelProduct(0)})
    assert values["ls400_w"] == pytest.approx(1.0, abs=0.02)
    assert values["ls400_z"] > 1.7
    assert set(module.G_ema.noise_modes) == {"random"}  # NVIDIA: randomize_noise=True


def test_scores_multiply_over_attributes_and_repeat_exactly():
    one = _ls(CoordinateModule(), {"xor": PixelProduct(0, 1)})
    both = _ls(CoordinateModule(), {"linear": PixelProduct(2), "xor": PixelProduct(0, 1)})
    assert both["ls400_z"] == pytest.approx(one["ls400_z"], rel=0.02)
    assert _ls(CoordinateModule(), {"xor": PixelProduct(0, 1)}) == one


def test_downsampling_is_a_box_filter_to_256():
    images = torch.arange(2 * 3 * 512 * 512, dtype=torch.float32).view(2, 3, 512, 512)
    small = downsample_for_classifier(images)
    assert small.shape == (2, 3, 256, 256)
    assert small[0, 0, 0, 0] == images[0, 0, :2, :2].mean()
    assert downsample_for_classifier(images[..., :64, :64]).shape[-1] == 64


# ---- classifier folders: tiny classifiers trained on shapes attributes ------------------------------


class TinyAttributeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 8, 3, 2, 1), nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 1)
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)


def _shapes_attributes(images: Tensor) -> dict[str, Tensor]:
    """Two colour attributes of shapes images: brighter than the median image, and redder than blue."""
    brightness = images.mean(dim=(1, 2, 3))
    return {"bright": (brightness > brightness.median()).float(), "reddish": (images[:, 0].mean(dim=(1, 2)) > images[:, 2].mean(dim=(1, 2))).float()}


def _train_classifiers(folder) -> dict[str, float]:
    """Train one tiny net per attribute on shapes, save them as TorchScript + manifest; return held-out accuracies."""
    torch.manual_seed(0)
    data = shapes(768)
    items = [data[i] for i in range(len(data))]
    images = torch.stack([x["image"] for x in items])
    targets = _shapes_attributes(images)
    accuracies, manifest = {}, {}
    for name, y in targets.items():
        net = TinyAttributeNet()
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
        for _ in range(200):
            index = torch.randint(0, 640, (64,))
            # positive logit = class 0 (NVIDIA's convention), so the target of "has the attribute" is a negative logit
            loss = nn.functional.binary_cross_entropy_with_logits(-net(images[index])[:, 0], y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            accuracies[name] = float(((net(images[640:])[:, 0] < 0).float() == y[640:]).float().mean())
        # torch.export's .pt2 is the recommended format; TorchScript .pt (older conversions) loads too.
        example = (images[:2],)
        batch = torch.export.Dim("batch", min=1)
        exported = torch.export.export(net.eval(), example, dynamic_shapes=({0: batch},))
        torch.export.save(exported, str(folder / f"{name}.pt2"))
        manifest[name] = f"{name}.pt2"
    (folder / "attributes.json").write_text(json.dumps({"attributes": manifest}))
    return accuracies


def test_classifier_folder_from_shapes_runs_on_stylegan2(tmp_path):
    from tests.unit.stylegan2.test_stylegan2_module import tiny_module

    accuracies = _train_classifiers(tmp_path)
    # Both are near-linear in the pooled colours: a working classifier is far above chance (50 %).
    assert min(accuracies.values()) > 0.9, accuracies
    loaded = load_attribute_classifiers(tmp_path)
    assert loaded.names == ["bright", "reddish"]
    module = tiny_module()
    options = MetricOptions(batch_size=BLOCK, sample_block=BLOCK, use_cache=False, weights={"ls_classifiers": str(tmp_path)})
    (result,) = MetricEvaluator(["ls200"], options).evaluate(module, shapes(8))
    for space in ("z", "w"):
        assert 1.0 <= result.values[f"ls200_{space}"] <= 4.0  # 2 attributes: at most 2 bits in all
    assert set(result.card["classifier_sha256"]) == {"bright", "reddish"}
    assert set(result.card["conditional_entropy_bits"]) == {"bright", "reddish"}


def test_missing_classifiers_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_ZOO_LS_CLASSIFIERS", raising=False)
    with pytest.raises(WeightsError, match="celebahq-classifiers.*celebahq-classifier-00-male.pt2"):
        load_attribute_classifiers()
    (tmp_path / "set").mkdir()
    torch.jit.save(torch.jit.script(TinyAttributeNet()), str(tmp_path / "set" / celebahq_filename(0, ".pt")))  # legacy TorchScript
    with pytest.raises(WeightsError, match="39 classifier files missing.*celebahq-classifier-01-smiling.pt2"):
        load_attribute_classifiers(tmp_path / "set")
    with pytest.raises(WeightsError, match="no attribute classifier folder"):
        MetricEvaluator(["ls200"], MetricOptions(weights={"ls_classifiers": str(tmp_path / "nowhere")})).check(CoordinateModule(), shapes(8))


def test_a_family_without_mapping_is_refused():
    from gan_zoo.metrics import MetricNotApplicable

    with pytest.raises(MetricNotApplicable, match="ls200"):
        MetricEvaluator(["ls200"], attribute_classifiers=AttributeClassifiers({"a": PixelProduct(0)})).check(TinyModule(), shapes(8))
