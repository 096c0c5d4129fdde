"""PGGAN networks: official parameter counts, shapes and fades across lods, gradient reach, labels."""

import pytest
import torch
from torch import nn

from gan_zoo.layers import downsample_box2x, upsample_nearest2x
from gan_zoo.models.pggan.networks import PGGANDiscriminator, PGGANGenerator, feature_maps

TINY = {"fmap_base": 64, "fmap_max": 16}  # channels 16, 16, 16, 8 at 4, 8, 16, 32 px


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture
def tiny_pair() -> tuple[PGGANGenerator, PGGANDiscriminator]:
    return PGGANGenerator(32, **TINY), PGGANDiscriminator(32, **TINY)


# ---- architecture ------------------------------------------------------------------------------


def test_feature_maps_formula() -> None:
    assert [feature_maps(r - 1, 8192, 1.0, 512) for r in range(2, 11)] == [512, 512, 512, 512, 256, 128, 64, 32, 16]


@pytest.mark.parametrize(
    ("resolution", "g_params", "d_params"),
    [(1024, 23_079_115, 23_087_249), (256, 23_044_309, 23_052_353), (128, 22_933_394, 22_941_313), (32, 20_719_628, 20_726_785)],
)
def test_official_parameter_counts(resolution: int, g_params: int, d_params: int) -> None:
    with torch.device("meta"):  # counting only: no memory, no init cost
        assert _count(PGGANGenerator(resolution)) == g_params
        assert _count(PGGANDiscriminator(resolution)) == d_params


def test_official_per_block_counts_at_1024() -> None:
    with torch.device("meta"):
        G = PGGANGenerator(1024)
    expected = [6_554_624, 4_719_616, 4_719_616, 4_719_616, 1_769_984, 442_624, 110_720, 27_712, 6_944]
    assert [_count(block) for block in G.blocks] == expected
    assert _count(G.to_rgb) == 7_659
    assert (G.z_dim, G.c_dim, G.max_lod, G.resolution, G.num_channels) == (512, 0, 8, 1024, 3)


def test_conditional_parameter_counts() -> None:
    with torch.device("meta"):
        assert _count(PGGANGenerator(32, label_size=10)) == 20_719_628 + 10 * 8192
        assert _count(PGGANDiscriminator(32, label_size=10)) == 20_726_785 + 10 * (512 + 1)


def test_disabling_minibatch_std_drops_its_input_channel() -> None:
    with torch.device("meta"):
        saved = _count(PGGANDiscriminator(32)) - _count(PGGANDiscriminator(32, mbstd_group_size=0))
    assert saved == 512 * 9  # one input channel of the 4×4 conv


def test_relu_option_and_latent_size() -> None:
    G = PGGANGenerator(8, latent_size=7, use_leakyrelu=False, **TINY)
    assert G.z_dim == 7
    assert any(isinstance(m, nn.ReLU) for m in G.modules()) and not any(isinstance(m, nn.LeakyReLU) for m in G.modules())
    assert G(torch.randn(2, 7), lod=0.0).shape == (2, 3, 8, 8)


# ---- forward across lods -----------------------------------------------------------------------


@pytest.mark.parametrize(("lod", "size"), [(0.0, 32), (0.5, 32), (1.0, 16), (1.25, 16), (2.0, 8), (2.9, 8), (3.0, 4)])
def test_shapes_at_lods(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator], lod: float, size: int) -> None:
    G, D = tiny_pair
    images = G(torch.randn(4, G.z_dim), lod=lod)
    assert images.shape == (4, 3, size, size)
    scores, logits = D(images, lod=lod)
    assert scores.shape == (4,) and logits is None


def test_lod_is_validated(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    G, D = tiny_pair
    for lod in (-0.1, 3.1):
        with pytest.raises(ValueError, match=r"lod must lie in \[0, 3\]"):
            G(torch.randn(2, G.z_dim), lod=lod)
        with pytest.raises(ValueError, match=r"lod must lie in \[0, 3\]"):
            D(torch.randn(2, 3, 4, 4), lod=lod)
    with pytest.raises(ValueError, match=r"images must be \[N, 3, 16, 16\]"):
        D(torch.randn(4, 3, 32, 32), lod=1.0)
    with pytest.raises(ValueError, match="z must be"):
        G(torch.randn(2, G.z_dim + 1))
    with pytest.raises(ValueError, match="power of two"):
        PGGANGenerator(48)


def test_generator_fade_is_lerp_of_new_and_upscaled_old(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    G, _ = tiny_pair
    z = torch.randn(2, G.z_dim)
    x8 = G.blocks[1](G.blocks[0](G._network_input(z, None)))
    x16 = G.blocks[2](x8)
    expected = torch.lerp(G.to_rgb[2](x16), upsample_nearest2x(G.to_rgb[1](x8)), 0.25)
    torch.testing.assert_close(G(z, lod=1.25), expected)


def test_generator_is_continuous_across_integer_lods(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    G, _ = tiny_pair
    z = torch.randn(2, G.z_dim)
    at_one = G(z, lod=1.0)
    torch.testing.assert_close(G(z, lod=1.0 + 1e-6), at_one, atol=1e-4, rtol=0)  # new block fully in
    # Just below lod 1 the 32 px block is almost faded out: its output is the 16 px image, upscaled.
    torch.testing.assert_close(G(z, lod=1.0 - 1e-6), upsample_nearest2x(at_one), atol=1e-4, rtol=0)
    assert not torch.allclose(G(z, lod=0.5), upsample_nearest2x(at_one), atol=1e-3)  # the fade matters


def test_discriminator_fade_is_lerp_on_the_input_side(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    _, D = tiny_pair
    images = torch.randn(4, 3, 16, 16)
    x = torch.lerp(D.blocks[2](D.from_rgb[2](images)), D.from_rgb[1](downsample_box2x(images)), 0.75)
    expected = D.blocks[0](D.blocks[1](x))[:, 0]
    torch.testing.assert_close(D(images, lod=1.75)[0], expected)


def test_discriminator_is_continuous_across_integer_lods(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    _, D = tiny_pair
    images = torch.randn(4, 3, 16, 16)
    at_one = D(images, lod=1.0)[0]
    torch.testing.assert_close(D(images, lod=1.0 + 1e-6)[0], at_one, atol=1e-4, rtol=0)
    upscaled = upsample_nearest2x(images)  # just below lod 1, D sees its input box-downscaled
    torch.testing.assert_close(D(upscaled, lod=1.0 - 1e-6)[0], at_one, atol=1e-4, rtol=0)


def test_normalized_latents_ignore_the_scale_of_z(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    G, _ = tiny_pair
    z = torch.randn(2, G.z_dim)
    torch.testing.assert_close(G(z * 5.0, lod=0.0), G(z, lod=0.0), atol=1e-4, rtol=1e-3)


# ---- gradient reach ----------------------------------------------------------------------------


def _params_with_grad(module: nn.Module) -> set[str]:
    return {n for n, p in module.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}


def test_generator_gradients_reach_exactly_the_active_parameters(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    G, _ = tiny_pair
    (G(torch.randn(4, G.z_dim), lod=0.0) * torch.randn(4, 3, 32, 32)).sum().backward()
    unused = {n for n, _ in G.named_parameters() if n.startswith(("to_rgb.0.", "to_rgb.1.", "to_rgb.2."))}
    assert _params_with_grad(G) == {n for n, _ in G.named_parameters()} - unused
    G.zero_grad(set_to_none=True)
    G(torch.randn(4, G.z_dim), lod=0.5).sum().backward()
    assert {"to_rgb.2.weight", "to_rgb.3.weight"} <= _params_with_grad(G)  # both ToRGBs during a fade
    G.zero_grad(set_to_none=True)
    G(torch.randn(4, G.z_dim), lod=3.0).sum().backward()
    assert all(n.startswith(("blocks.0.", "to_rgb.0.")) for n in _params_with_grad(G))  # 4×4 only


def test_discriminator_gradients_reach_exactly_the_active_parameters(tiny_pair: tuple[PGGANGenerator, PGGANDiscriminator]) -> None:
    _, D = tiny_pair
    D(torch.randn(4, 3, 32, 32), lod=0.0)[0].sum().backward()
    unused = {n for n, _ in D.named_parameters() if n.startswith(("from_rgb.0.", "from_rgb.1.", "from_rgb.2."))}
    assert _params_with_grad(D) == {n for n, _ in D.named_parameters()} - unused
    D.zero_grad(set_to_none=True)
    D(torch.randn(4, 3, 16, 16), lod=1.0)[0].sum().backward()
    assert "from_rgb.1.conv.weight" not in _params_with_grad(D)  # no fade at a whole lod
    assert not any(n.startswith("blocks.3.") for n in _params_with_grad(D))


# ---- conditional variant -----------------------------------------------------------------------


def test_conditional_shapes_and_label_logits() -> None:
    G = PGGANGenerator(16, label_size=10, **TINY)
    D = PGGANDiscriminator(16, label_size=10, **TINY)
    labels = torch.eye(10)[torch.tensor([0, 3, 9, 3])]
    images = G(torch.randn(4, G.z_dim), labels, lod=0.5)
    assert images.shape == (4, 3, 16, 16)
    scores, logits = D(images, lod=0.5)
    assert scores.shape == (4,) and logits.shape == (4, 10)
    other = G(torch.randn(4, G.z_dim), torch.eye(10)[torch.tensor([1, 1, 1, 1])], lod=0.5)
    assert other.shape == images.shape
    with pytest.raises(ValueError, match=r"labels must be \[4, 10\]"):
        G(torch.randn(4, G.z_dim), None)
    with pytest.raises(ValueError, match=r"labels must be \[4, 0\]"):
        PGGANGenerator(16, **TINY)(torch.randn(4, 16), labels)


def test_labels_change_the_generated_image() -> None:
    G = PGGANGenerator(8, label_size=3, **TINY)
    z = torch.randn(1, G.z_dim)
    assert not torch.allclose(G(z, torch.tensor([[1.0, 0, 0]])), G(z, torch.tensor([[0.0, 1, 0]])))
