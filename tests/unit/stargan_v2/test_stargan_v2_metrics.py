"""The StarGAN v2 evaluation metric kind: names, per-task FID and LPIPS diversity, checks.

The torchvision Inception-v3 weights are random (tests/unit/metrics_support.py); the LPIPS distance
is replaced by a plain L1 distance: the protocol (tasks, 10 outputs, pairs, averages) is what is
tested here, the networks themselves by tests/unit/stargan_v2/test_stargan_eval_networks.py.
"""

import pytest
import torch

from gan_zoo.data.domain_pairs import shapes_domain_pairs
from gan_zoo.metrics import MetricError, MetricEvaluator, MetricNotApplicable, MetricOptions, parse_metric
from gan_zoo.models.stargan_v2.module import StarGANv2Module
from gan_zoo.registry import list_metrics
from tests.unit.metrics_support import write_tv_inception_weights

TINY = {"latent_dim": 4, "style_dim": 6, "max_conv_dim": 16, "channel_base": 64, "mapping_hidden": 8}


class L1Distance(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return (x0 - x1).abs().flatten(1).mean(1)


@pytest.fixture(scope="module")
def inception(tmp_path_factory):
    return write_tv_inception_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="module")
def dataset():
    return shapes_domain_pairs(resolution=16, num_images=16, val_images=24, kinds=[0, 1])


def evaluator(names, inception, distance=None, **extra) -> MetricEvaluator:
    path, digest = inception
    options = MetricOptions(weights={"tv_inception": str(path)}, weights_sha256={"tv_inception": digest}, use_cache=False, batch_size=4, **extra)
    return MetricEvaluator(names, options, distance=distance or L1Distance())


def test_names_parse_and_are_listed() -> None:
    assert {"translation_latent", "translation_reference"} <= set(list_metrics())
    spec = parse_metric("translation_latent100")
    assert spec.kind == "translation" and dict(spec.options) == {"mode": "latent", "max_sources": 100, "outputs": 10}
    assert dict(parse_metric("translation_reference").options)["max_sources"] is None
    assert not spec.higher_is_better
    with pytest.raises(MetricError, match="at least one source"):
        parse_metric("translation_latent0")


@pytest.mark.slow  # random Inception on CPU: about a minute
def test_per_task_fid_and_lpips_over_ten_outputs(inception, dataset, capsys) -> None:
    torch.manual_seed(0)
    module = StarGANv2Module(resolution=16, num_domains=2, **TINY)
    distance = L1Distance()
    results = evaluator(["translation_latent2", "translation_reference2"], inception, distance).evaluate(module, dataset)
    tasks = ["square2circle", "circle2square"]
    for result in results:
        name = result.name
        assert list(result.values)[:2] == [f"{name}_fid", f"{name}_lpips"]
        assert set(result.values) == {f"{name}_fid", f"{name}_lpips", *(f"{name}_fid/{t}" for t in tasks), *(f"{name}_lpips/{t}" for t in tasks)}
        fids = [result.values[f"{name}_fid/{t}"] for t in tasks]
        assert result.values[f"{name}_fid"] == pytest.approx(sum(fids) / 2)
        assert all(v > 0 for v in result.values.values())
        assert result.card["tasks"] == tasks and result.card["outputs_per_input"] == 10
    # 2 tasks x 1 batch of 2 sources x 45 pairs of the 10 outputs, per mode
    assert distance.calls == 2 * 2 * 45
    # latent-guided outputs of one input differ (diversity > 0); the metric is deterministic per seed
    again = evaluator(["translation_latent2"], inception, progress=True).evaluate(module, dataset)[0]
    assert again.values == results[0].values
    # the bar counts translated images: 2 tasks x 2 sources x 10 outputs
    err = capsys.readouterr().err
    assert "translation_latent2 (translations)" in err and "40/40" in err


def test_refused_without_validation_split_or_for_non_translation_models(inception) -> None:
    from tests.unit.metrics_support import TinyModule, shapes

    no_val = shapes_domain_pairs(resolution=16, num_images=16, val_images=0, kinds=[0, 1])
    module = StarGANv2Module(resolution=16, num_domains=2, **TINY)
    with pytest.raises(MetricError, match="no validation split"):
        evaluator(["translation_latent"], inception).check(module, no_val)
    with pytest.raises(MetricNotApplicable, match="do not translate"):
        evaluator(["translation_latent"], inception).check(TinyModule(), shapes(4))
