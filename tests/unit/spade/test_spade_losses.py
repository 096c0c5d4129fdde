"""SPADE's loss terms against hand computations, and the VGG19 perceptual loss with random weights
written in torchvision's file format (the real file is never needed in tests)."""

import pytest
import torch
import torchvision

from gan_zoo.losses.feature_matching import feature_matching_loss
from gan_zoo.losses.hinge import hinge_discriminator_loss, hinge_generator_loss
from gan_zoo.losses.perceptual import PerceptualWeightsError, VGGPerceptualLoss, load_vgg19_trunk
from gan_zoo.models.spade.loss import kl_divergence


@pytest.fixture(scope="module")
def vgg19_file(tmp_path_factory):
    """Random VGG19 `features.*` tensors under torchvision's key names (the classifier is not read)."""
    torch.manual_seed(0)
    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])
    path = tmp_path_factory.mktemp("vgg") / "vgg19-random.pth"
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.6.bias"] = torch.zeros(1000)
    torch.save(state, path)
    return path, features


def test_hinge_losses_by_hand() -> None:
    real = [torch.tensor([[2.0, 0.5]]), torch.tensor([[-1.0]])]
    fake = [torch.tensor([[-2.0, 0.0]]), torch.tensor([[1.0]])]
    # scale 0: real relu(1-x) = [0, .5] -> .25; fake relu(1+x) = [0, 1] -> .5; scale 1: real 2, fake 2
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx((0.25 + 2) / 2 + (0.5 + 2) / 2)
    assert hinge_generator_loss(fake).item() == pytest.approx((1.0 + -1.0) / 2)


def test_feature_matching_by_hand_skips_the_last_layer_and_divides_by_scales() -> None:
    fake = [[torch.ones(1, 2), torch.zeros(1, 3), torch.full((1, 1), 9.0)], [torch.full((1, 2), 2.0), torch.zeros(1, 1)]]
    real = [[torch.zeros(1, 2), torch.full((1, 3), -1.0), torch.zeros(1, 1)], [torch.zeros(1, 2), torch.full((1, 1), 5.0)]]
    # scale 0: |1-0| = 1, |0+1| = 1 (last layer ignored); scale 1: |2-0| = 2; / 2 scales
    assert feature_matching_loss(fake, real).item() == pytest.approx((1 + 1 + 2) / 2)
    real_grad = [[t.clone().requires_grad_() for t in scale] for scale in real]
    fake_grad = [[t.clone().requires_grad_() for t in scale] for scale in fake]
    feature_matching_loss(fake_grad, real_grad).backward()
    assert real_grad[0][0].grad is None and fake_grad[0][0].grad is not None  # reals are detached


def test_kl_divergence_by_hand() -> None:
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.0, 1.0]])
    expected = -0.5 * ((1 + 0 - 0.25 - 1) + (1 + 1 - 1 - torch.e))
    assert kl_divergence(mu, logvar).item() == pytest.approx(float(expected))
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0


def test_perceptual_loss_with_random_vgg19_weights_matches_torchvision_slices(vgg19_file) -> None:
    path, features = vgg19_file
    loss = VGGPerceptualLoss(load_vgg19_trunk(path))
    reference = features  # torchvision's own VGG19 feature layers, holding the weights written to the file
    torch.manual_seed(1)
    fake, real = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    expected, x, y = 0.0, fake, real
    for weight, (a, b) in zip((1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0), ((0, 2), (2, 7), (7, 12), (12, 21), (21, 30)), strict=True):
        with torch.no_grad():
            x, y = reference[a:b](x), reference[a:b](y)
            expected += weight * (x - y).abs().mean()
    fake.requires_grad_(True)
    value = loss(fake, real)
    assert value.detach().item() == pytest.approx(float(expected), rel=1e-5)
    value.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert loss(real, real).item() == 0
    assert all(not p.requires_grad for block in loss.slices for p in block.parameters())


def test_missing_or_wrong_vgg19_file_is_an_error_naming_the_file_and_the_fix(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "vgg19-dcbb9e9d.pth"
    with pytest.raises(PerceptualWeightsError, match="does not exist") as error:
        load_vgg19_trunk(missing)
    message = str(error.value)
    assert str(missing) in message and "download.pytorch.org/models/vgg19-dcbb9e9d.pth" in message and "model.lambda_vgg=0" in message
    wrong = tmp_path / "wrong.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, wrong)
    with pytest.raises(PerceptualWeightsError, match="not a torchvision VGG19 state dict"):
        load_vgg19_trunk(wrong)


def test_default_vgg19_location_is_torch_hubs_cache_or_the_environment(monkeypatch, tmp_path) -> None:
    from gan_zoo.losses.perceptual import default_vgg19_path

    monkeypatch.delenv("GAN_ZOO_VGG19_WEIGHTS", raising=False)
    assert default_vgg19_path() == __import__("pathlib").Path(torch.hub.get_dir()) / "checkpoints" / "vgg19-dcbb9e9d.pth"
    monkeypatch.setenv("GAN_ZOO_VGG19_WEIGHTS", str(tmp_path / "v.pth"))
    assert default_vgg19_path() == tmp_path / "v.pth"
