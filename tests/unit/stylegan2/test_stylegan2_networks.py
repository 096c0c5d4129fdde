"""StyleGAN2 networks: official parameter counts, shapes, gradients, truncation, style mixing, noise."""

import pytest
import torch
from torch import nn

from gan_zoo.layers.style_mixing import crossover_styles, draw_cutoff
from gan_zoo.models.stylegan2.discriminator import Discriminator
from gan_zoo.models.stylegan2.generator import Generator
from gan_zoo.models.stylegan2.mapping import MappingNetwork

TINY = {"channel_base": 256, "channel_max": 16}  # 16 channels up to 16 px, 8 at 32 px


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def tiny_generator(resolution: int = 16, c_dim: int = 0) -> Generator:
    return Generator(resolution, c_dim=c_dim, z_dim=8, w_dim=8, mapping={"num_layers": 2}, synthesis=TINY)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# ---- official architecture ----------------------------------------------------------------------
# Counts computed by building NVlabs/stylegan2-ada-pytorch `training/networks.py` Generator/Discriminator with
# the kwargs `train.py` derives from its `--cfg` presets (channel_base = fmaps * 32768, map, D architecture).

OFFICIAL = [  # resolution, channel_base, mapping layers, c_dim, D architecture, G, mapping, synthesis, D
    (1024, 32768, 8, 0, "resnet", 30_370_060, 2_101_248, 28_268_812, 29_012_513),
    (512, 32768, 8, 0, "resnet", 30_276_583, 2_101_248, 28_175_335, 28_982_849),
    (256, 32768, 8, 0, "resnet", 30_034_338, 2_101_248, 27_933_090, 28_864_129),
    (256, 16384, 8, 0, "resnet", 24_767_458, 2_101_248, 22_666_210, 24_001_089),
    (1024, 16384, 8, 0, "resnet", 24_900_764, 2_101_248, 22_799_516, 24_038_161),
    (32, 32768, 2, 0, "orig", 19_947_539, 525_312, 19_422_227, 20_720_641),
    (32, 32768, 2, 10, "orig", 20_215_315, 793_088, 19_422_227, 23_089_664),
]


@pytest.mark.parametrize(("res", "cbase", "layers", "c_dim", "arch", "g", "mapping", "synthesis", "d"), OFFICIAL)
def test_official_parameter_counts(res, cbase, layers, c_dim, arch, g, mapping, synthesis, d) -> None:
    with torch.device("meta"):
        G = Generator(res, c_dim=c_dim, mapping={"num_layers": layers}, synthesis={"channel_base": cbase})
        D = Discriminator(res, c_dim=c_dim, architecture=arch, channel_base=cbase)
    assert (_count(G), _count(G.mapping), _count(G.synthesis), _count(D)) == (g, mapping, synthesis, d)


def test_official_per_block_counts_and_buffers_at_1024() -> None:
    with torch.device("meta"):
        G, D = Generator(1024), Discriminator(1024)
    g_blocks = [_count(getattr(G.synthesis, f"b{r}")) for r in G.synthesis.block_resolutions]
    assert g_blocks == [2_894_852] + [5_509_125] * 4 + [2_296_069, 705_669, 242_245, 93_477]
    d_blocks = [_count(getattr(D, f"b{r}")) for r in D.block_resolutions]
    assert d_blocks == [29_920, 118_976, 475_520, 1_901_312] + [4_981_760] * 4
    assert _count(D.b4) == 6_559_745
    assert G.num_ws == 18
    persistent = sum(b.numel() for name, b in G.state_dict().items() if "noise_const" in name or "w_avg" in name)
    assert persistent == 512 + sum(2 * r * r for r in G.synthesis.block_resolutions) - 16  # b4 has one conv
    # all of the official G's buffers (w_avg, noise_const, the [4, 4] resample filters)
    assert sum(v.numel() for v in G.state_dict().values()) - _count(G) == 2_797_104


def test_state_dict_names_follow_the_ada_layout() -> None:
    keys = set(tiny_generator(16, c_dim=3).state_dict()) | {f"D.{k}" for k in Discriminator(16, c_dim=3, **TINY).state_dict()}
    for expected in (
        "mapping.w_avg",
        "mapping.embed.weight",
        "mapping.fc1.bias",
        "synthesis.b4.const",
        "synthesis.b8.conv0.weight",
        "synthesis.b8.conv0.affine.bias",
        "synthesis.b8.conv1.noise_strength",
        "synthesis.b16.conv1.noise_const",
        "synthesis.b16.torgb.weight",
        "D.b16.fromrgb.weight",
        "D.b8.skip.weight",
        "D.b4.conv.weight",
        "D.b4.fc.weight",
        "D.b4.out.weight",
        "D.mapping.fc7.weight",
    ):
        assert expected in keys, expected


def test_resample_filters_are_persistent_2d_buffers_where_the_official_layers_have_them() -> None:
    G, D = tiny_generator(16), Discriminator(16, **TINY)
    expected_g = {"synthesis.b4.resample_filter", "synthesis.b4.conv1.resample_filter"} | {
        f"synthesis.b{r}.{layer}resample_filter" for r in (8, 16) for layer in ("", "conv0.", "conv1.")
    }
    expected_d = (
        {f"b16.{layer}resample_filter" for layer in ("", "fromrgb.", "conv0.", "conv1.", "skip.")}
        | {f"b8.{layer}resample_filter" for layer in ("", "conv0.", "conv1.", "skip.")}
        | {"b4.conv.resample_filter"}
    )
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    official = torch.outer(taps, taps) / 64  # setup_filter([1, 3, 3, 1]): outer product over its sum
    for network, expected in ((G, expected_g), (D, expected_d)):
        state = network.state_dict()
        assert {k for k in state if k.endswith("resample_filter")} == expected
        for key in expected:
            assert torch.equal(state[key], official), key
        network.load_state_dict({k: v.clone() for k, v in state.items()}, strict=True)


# ---- shapes, gradients, errors ---------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["resnet", "orig"])
@pytest.mark.parametrize("c_dim", [0, 3])
def test_shapes_and_gradients_reach_every_parameter(arch: str, c_dim: int) -> None:
    G = tiny_generator(32, c_dim)
    D = Discriminator(32, c_dim=c_dim, architecture=arch, **TINY)
    z = torch.randn(4, 8)
    c = nn.functional.one_hot(torch.tensor([0, 1, 2, 0]), 3).float() if c_dim else None
    images = G(z, c)
    assert images.shape == (4, 3, 32, 32) and torch.isfinite(images).all()
    logits = D(images, c)
    assert logits.shape == (4,)
    logits.sum().backward()
    for name, p in [*G.named_parameters(), *D.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0 or "noise_strength" in name, name


def test_noise_strength_gets_gradient_once_noise_is_on() -> None:
    G = tiny_generator()
    for module in G.modules():
        if hasattr(module, "noise_strength"):
            nn.init.constant_(module.noise_strength, 0.1)
    G(torch.randn(2, 8)).square().sum().backward()
    assert all(m.noise_strength.grad.abs() > 0 for m in G.modules() if hasattr(m, "noise_strength"))


def test_bad_inputs_are_refused_with_shapes_in_the_message() -> None:
    G, D = tiny_generator(c_dim=3), Discriminator(16, **TINY)
    with pytest.raises(ValueError, match=r"z must be \[N, 8\]"):
        G(torch.randn(2, 5), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="one-hot"):
        G(torch.randn(2, 8))
    with pytest.raises(ValueError, match=r"ws must be \[N, 6, 8\]"):
        G.synthesis(torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(torch.randn(2, 6, 8), noise_mode="fresh")
    with pytest.raises(ValueError, match=r"images must be \[N, 3, 16, 16\]"):
        D(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match="power of two"):
        Generator(48)
    with pytest.raises(ValueError, match="architecture"):
        Discriminator(16, architecture="skip")


# ---- mapping: w_avg, truncation ------------------------------------------------------------------


def test_w_avg_tracks_the_mean_only_in_training_calls() -> None:
    mapping = MappingNetwork(8, 0, 8, num_ws=4, num_layers=2)
    z = torch.randn(16, 8)
    mapping.eval()
    mapping(z)
    assert mapping.w_avg.abs().sum() == 0
    mapping.train()
    mapping(z, update_w_avg=False)
    assert mapping.w_avg.abs().sum() == 0
    w = mapping(z)[:, 0]
    torch.testing.assert_close(mapping.w_avg, w.mean(dim=0) * (1 - 0.995))


def test_truncation_psi_one_is_identity_and_psi_zero_gives_w_avg() -> None:
    mapping = MappingNetwork(8, 0, 8, num_ws=6, num_layers=2).eval()
    mapping.w_avg.copy_(torch.randn(8))
    z = torch.randn(5, 8)
    plain = mapping(z)
    torch.testing.assert_close(mapping(z, truncation_psi=1.0), plain)
    torch.testing.assert_close(mapping(z, truncation_psi=0.0), mapping.w_avg.expand(5, 6, 8))
    half = mapping(z, truncation_psi=0.5, truncation_cutoff=2)
    torch.testing.assert_close(half[:, :2], mapping.w_avg + 0.5 * (plain[:, :2] - mapping.w_avg))
    torch.testing.assert_close(half[:, 2:], plain[:, 2:])


def test_conditional_mapping_embeds_normalised_labels() -> None:
    mapping = MappingNetwork(8, 3, 8, num_ws=None, num_layers=1).eval()
    z = torch.randn(2, 8)
    c = torch.eye(3)[:2]
    assert not torch.allclose(mapping(z, c)[0], mapping(z, torch.eye(3)[[1, 1]])[0])
    # the embedding is normalised: scaling the one-hot label changes nothing
    torch.testing.assert_close(mapping(z, c), mapping(z, 7 * c))
    label_only = MappingNetwork(0, 3, 8, num_ws=None, w_avg_beta=None)
    assert label_only(None, c).shape == (2, 8)


# ---- style mixing -------------------------------------------------------------------------------


def test_style_mixing_switches_at_the_chosen_layer() -> None:
    G = tiny_generator().eval()
    ws1, ws2 = G.mapping(torch.randn(3, 8)), G.mapping(torch.randn(3, 8))
    for cutoff in range(1, G.num_ws):
        mixed = crossover_styles(ws1, ws2, cutoff)
        torch.testing.assert_close(mixed[:, :cutoff], ws1[:, :cutoff])
        torch.testing.assert_close(mixed[:, cutoff:], ws2[:, cutoff:])
    # through the network: with the same noise, only layers from the cutoff on change the image
    a = G.synthesis(crossover_styles(ws1, ws2, G.num_ws), noise_mode="const")
    torch.testing.assert_close(a, G.synthesis(ws1, noise_mode="const"))
    assert not torch.allclose(G.synthesis(crossover_styles(ws1, ws2, 3), noise_mode="const"), a)


def test_cutoff_draws() -> None:
    torch.manual_seed(1)
    never = {draw_cutoff(8, 0.0) for _ in range(50)}
    always = [draw_cutoff(8, 1.0) for _ in range(400)]
    assert never == {8}
    assert set(always) == set(range(1, 8))
    sometimes = [draw_cutoff(8, 0.9) for _ in range(1000)]
    assert 0.85 < sum(c < 8 for c in sometimes) / 1000 < 0.95


# ---- noise ------------------------------------------------------------------------------------------


def test_noise_modes() -> None:
    G = tiny_generator().eval()
    for module in G.modules():
        if hasattr(module, "noise_strength"):
            nn.init.constant_(module.noise_strength, 0.5)
    ws = G.mapping(torch.randn(2, 8))
    const = G.synthesis(ws, noise_mode="const")
    torch.testing.assert_close(G.synthesis(ws, noise_mode="const"), const)
    assert not torch.allclose(G.synthesis(ws, noise_mode="random"), G.synthesis(ws, noise_mode="random"))
    assert not torch.allclose(G.synthesis(ws, noise_mode="none"), const)
    calls = []

    def randn(*shape: int) -> torch.Tensor:
        calls.append(shape)
        return torch.zeros(*shape)

    torch.testing.assert_close(G.synthesis(ws, noise_mode="random", randn=randn), G.synthesis(ws, noise_mode="none"))
    assert calls and all(shape[:2] == (2, 1) for shape in calls)


def test_fused_and_unfused_paths_agree() -> None:
    G = tiny_generator().double()
    ws = G.mapping(torch.randn(3, 8, dtype=torch.float64))
    torch.testing.assert_close(G.synthesis(ws, noise_mode="const", fused=True), G.synthesis(ws, noise_mode="const", fused=False))
