"""Projected GAN's FastGAN generators: official parameter counts and state-dict names, the layers each
resolution builds (the official ones up to 256 px always, those it never runs frozen), output shapes,
gradients, determinism and the conditional variant."""

import pytest
import torch

from gan_zoo.models.projected_gan.blocks import ConditionalBatchNorm, NoiseInjection
from gan_zoo.models.projected_gan.generator import FastGANGenerator

# All parameters (spectral norm's u and v are buffers), counted on the official `Generator` of
# autonomousvision/projected-gan `pg_modules/networks_fastgan.py` (`train.py --cfg fastgan|fastgan_lite` kwargs).
# Below 256 px the official synthesis also holds feat_256/se_256 (and below 128 px feat_128/se_128),
# which it never runs: gan-zoo keeps them frozen, so they count in the total but not as trainable.
OFFICIAL_COUNTS = [
    (dict(lite=True, img_resolution=256), 79_354_307, 79_354_307),
    (dict(lite=True, img_resolution=1024), 79_531_379, 79_531_379),
    (dict(lite=False, img_resolution=256), 105_684_175, 105_684_175),
    (dict(lite=True, img_resolution=128), 79_356_035, 78_679_939),
    (dict(lite=True, img_resolution=64), 79_359_491, 75_979_523),
    (dict(lite=True, img_resolution=128, ngf=32), 8_109_347, 8_067_043),
    (dict(lite=False, img_resolution=128, ngf=32), 9_756_655, 9_709_677),
    (dict(lite=True, img_resolution=128, ngf=32, c_dim=1000), 8_938_787, 8_880_099),
    (dict(lite=False, img_resolution=128, ngf=32, c_dim=1000), 11_159_529, 11_079_784),
]


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def tiny(**kwargs) -> FastGANGenerator:
    return FastGANGenerator(**{"z_dim": 16, "ngf": 8, "img_resolution": 64, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "total", "trainable"), OFFICIAL_COUNTS,
    ids=["lite256", "lite1024", "full256", "lite128", "lite64", "lite128_ngf32", "full128_ngf32", "cond_lite128_ngf32", "cond_full128_ngf32"],
)  # fmt: skip
def test_official_parameter_counts(kwargs: dict, total: int, trainable: int) -> None:
    with torch.device("meta"):
        generator = FastGANGenerator(**kwargs)
    assert generator.z_dim == 256 and generator.img_resolution == kwargs["img_resolution"]
    assert sum(p.numel() for p in generator.parameters()) == total
    assert sum(p.numel() for p in generator.parameters() if p.requires_grad) == trainable


def test_state_dict_uses_the_official_names() -> None:
    with torch.device("meta"):
        lite, full = FastGANGenerator(lite=True), FastGANGenerator(lite=False)
    lite_keys, full_keys = set(lite.state_dict()), set(full.state_dict())
    common = {
        "synthesis.init.init.0.weight_orig",
        "synthesis.init.init.0.weight_u",
        "synthesis.init.init.1.running_var",
        "synthesis.se_64.main.1.weight_orig",
        "synthesis.se_256.main.3.weight_v",
        "synthesis.to_big.bias",
    }
    assert common <= lite_keys and common <= full_keys
    # lite: upsample, conv, BN, GLU; full: upsample, (conv, noise, BN, GLU) x 2
    assert {"synthesis.feat_8.1.weight_orig", "synthesis.feat_256.2.weight"} <= lite_keys
    assert {"synthesis.feat_8.2.weight", "synthesis.feat_8.5.weight_orig", "synthesis.feat_256.7.bias"} <= full_keys
    assert not any(k.endswith(("weight_u", "weight_v")) for k, _ in full.named_parameters())


@pytest.mark.parametrize("c_dim", [0, 10], ids=["uncond", "cond"])
@pytest.mark.parametrize("lite", [True, False], ids=["lite", "full"])
def test_128_px_holds_the_official_256_px_layers(lite: bool, c_dim: int) -> None:
    """The official synthesis builds feat_256 and se_256 at 128 px: their keys are there, with the
    shapes of a 256 px model's (which has the same channels up to 256 px)."""
    with torch.device("meta"):
        at_128 = FastGANGenerator(img_resolution=128, ngf=32, lite=lite, c_dim=c_dim, num_classes=10).state_dict()
        at_256 = FastGANGenerator(img_resolution=256, ngf=32, lite=lite, c_dim=c_dim, num_classes=10).state_dict()
    layers_256 = {k for k in at_256 if k.startswith(("synthesis.feat_256.", "synthesis.se_256."))}
    assert layers_256 and layers_256 <= set(at_128)
    assert all(at_128[k].shape == at_256[k].shape for k in layers_256)
    assert set(at_128) ^ set(at_256) == set()  # only the shape of to_big differs
    assert at_128["synthesis.to_big.weight_orig"].shape[1] == 32 and at_256["synthesis.to_big.weight_orig"].shape[1] == 16


@pytest.mark.parametrize(
    ("resolution", "feats", "ses", "unused"),
    [
        (32, [8, 16, 32, 64, 128, 256], [64, 128, 256], ["feat_64", "feat_128", "feat_256", "se_64", "se_128", "se_256"]),
        (64, [8, 16, 32, 64, 128, 256], [64, 128, 256], ["feat_128", "feat_256", "se_128", "se_256"]),
        (128, [8, 16, 32, 64, 128, 256], [64, 128, 256], ["feat_256", "se_256"]),
        (256, [8, 16, 32, 64, 128, 256], [64, 128, 256], []),
        (1024, [8, 16, 32, 64, 128, 256, 512, 1024], [64, 128, 256, 512], []),
    ],
)
def test_each_resolution_builds_the_official_blocks_and_freezes_those_it_never_runs(
    resolution: int, feats: list[int], ses: list[int], unused: list[str]
) -> None:
    with torch.device("meta"):
        synthesis = FastGANGenerator(img_resolution=resolution, lite=True).synthesis
    children = {name for name, _ in synthesis.named_children()}
    assert children == {"init", "to_big"} | {f"feat_{r}" for r in feats} | {f"se_{r}" for r in ses}
    assert synthesis.to_big.in_channels == int(128 * {32: 2, 64: 2, 128: 1, 256: 0.5, 1024: 0.125}[resolution])
    assert synthesis.unused_layers == unused
    frozen = {name.split(".")[0] for name, p in synthesis.named_parameters() if not p.requires_grad}
    assert frozen == set(unused)


@pytest.mark.parametrize("c_dim", [0, 5], ids=["uncond", "cond"])
@pytest.mark.parametrize("lite", [True, False], ids=["lite", "full"])
def test_the_frozen_layers_are_never_run(lite: bool, c_dim: int) -> None:
    """No gradient reaches them, perturbing them changes nothing, and a training-mode pass leaves their
    buffers (batch-norm statistics, spectral-norm vectors) alone."""
    generator = tiny(img_resolution=128, lite=lite, c_dim=c_dim, num_classes=7)
    unused = tuple(f"synthesis.{name}." for name in generator.synthesis.unused_layers)
    assert unused == ("synthesis.feat_256.", "synthesis.se_256.")
    c = torch.nn.functional.one_hot(torch.tensor([0, 3, 4, 1]), 5).float() if c_dim else None
    z = torch.randn(4, 16)
    before = {k: v.clone() for k, v in generator.state_dict().items() if k.startswith(unused)}
    generator(z, c).square().mean().backward()
    frozen = [(n, p) for n, p in generator.named_parameters() if n.startswith(unused)]
    assert frozen and all(not p.requires_grad and p.grad is None for _, p in frozen)
    assert all(torch.equal(v, before[k]) for k, v in generator.state_dict().items() if k.startswith(unused))

    warmed_up(generator, c)
    reference = generator(z, c, noise_mode="none")
    with torch.no_grad():
        for _, p in frozen:
            p.add_(torch.randn_like(p))
    torch.testing.assert_close(generator(z, c, noise_mode="none"), reference, rtol=0, atol=0)


@pytest.mark.parametrize("lite", [True, False], ids=["lite", "full"])
def test_renders_256_px(lite: bool) -> None:
    generator = FastGANGenerator(lite=True) if lite else FastGANGenerator(lite=False, ngf=16)
    with torch.no_grad():
        img = generator(torch.randn(2, 256))
    assert img.shape == (2, 3, 256, 256)
    assert torch.isfinite(img).all() and img.abs().max() < 10  # no tanh, as official: nominal [-1, 1]


@pytest.mark.parametrize("resolution", [8, 16, 32, 64, 128])
@pytest.mark.parametrize("lite", [True, False], ids=["lite", "full"])
def test_tiny_variants_render_every_small_resolution(resolution: int, lite: bool) -> None:
    generator = tiny(img_resolution=resolution, lite=lite, img_channels=1)
    img = generator(torch.randn(3, 16))
    assert img.shape == (3, 1, resolution, resolution) and torch.isfinite(img).all()


@pytest.mark.parametrize("c_dim", [0, 5], ids=["uncond", "cond"])
@pytest.mark.parametrize("lite", [True, False], ids=["lite", "full"])
def test_gradients_reach_every_parameter(lite: bool, c_dim: int) -> None:
    generator = tiny(lite=lite, c_dim=c_dim, num_classes=7)
    c = torch.nn.functional.one_hot(torch.tensor([0, 3, 4]), 5).float() if c_dim else None
    generator(torch.randn(3, 16), c).square().mean().backward()
    for name, p in generator.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    noise_weights = [m.weight for m in generator.modules() if isinstance(m, NoiseInjection) and m.weight.requires_grad]
    assert len(noise_weights) == (0 if lite else 4 if c_dim else 8)  # a conditional block shares one


def warmed_up(generator: FastGANGenerator, c: torch.Tensor | None = None) -> FastGANGenerator:
    """A few training-mode passes fill the BN statistics and the spectral-norm vectors eval mode uses."""
    with torch.no_grad():
        for _ in range(3):
            generator(torch.randn(4, generator.z_dim), c)
    return generator.eval()


def test_eval_output_is_deterministic_for_a_fixed_z() -> None:
    z = torch.randn(2, 16)
    lite = warmed_up(tiny(lite=True))
    torch.testing.assert_close(lite(z), lite(z), rtol=0, atol=0)

    full = warmed_up(tiny(lite=False))
    for m in full.modules():
        if isinstance(m, NoiseInjection):
            m.weight.data.fill_(0.5)
    torch.testing.assert_close(full(z, noise_mode="none"), full(z, noise_mode="none"), rtol=0, atol=0)
    assert not torch.equal(full(z), full(z))  # the official noise is redrawn on every call
    with pytest.raises(ValueError, match="noise_mode"):
        full(z, noise_mode="const")


def test_labels_select_the_class_embedding() -> None:
    generator = warmed_up(tiny(lite=True, c_dim=3, num_classes=3), torch.eye(3)[[0, 1, 2, 0]])
    z = torch.randn(1, 16).expand(3, -1)
    img = generator(z, torch.eye(3))
    assert not torch.allclose(img[0], img[1]) and not torch.allclose(img[1], img[2])
    soft = torch.tensor([[0.2, 0.7, 0.1]] * 3)  # the official code indexes by argmax
    torch.testing.assert_close(generator(z, soft)[0], img[1])


def test_conditional_batch_norm_is_plain_batch_norm_where_gain_and_bias_vanish() -> None:
    norm = ConditionalBatchNorm(channels=4, embed_dim=6)
    norm.gain.bias.data.zero_()
    norm.bias.bias.data.zero_()
    x = torch.randn(5, 4, 3, 3) * 2 + 1
    plain = torch.nn.functional.batch_norm(x, None, None, training=True)
    torch.testing.assert_close(norm(x, torch.zeros(5, 6)), plain)  # a zero embedding: gain 1 + 0, bias 0
    assert not torch.allclose(norm(x, torch.randn(5, 6)), plain)
    assert norm.stored_mean.abs().sum() > 0  # running statistics are updated in training mode


def test_refuses_bad_configurations() -> None:
    with pytest.raises(ValueError, match="power of two"):
        FastGANGenerator(img_resolution=48)
    with pytest.raises(ValueError, match="ngf"):
        FastGANGenerator(img_resolution=1024, ngf=4)
    with pytest.raises(ValueError, match="num_classes"):
        FastGANGenerator(c_dim=10, num_classes=5)
    generator = tiny()
    with pytest.raises(ValueError, match="unconditional"):
        generator(torch.randn(2, 16), torch.eye(2))
    with pytest.raises(ValueError, match=r"z must be \[N, 16\]"):
        generator(torch.randn(2, 8))
    with pytest.raises(ValueError, match="one-hot"):
        tiny(c_dim=3)(torch.randn(2, 16))
    assert generator(torch.randn(2, 16), torch.zeros(2, 0)).shape == (2, 3, 64, 64)
