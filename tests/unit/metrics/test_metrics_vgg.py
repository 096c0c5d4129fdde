"""VGG16 features (precision/recall) and LPIPS (PPL) against torch-fidelity and torchmetrics.

One random VGG16 in torchvision's file format (553 MB, written once for this module) is loaded by
every implementation. Documented differences: torch-fidelity keeps P/R features in float32 where
the StyleGAN3 protocol rounds them to float16 (the parity run passes float32); torchmetrics' LPIPS
adds its eps inside the square root of the channel norm, LPIPS/gan-zoo outside (~1e-6 relative).
"""

import pytest
import torch

from gan_zoo.features.extractors import VGG16Features
from gan_zoo.features.lpips import LPIPSVGG
from gan_zoo.metrics.precision_recall import precision_recall
from tests.unit.metrics_support import write_vgg16_weights


@pytest.fixture(scope="module")
def vgg(tmp_path_factory):
    return write_vgg16_weights(tmp_path_factory.mktemp("vgg"))


def test_vgg16_fc2_features_and_precision_recall_match_torch_fidelity(vgg):
    from torch_fidelity.feature_extractor_vgg16 import FeatureExtractorVGG16
    from torch_fidelity.metric_prc import prc_features_to_metric

    path, digest = vgg
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (8, 3, 16, 16), generator=g, dtype=torch.uint8)
    ours = VGG16Features(path, digest)(images)["fc2"]
    theirs = FeatureExtractorVGG16("vgg16", ["fc2_relu"], feature_extractor_weights_path=str(path))(images)[0]
    assert (ours - theirs).abs().max() <= 1e-5 * theirs.abs().max()
    fake, real = ours[:4], ours[4:]
    reference = prc_features_to_metric(theirs[:4], theirs[4:], prc_neighborhood=1, prc_batch_size=3, save_cpu_ram=False, verbose=False)
    precision, recall = precision_recall(fake, real, k=1, batch=3, feature_dtype=torch.float32)
    assert (precision, recall) == (pytest.approx(reference["precision"], rel=1e-4), pytest.approx(reference["recall"], rel=1e-4))


def test_lpips_matches_torchmetrics_with_the_same_trunk(vgg):
    from torchmetrics.functional.image.lpips import _LPIPS

    path, digest = vgg
    ours = LPIPSVGG(path, vgg_sha256=digest)
    theirs = _LPIPS(pretrained=True, net="vgg", pnet_rand=True)
    trunk = {k.removeprefix("features."): v for k, v in torch.load(path, weights_only=True).items() if k.startswith("features.")}
    for name, layer in theirs.net.named_modules():
        if isinstance(layer, torch.nn.Conv2d):
            index = name.split(".")[-1]
            layer.weight.data, layer.bias.data = trunk[f"{index}.weight"], trunk[f"{index}.bias"]
    g = torch.Generator().manual_seed(1)
    x0, x1 = torch.rand(3, 3, 32, 32, generator=g) * 2 - 1, torch.rand(3, 3, 32, 32, generator=g) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(ours(x0, x1), theirs(x0, x1).flatten(), rtol=1e-4)
        assert torch.equal(ours(x0, x0), torch.zeros(3))
