"""StarGAN v2's official evaluation networks against independent implementations, on random weights
in the torchvision file formats: Inception-v3 features against torchvision's own forward, LPIPS-AlexNet
against torchmetrics' LPIPS. Documented difference: torchmetrics adds its eps inside the square root
of the channel norm, LPIPS/StarGAN v2/gan-zoo outside (~1e-6 relative)."""

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from gan_zoo.errors import WeightsError
from gan_zoo.features import weights
from gan_zoo.features.stargan_networks import LPIPSAlex, TorchvisionInceptionFeatures, pil_resize
from tests.unit.metrics_support import write_alexnet_weights, write_tv_inception_weights


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stargan_eval")
    return write_tv_inception_weights(folder), write_alexnet_weights(folder)


def test_inception_features_are_torchvisions_avgpool_on_pil_resized_imagenet_normalised_images(files):
    (path, digest), _ = files
    g = torch.Generator().manual_seed(0)
    images = [torch.randint(0, 256, (3, 40, 40), generator=g, dtype=torch.uint8), torch.randint(0, 256, (3, 64, 48), generator=g, dtype=torch.uint8)]
    ours = TorchvisionInceptionFeatures(path, digest)(images)
    model = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
    model.load_state_dict(torch.load(path, weights_only=True))
    model.fc = torch.nn.Identity()
    model.eval()
    resized = []
    for image in images:
        picture = Image.fromarray(image.permute(1, 2, 0).numpy()).resize((299, 299), Image.Resampling.BILINEAR)
        resized.append(torch.from_numpy(np.asarray(picture).copy()).permute(2, 0, 1))
    x = torchvision.transforms.functional.normalize(torch.stack(resized).float() / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        theirs = model(x)
    assert ours.shape == (2, 2048)
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_pil_resize_keeps_grey_for_the_model_and_makes_rgb_for_inception():
    grey = torch.arange(64, dtype=torch.uint8).view(1, 8, 8)
    assert pil_resize(grey, 4, rgb=False).shape == (1, 4, 4)
    rgb = pil_resize(grey, 4)
    assert rgb.shape == (3, 4, 4) and torch.equal(rgb[0], rgb[1])


def test_lpips_alex_matches_torchmetrics_with_the_same_trunk(files, tmp_path):
    from torchmetrics.functional.image.lpips import _LPIPS

    _, (path, digest) = files
    ours = LPIPSAlex(path, alexnet_sha256=digest)
    theirs = _LPIPS(pretrained=True, net="alex", pnet_rand=True)
    trunk = torch.load(path, weights_only=True)
    for name, layer in theirs.net.named_modules():
        if isinstance(layer, torch.nn.Conv2d):
            index = name.split(".")[-1]
            layer.weight.data, layer.bias.data = trunk[f"features.{index}.weight"], trunk[f"features.{index}.bias"]
    g = torch.Generator().manual_seed(1)
    x0, x1 = torch.rand(3, 3, 64, 64, generator=g) * 2 - 1, torch.rand(3, 3, 64, 64, generator=g) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(ours(x0, x1), theirs(x0, x1).flatten(), rtol=1e-4)
        assert torch.equal(ours(x0, x0), torch.zeros(3))
    # StarGAN v2's own calibration file (metrics/lpips_weights.ckpt) names the same layers differently.
    renamed = {f"lpips_weights.{i}.main.1.weight": lin.weight.detach().clone() for i, lin in enumerate(ours.lins)}
    torch.save(renamed, tmp_path / "lpips_weights.ckpt")
    official = LPIPSAlex(path, tmp_path / "lpips_weights.ckpt", alexnet_sha256=digest)
    with torch.no_grad():
        assert torch.equal(official(x0, x1), ours(x0, x1))
    assert official.card["distance_network"].endswith("lpips_weights.ckpt")


def test_missing_alexnet_and_inception_name_their_files(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for spec in (weights.ALEXNET, weights.TV_INCEPTION):
        monkeypatch.delenv(spec.env, raising=False)
    with pytest.raises(WeightsError, match=r"alexnet-owt-7be5be79\.pth.*download\.pytorch\.org/models/alexnet-owt-7be5be79\.pth"):
        LPIPSAlex()
    with pytest.raises(WeightsError, match=r"inception_v3_google-0cc3c7bd\.pth"):
        TorchvisionInceptionFeatures()


def test_a_foreign_calibration_file_is_refused_by_name(files, tmp_path):
    _, (path, digest) = files
    torch.save({"something.weight": torch.zeros(1)}, tmp_path / "alex.pth")
    with pytest.raises(WeightsError, match=r"alex\.pth holds .*not the five LPIPS AlexNet linear layers"):
        LPIPSAlex(path, tmp_path / "alex.pth", alexnet_sha256=digest, lin_sha256=weights.sha256_of(tmp_path / "alex.pth"))
