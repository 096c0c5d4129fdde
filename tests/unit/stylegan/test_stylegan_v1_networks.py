"""StyleGAN v1 networks: official parameter counts, mapping/synthesis interface, truncation, style
mixing, shapes and gradient reach at every level of detail, conditioning, input checks."""

import re

import pytest
import torch
from torch import nn

from gan_zoo.layers.style_mixing import crossover_styles
from gan_zoo.models.stylegan.mapping import truncate
from gan_zoo.models.stylegan.networks import StyleGANDiscriminator, StyleGANGenerator

# Channels 16, 16, 16, 8 at 4, 8, 16, 32 px; a 2-layer 16-wide mapping.
TINY_G = {"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "mapping_fmaps": 16, "fmap_base": 64, "fmap_max": 16}
TINY_D = {"fmap_base": 64, "fmap_max": 16}


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# ---- architecture -------------------------------------------------------------------------------
# Counts from the layer code of NVlabs/stylegan `training/networks_stylegan.py` G_style/G_mapping/G_synthesis and
# D_basic at their defaults (config F).


@pytest.mark.parametrize(
    ("resolution", "g_params", "synthesis_params", "d_params"),
    [(1024, 26_219_627, 24_118_379, 23_087_249), (512, 26_179_768, 24_078_520, 23_080_225), (256, 26_086_229, 23_984_981, 23_052_353)],
)
def test_official_parameter_counts(resolution: int, g_params: int, synthesis_params: int, d_params: int) -> None:
    with torch.device("meta"):  # counting only
        G, D = StyleGANGenerator(resolution), StyleGANDiscriminator(resolution)
    assert (_count(G), _count(G.mapping), _count(G.synthesis), _count(D)) == (g_params, 2_101_248, synthesis_params, d_params)


def test_official_per_block_counts_at_1024() -> None:
    with torch.device("meta"):
        G = StyleGANGenerator(1024)
    expected = [3_420_160, 5_771_264, 5_771_264, 5_771_264, 2_295_808, 705_536, 242_176, 93_440, 39_808]
    assert [_count(block) for block in G.synthesis.blocks] == expected
    assert _count(G.synthesis.to_rgb) == 7_659
    assert (G.num_ws, G.max_lod, G.z_dim, G.w_dim) == (18, 8, 512, 512)


def test_fused_scale_auto_fuses_from_128_px_only() -> None:
    with torch.device("meta"):
        G, D = StyleGANGenerator(256), StyleGANDiscriminator(256)
    assert [block.conv0.fused for block in G.synthesis.blocks[1:]] == [False, False, False, False, True, True]
    assert [block.conv1.fused for block in D.blocks[1:]] == [False, False, False, False, True, True]


def test_const_input_is_ones_and_noise_strengths_start_at_zero() -> None:
    G = StyleGANGenerator(32, **TINY_G)
    assert torch.equal(G.synthesis.blocks[0].const, torch.ones(1, 16, 4, 4))
    strengths = [p for name, p in G.named_parameters() if name.endswith("noise.weight")]
    assert len(strengths) == G.num_ws and all(torch.equal(s, torch.zeros_like(s)) for s in strengths)


# ---- mapping, truncation, mixing ----------------------------------------------------------------


def test_mapping_returns_one_w_broadcast_to_every_layer() -> None:
    G = StyleGANGenerator(32, **TINY_G)
    ws = G.mapping(torch.randn(3, 16))
    assert ws.shape == (3, G.num_ws, 16) and G.num_ws == 8
    assert torch.equal(ws, ws[:, :1].expand_as(ws))


def test_mapping_learning_rate_multiplier_scales_stored_weights() -> None:
    G = StyleGANGenerator(32, **{**TINY_G, "mapping_lr_mul": 0.01})
    fc = G.mapping.fcs[0]
    assert fc.weight.std().item() == pytest.approx(100.0, rel=0.2)  # stored N(0, 1/lr_mul²)
    assert fc.weight_gain == pytest.approx(2**0.5 * 0.01 / 16**0.5) and fc.bias_gain == 0.01


def test_truncation_psi_one_is_identity_and_psi_zero_gives_w_avg() -> None:
    G = StyleGANGenerator(32, **TINY_G)
    G.mapping.w_avg.normal_()
    z = torch.randn(4, 16)
    ws = G.mapping(z)
    assert torch.equal(G.mapping(z, truncation_psi=1.0), ws)
    assert torch.allclose(G.mapping(z, truncation_psi=0.0), G.mapping.w_avg.expand_as(ws))
    cut = G.mapping(z, truncation_psi=0.0, truncation_cutoff=3)
    assert torch.allclose(cut[:, :3], G.mapping.w_avg.expand(4, 3, 16)) and torch.equal(cut[:, 3:], ws[:, 3:])
    half = truncate(ws, G.mapping.w_avg, psi=0.5)
    assert torch.allclose(half, (ws + G.mapping.w_avg) / 2, atol=1e-6)


def test_w_avg_tracking_is_a_lerp_with_beta() -> None:
    G = StyleGANGenerator(32, **{**TINY_G, "w_avg_beta": 0.9})
    G.mapping.w_avg.fill_(1.0)
    G.mapping.track_w_avg(torch.full((16,), 3.0))
    assert torch.allclose(G.mapping.w_avg, torch.full((16,), 0.9 * 1.0 + 0.1 * 3.0))


@pytest.mark.parametrize("cutoff", [1, 3, 7])
def test_style_mixing_switches_at_the_chosen_layer(cutoff: int) -> None:
    ws, ws2 = torch.zeros(2, 8, 4), torch.ones(2, 8, 4)
    mixed = crossover_styles(ws, ws2, cutoff)
    assert mixed[:, :cutoff].eq(0).all() and mixed[:, cutoff:].eq(1).all()
    assert torch.equal(crossover_styles(ws, ws2, torch.tensor(cutoff)), mixed)
    assert torch.equal(crossover_styles(ws, ws2, 8), ws)
    with pytest.raises(ValueError, match="crossover"):
        crossover_styles(ws, ws2, 9)


def test_mixed_styles_change_only_the_layers_after_the_crossover() -> None:
    G = StyleGANGenerator(32, **TINY_G).eval()
    with torch.no_grad():  # make every style matter
        for block in G.synthesis.blocks:
            for epilogue in (block.epilogue0, block.epilogue1):
                epilogue.adain.affine.weight.mul_(3)
    ws, ws2 = G.mapping(torch.randn(1, 16)), G.mapping(torch.randn(1, 16))
    base = G.synthesis(ws, noise_mode="const", lod=0)
    fine = G.synthesis(crossover_styles(ws, ws2, G.num_ws - 1), noise_mode="const", lod=0)
    coarse = G.synthesis(crossover_styles(ws, ws2, 1), noise_mode="const", lod=0)
    assert not torch.allclose(base, fine) and not torch.allclose(base, coarse)
    assert (fine - base).abs().mean() < (coarse - base).abs().mean()  # the last style only touches 32x32 detail


# ---- growing: shapes, fades, gradients ----------------------------------------------------------


@pytest.mark.parametrize("lod", [3.0, 2.5, 2.0, 1.5, 1.0, 0.5, 0.0])
def test_shapes_and_gradients_reach_every_active_parameter_at_every_lod(lod: float) -> None:
    G, D = StyleGANGenerator(32, **TINY_G), StyleGANDiscriminator(32, **TINY_D)
    with torch.no_grad():  # let gradients reach the noise strengths too
        for name, p in G.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.1)
    size = 4 * 2 ** (3 - int(lod))
    z = torch.randn(4, 16)
    image = G.synthesis(G.mapping(z), lod=lod, full_resolution=False)
    assert image.shape == (4, 3, size, size)
    assert G.synthesis(G.mapping(z), lod=lod).shape == (4, 3, 32, 32)  # official output: upscaled to full size
    scores = D(image, lod=lod)
    assert scores.shape == (4,) and torch.isfinite(scores).all()
    scores.sum().backward()
    level = 3 - int(lod)
    faded = lod != int(lod)
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        found = re.search(r"(blocks|to_rgb|from_rgb)\.(\d+)", name)
        if found is None:  # the mapping network
            active = True
        elif found.group(1) == "blocks":
            active = int(found.group(2)) <= level
        else:  # the newest ToRGB/FromRGB, and while fading also the one below
            active = int(found.group(2)) == level or (faded and int(found.group(2)) == level - 1)
        assert (p.grad is not None and p.grad.abs().sum() > 0) == active, name


def test_fade_blends_the_upscaled_lower_resolution_image() -> None:
    G = StyleGANGenerator(16, **TINY_G).eval()
    ws = G.mapping(torch.randn(2, 16))
    at_8 = G.synthesis(ws, noise_mode="const", lod=1.0, full_resolution=False)
    at_16 = G.synthesis(ws, noise_mode="const", lod=0.0)
    mid = G.synthesis(ws, noise_mode="const", lod=0.25)
    up = at_8.repeat_interleave(2, 2).repeat_interleave(2, 3)
    assert torch.allclose(mid, torch.lerp(at_16, up, 0.25), atol=1e-6)


def test_lod_buffer_is_the_default_level_of_detail() -> None:
    G = StyleGANGenerator(32, **TINY_G).eval()
    ws = G.mapping(torch.randn(2, 16))
    G.synthesis.lod.fill_(1.5)
    assert torch.equal(G.synthesis(ws, noise_mode="const"), G.synthesis(ws, noise_mode="const", lod=1.5))
    assert "synthesis.lod" in G.state_dict() and "mapping.w_avg" in G.state_dict()


def test_const_noise_is_deterministic_and_random_noise_is_not() -> None:
    G = StyleGANGenerator(16, **TINY_G).eval()
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.5)
    z = torch.randn(2, 16)
    assert torch.equal(G(z, noise_mode="const"), G(z, noise_mode="const"))
    assert not torch.equal(G(z, noise_mode="random"), G(z, noise_mode="random"))
    assert not torch.equal(G(z, noise_mode="none"), G(z, noise_mode="const"))


# ---- conditioning and input checks ---------------------------------------------------------------


def test_conditional_networks_embed_labels_and_switch_scores() -> None:
    G = StyleGANGenerator(8, label_size=3, **TINY_G)
    D = StyleGANDiscriminator(8, label_size=3, **TINY_D)
    with torch.device("meta"):
        assert _count(StyleGANGenerator(8, label_size=3, **TINY_G)) - _count(StyleGANGenerator(8, **TINY_G)) == 3 * 16 + 16 * 16
    c = torch.eye(3)[[0, 2]]
    images = G(torch.randn(2, 16), c)
    raw = D.trunk(images)
    assert raw.shape == (2, 3)
    assert torch.allclose(D(images, c), raw[[0, 1], [0, 2]])
    with pytest.raises(ValueError, match="conditional"):
        G(torch.randn(2, 16))
    with pytest.raises(ValueError, match="conditional"):
        D(images)


def test_bad_inputs_fail_with_a_sentence() -> None:
    G, D = StyleGANGenerator(16, **TINY_G), StyleGANDiscriminator(16, **TINY_D)
    with pytest.raises(ValueError, match=r"z must be \[N, 16\]"):
        G.mapping(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"ws must be \[N, 6, 16\]"):
        G.synthesis(torch.randn(2, 5, 16))
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(G.mapping(torch.randn(2, 16)), noise_mode="fresh")
    with pytest.raises(ValueError, match="lod must lie in"):
        G.synthesis(G.mapping(torch.randn(2, 16)), lod=3)
    with pytest.raises(ValueError, match="unconditional"):
        D(torch.randn(2, 3, 16, 16), torch.eye(2))
    with pytest.raises(ValueError, match="power of two"):
        StyleGANDiscriminator(48)
    with pytest.raises(ValueError, match="fused_scale"):
        StyleGANGenerator(16, fused_scale="sometimes", **{k: v for k, v in TINY_G.items()})
