"""StyleGAN v1 layers: AdaIN, noise inputs, the [1,2,1] blur, fused resampling convolutions."""

import pytest
import torch

from gan_zoo.layers.adain import AdaIN, instance_norm
from gan_zoo.layers.blur2d import Blur2d, fir_kernel
from gan_zoo.layers.fused_scale import EqualizedDownConv2d, EqualizedUpConv2d
from gan_zoo.layers.noise_input import NoiseInput


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_adain_normalises_each_map_then_applies_the_style_by_hand() -> None:
    # One sample, two channels of 1x2 pixels: [1, 3] (mean 2, std 1) and [4, 8] (mean 6, std 2).
    x = torch.tensor([[[[1.0, 3.0]], [[4.0, 8.0]]]])
    adain = AdaIN(channels=2, w_dim=2, eps=0.0)
    with torch.no_grad():  # styles (ys, yb) = (w, w): the runtime gain 1/sqrt(2) is undone by the weight
        adain.affine.weight.copy_(torch.cat([torch.eye(2), torch.eye(2)]) * 2**0.5)
    w = torch.tensor([[0.5, -1.0]])  # ys = (0.5, -1.0); yb = (0.5, -1.0)
    out = adain(x, w)
    # normalised maps [-1, 1] and [-1, 1]; channel 0: [-1, 1] * 1.5 + 0.5; channel 1: [-1, 1] * 0 - 1
    assert torch.allclose(out, torch.tensor([[[[-1.0, 2.0]], [[-1.0, -1.0]]]]), atol=1e-6)


def test_instance_norm_gives_zero_mean_unit_variance_per_map() -> None:
    y = instance_norm(torch.randn(3, 4, 8, 8) * 5 + 2)
    assert torch.allclose(y.mean(dim=(2, 3)), torch.zeros(3, 4), atol=1e-5)
    assert torch.allclose(y.square().mean(dim=(2, 3)), torch.ones(3, 4), atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_instance_norm_of_16_bit_activations_computes_in_fp32_and_casts_back(dtype) -> None:
    # As the official instance_norm (tf.cast to float32 and back): a map of mean 40 and std 0.5 keeps a
    # 16-bit-rounded mean (40 +- 0.125 in bf16) otherwise, a shift of a quarter of its std after the norm.
    g = torch.Generator().manual_seed(0)
    x = (40 + 0.5 * torch.randn(2, 3, 8, 8, generator=g)).to(dtype)
    y = instance_norm(x)
    assert y.dtype == dtype
    assert torch.allclose(y.float(), instance_norm(x.float()), rtol=0, atol=2e-2)


def test_adain_refuses_a_style_batch_of_another_size() -> None:
    with pytest.raises(ValueError, match=r"w must be \[2, w_dim\]"):
        AdaIN(4, 8)(torch.randn(2, 4, 4, 4), torch.randn(3, 8))


def test_noise_with_zero_strength_changes_nothing() -> None:
    layer = NoiseInput(channels=3, resolution=8)
    x = torch.randn(2, 3, 8, 8)
    for mode in ("random", "const", "none"):
        assert torch.equal(layer(x, mode), x)


def test_noise_strength_scales_one_map_per_sample_across_channels() -> None:
    layer = NoiseInput(channels=2, resolution=4)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([1.0, -2.0]))
    x = torch.zeros(1, 2, 4, 4)
    out = layer(x, "const")
    assert torch.equal(out[0, 0], layer.noise_const) and torch.equal(out[0, 1], -2 * layer.noise_const)
    assert torch.equal(layer(x, "const"), out)  # const mode is reproducible
    assert not torch.equal(layer(x, "random"), layer(x, "random"))
    assert torch.equal(layer(x, "none"), x)
    with pytest.raises(ValueError, match="noise_mode"):
        layer(x, "sometimes")
    with pytest.raises(ValueError, match=r"noise must be \[1, 1, 4, 4\]"):
        layer(x, noise=torch.zeros(1, 2, 4, 4))


def test_blur_kernel_is_the_normalised_outer_product() -> None:
    kernel = fir_kernel((1, 2, 1))
    assert kernel.sum().item() == pytest.approx(1.0)
    assert torch.equal(kernel, torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)
    blur = Blur2d()
    flat = torch.full((1, 3, 6, 6), 0.7)
    assert torch.allclose(blur(flat)[..., 1:-1, 1:-1], flat[..., 1:-1, 1:-1])  # DC gain 1 inside the borders
    assert "kernel" not in blur.state_dict()  # a constant, not checkpoint state
    with pytest.raises(ValueError, match="odd length"):
        Blur2d((1, 3, 3, 1))


def test_fused_up_conv_equals_nearest_up_then_conv() -> None:
    plain = EqualizedUpConv2d(3, 5, fused=False).double()
    fused = EqualizedUpConv2d(3, 5, fused=True).double()
    fused.load_state_dict(plain.state_dict())
    with torch.no_grad():
        plain.bias.normal_()
        fused.bias.copy_(plain.bias)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    assert plain(x).shape == (2, 5, 12, 12)
    assert torch.allclose(fused(x), plain(x), atol=1e-12)


def test_fused_down_conv_equals_conv_then_box_average() -> None:
    plain = EqualizedDownConv2d(3, 5, fused=False).double()
    fused = EqualizedDownConv2d(3, 5, fused=True).double()
    fused.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    assert plain(x).shape == (2, 5, 4, 4)
    assert torch.allclose(fused(x), plain(x), atol=1e-12)
