"""NVIDIA's VGG16 metric file (StyleGAN2-ADA `vgg16.pt`, StyleGAN3 `vgg16.pkl`) drives P/R and PPL as is.

The real file cannot be downloaded here, so each test scripts a small module with the same call
interface (`forward(img, resize_images, return_features, return_lpips)`) and saves it as TorchScript
under the reference name; its SHA-256 is passed as the expected hash, as a user does for own files.
"""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.errors import WeightsError
from gan_zoo.features import weights
from gan_zoo.features.nvidia_vgg16 import NvidiaLPIPS
from gan_zoo.metrics import MetricEvaluator, MetricOptions
from tests.unit.metrics_support import LinearStyleModule, shapes


class NvidiaStyleVGG(nn.Module):
    """Stand-in with NVIDIA's interface: uint8 or [0, 255] float in; fc2-like features or an LPIPS vector out."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6, 4096)

    def forward(self, img: Tensor, resize_images: bool = True, return_features: bool = False, return_lpips: bool = False) -> Tensor:
        x = img.to(torch.float32)
        if resize_images:
            x = F.interpolate(x, size=(224, 224), mode="area")
        h = torch.relu(self.conv(x / 127.5 - 1))
        if return_lpips:
            h = h / (h.square().sum(dim=1, keepdim=True).sqrt() + 1e-10)
            return h.flatten(1) / float(h[0, 0].numel()) ** 0.5
        features = torch.relu(self.fc(h.mean(dim=(2, 3))))
        return features if return_features else features[:, :1000]


class WithoutInterface(nn.Module):
    def forward(self, img: Tensor) -> Tensor:
        return img.float().flatten(1)


def save_script(module: nn.Module, folder: Path, name: str = "vgg16.pt") -> tuple[Path, str]:
    path = folder / name
    torch.jit.save(torch.jit.script(module), str(path))
    return path, weights.sha256_of(path)


@pytest.fixture(scope="module")
def nvidia_file(tmp_path_factory) -> tuple[Path, str]:
    return save_script(NvidiaStyleVGG(), tmp_path_factory.mktemp("nvidia_vgg"))


def _evaluator(metric: str, path: Path, digest: str) -> MetricEvaluator:
    options = MetricOptions(batch_size=16, sample_block=16, use_cache=False, weights={"vgg16": str(path)}, weights_sha256={"vgg16": digest})
    return MetricEvaluator([metric], options)


def test_precision_recall_features_are_the_files_own_output(nvidia_file):
    path, digest = nvidia_file
    evaluator = _evaluator("pr16_k3", path, digest)
    extractor = evaluator.extractor("vgg16", torch.device("cpu"))
    images = torch.randint(0, 256, (4, 1, 20, 20), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    script = torch.jit.load(str(path))
    expected = script(images.repeat(1, 3, 1, 1), resize_images=True, return_features=True, return_lpips=False)
    assert torch.equal(extractor(images)["fc2"], expected)  # grey -> RGB, uint8 straight in, the file's own resize
    card = extractor.describe()
    assert card["weights"] == "vgg16.pt" and card["weights_sha256"] == digest and card["reference_weights"] is False
    assert "NVIDIA" in card["extractor"]


def test_ppl_distance_is_the_squared_difference_of_the_lpips_vectors(nvidia_file):
    path, _ = nvidia_file
    g = torch.Generator().manual_seed(1)
    x0, x1 = torch.rand(3, 3, 16, 16, generator=g) * 2 - 1, torch.rand(3, 3, 16, 16, generator=g) * 2 - 1
    script = torch.jit.load(str(path))
    a = script((x0 + 1) * 127.5, resize_images=False, return_features=False, return_lpips=True)
    b = script((x1 + 1) * 127.5, resize_images=False, return_features=False, return_lpips=True)
    distance = NvidiaLPIPS(path)
    assert torch.allclose(distance(x0, x1), (a - b).square().sum(1), rtol=1e-5)
    assert torch.equal(distance(x0, x0), torch.zeros(3))


def test_ppl_through_the_evaluator_uses_the_file_without_lpips_linear_layers(nvidia_file, tmp_path):
    path, digest = nvidia_file
    evaluator = _evaluator("ppl2_wend32", path, digest)
    evaluator.options.weights["lpips_vgg"] = str(tmp_path / "no_such_vgg.pth")  # would fail if LPIPSVGG were built
    (result,) = evaluator.evaluate(LinearStyleModule(), shapes(8))
    explicit = MetricEvaluator(["ppl2_wend32"], MetricOptions(batch_size=16, sample_block=16, use_cache=False), distance=NvidiaLPIPS(path))
    (same,) = explicit.evaluate(LinearStyleModule(), shapes(8))
    assert result.value == same.value > 0
    assert result.card["distance_network"].startswith("NVIDIA vgg16.pt") and result.card["weights_sha256"] == {"vgg16": digest}


def test_the_nvidia_file_is_preferred_in_the_cache_and_checked_against_its_pinned_hash(nvidia_file, tmp_path, monkeypatch):
    path, digest = nvidia_file
    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(weights.VGG16.env, raising=False)
    folder = tmp_path / "cache" / "weights"
    folder.mkdir(parents=True)
    (folder / "vgg16-397923af.pth").write_bytes(b"torchvision file")
    (folder / "vgg16.pt").write_bytes(path.read_bytes())
    assert weights.resolve(weights.VGG16, sha256=digest) == folder / "vgg16.pt"
    # Under its reference name, without an explicit hash, the file must be NVIDIA's bytes.
    with pytest.raises(WeightsError, match=r"vgg16\.pt has SHA-256 .* starting b437eb095feaeb0b"):
        weights.resolve(weights.VGG16)


def test_a_torchscript_without_nvidias_interface_is_refused_by_name(tmp_path):
    path, digest = save_script(WithoutInterface(), tmp_path)
    evaluator = _evaluator("pr16_k3", path, digest)
    with pytest.raises(WeightsError, match=r"vgg16\.pt .*no resize_images, return_features, return_lpips"):
        evaluator.extractor("vgg16", torch.device("cpu"))


def test_a_missing_vgg16_names_both_the_torchvision_and_the_nvidia_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(weights.VGG16.env, raising=False)
    with pytest.raises(WeightsError) as error:
        weights.resolve(weights.VGG16)
    message = str(error.value)
    assert "vgg16-397923af.pth" in message and "stylegan2-ada-pytorch/pretrained/metrics/vgg16.pt" in message
