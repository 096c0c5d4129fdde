"""StyleGAN-XL generator: official parameter counts and names, alias-free translation, super-resolution
growing, gradients, per-class w averages and truncation, the pretrained class embedding."""

import math

import pytest
import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.layers.filtered_lrelu import filtered_lrelu
from gan_zoo.models.stylegan3.synthesis_layer import modulated_conv2d_sg3
from gan_zoo.models.stylegan_xl.generator import StyleGANXLGenerator
from gan_zoo.models.stylegan_xl.mapping import MappingNetwork
from gan_zoo.models.stylegan_xl.superres import build_generator, grow_from_state_dict, grow_generator, train_head_only

# Small behaviour-test generators: 32 channels everywhere, 6 layers, w 32, z 16.
TINY = dict(z_dim=16, w_dim=32, channel_base=2048, channel_max=32, num_layers=6)


def _total(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# ---- official architecture ----------------------------------------------------------------------
# Counts and state-dict names of autonomousvision/stylegan-xl `training/networks_stylegan3_resetting.py`
# Generator and SuperresGenerator, built with the kwargs `train.py` passes them.

# The ImageNet stem: `train.py --cfg=stylegan3-t --syn_layers 10`, cbase/cmax doubled to 65536/1024 (our defaults).
IMAGENET_STEM = dict(c_dim=1000, num_layers=10)

# resolution, G total, synthesis, num_ws (official, each stage a SuperresGenerator(head_layers=7, up_factor=2)
# on the previous one), trainable (head layers only; this implementation,
# which freezes as the official loss's train_head_only does except for the Fourier input, see superres.py)
STAGES = [
    (16, 101_883_463, 101_214_215, 12, 101_883_463),
    (32, 151_701_063, 151_031_815, 17, 70_273_027),
    (64, 201_518_663, 200_849_415, 22, 70_273_027),
    (128, 225_850_243, 225_180_995, 27, 44_787_007),
    (256, 233_375_910, 232_706_662, 32, 13_531_527),
    (512, 235_471_137, 234_801_889, 37, 3_805_358),
    (1024, 236_106_655, 235_437_407, 42, 1_168_025),
]


@pytest.mark.parametrize(("res", "total", "synthesis", "num_ws", "trainable"), STAGES)
def test_official_parameter_counts_per_stage(res, total, synthesis, num_ws, trainable) -> None:
    with torch.device("meta"):
        G = build_generator(res, stem_resolution=16, head_layers=7, up_factor=2, **IMAGENET_STEM)
    assert (_total(G), _total(G.synthesis), _total(G.mapping), G.num_ws) == (total, synthesis, 669_248, num_ws)
    assert G.mapping.num_ws == G.synthesis.num_ws == num_ws and G.img_resolution == G.synthesis.img_resolution == res
    assert _trainable(G) == trainable
    if res > 16:
        head = sum(_total(getattr(G.synthesis, name)) for name in G.head_layer_names)
        assert trainable == head and len(G.head_layer_names) == 8


def test_official_parameter_counts_other_stems() -> None:
    with torch.device("meta"):
        default_layers = StyleGANXLGenerator(c_dim=1000, num_layers=14)  # train.py's default --syn_layers 14
        # README small-data setting --cbase 16384 --cmax 256 --syn_layers 7: train.py doubles cbase and
        # cmax before building the network. Unconditional, yet the official G keeps its embedding (unused).
        small = StyleGANXLGenerator(c_dim=0, num_layers=7, channel_base=32768, channel_max=512)
    assert _total(default_layers) == 141_737_543
    assert _total(small) == 19_501_575
    assert _trainable(small) == 19_501_575 - 320_000  # the unused embedding is frozen


def test_official_state_dict_names_and_shapes() -> None:
    with torch.device("meta"):
        stem = StyleGANXLGenerator(**IMAGENET_STEM)
        top = build_generator(1024, **IMAGENET_STEM)
    shapes = {k: tuple(v.shape) for k, v in stem.state_dict().items()}
    assert shapes["mapping.embed.weight"] == (1000, 320)
    assert shapes["mapping.embed_proj.weight"] == (64, 320)
    assert shapes["mapping.fc0.weight"] == (512, 128) and shapes["mapping.fc1.weight"] == (512, 512)
    assert shapes["mapping.w_avg"] == (1000, 512)
    assert shapes["synthesis.input.weight"] == (1024, 1024)
    assert shapes["synthesis.input.affine.weight"] == (4, 512)
    assert {"synthesis.input.transform", "synthesis.input.freqs", "synthesis.input.phases"} <= shapes.keys()
    assert stem.synthesis.layer_names == [f"L{i}_36_1024" for i in range(9)] + ["L9_16_1024", "L10_16_3"]
    for name in ("weight", "bias", "magnitude_ema", "up_filter", "down_filter", "affine.weight", "affine.bias"):
        assert f"synthesis.L0_36_1024.{name}" in shapes
    assert shapes["synthesis.L10_16_3.weight"] == (3, 1024, 1, 1)
    assert "synthesis.L10_16_3.up_filter" not in shapes and "synthesis.L10_16_3.down_filter" not in shapes
    top_names = top.synthesis.layer_names
    assert top_names[:8] == [f"L{i}_36_1024" for i in range(8)] and top_names[8].startswith("L9_")  # L8 skipped
    assert top_names[-1] == "L41_1024_3" and len(top_names) == top.num_ws - 1


def test_official_layer_schedule_filters_and_paddings() -> None:
    signal = pytest.importorskip("scipy.signal")
    G = StyleGANXLGenerator(z_dim=8, w_dim=8, channel_max=8, num_layers=10)  # the stem schedule, few channels
    first, critical, torgb = G.synthesis.L0_36_8, G.synthesis.L9_16_8, G.synthesis.L10_16_3
    # L0: rates 16 -> 32 -> 16, cutoffs 2 -> 2, half width max(2^2.1, 16/2) - 2 = 6.
    assert (first.up_factor, first.down_factor, first.tmp_sampling_rate) == (2, 2, 32)
    expected = signal.firwin(numtaps=12, cutoff=2, width=12, fs=32)
    torch.testing.assert_close(first.up_filter, torch.as_tensor(expected, dtype=torch.float32))
    # Padding by hand: before downsampling (36 - 1)·2 + 1 = 71 samples are needed; the full 3×3 conv
    # and upsampling give (36 + 2)·2 = 76; the two 12-tap filters take 22: total 71 - 76 + 22 = 17,
    # split (17 + 2) // 2 = 9 in front and 8 behind. The critically sampled L9 (36 -> 16): (16 - 1)·2 + 1
    # - 76 + 22 = -23 -> (-23 + 2) // 2 = -11 and -12 (a crop of the margin).
    assert first.padding == (9, 8, 9, 8)
    assert critical.padding == (-11, -12, -11, -12)
    assert torgb.padding == (0, 0, 0, 0) and torgb.up_filter is None and torgb.down_filter is None
    assert [layer.is_critically_sampled for layer in G.synthesis.layers()] == [False] * 8 + [True] * 3


# ---- behaviour --------------------------------------------------------------------------------------


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """EQ-T's PSNR (StyleGAN3 metrics): images in [-1, 1], peak-to-peak 2."""
    return 20 * math.log10(2) - 10 * math.log10((a - b).square().mean().item())


def test_translating_the_input_translates_the_image_alias_free() -> None:
    # EQ-T with integer output shifts (StyleGAN3 §4, `eqt_int`). At 32² the first layers run at sampling
    # rate 16, so a one-pixel output shift is a half-sample shift there: it only comes out as an exact
    # shift if no layer aliases. The transform buffer is the inverse of the image's motion.
    G = StyleGANXLGenerator(img_resolution=32, **TINY).eval()
    assert G.synthesis.layers()[0].in_sampling_rate == 16
    z = torch.randn(2, TINY["z_dim"])

    def render(dx: int, dy: int) -> torch.Tensor:
        G.synthesis.input.transform.copy_(torch.tensor([[1, 0, -dx / 32], [0, 1, -dy / 32], [0, 0, 1.0]]))
        with torch.no_grad():
            return G(z)

    crop = slice(4, -4)  # content that enters from outside the margin differs near the border
    reference = render(0, 0)
    for dx, dy in [(1, 0), (-1, 2)]:
        moved = render(dx, dy)
        expected = torch.roll(reference, shifts=(dy, dx), dims=(2, 3))
        assert _psnr(moved[..., crop, crop], reference[..., crop, crop]) < 50  # the shift is visible
        # Measured ~108-112 dB (float32 arithmetic and the Kaiser filters' finite stopband). The same
        # network with its downsampling filters replaced by unit impulses (plain subsampling after
        # the nonlinearity, i.e. aliasing) measures ~63 dB, like a trained StyleGAN2; 90 dB separates them.
        assert _psnr(moved[..., crop, crop], expected[..., crop, crop]) > 90

    for layer in G.synthesis.layers():
        if layer.down_filter is not None:
            impulse = torch.zeros_like(layer.down_filter)
            impulse[len(impulse) // 2] = 1
            layer.down_filter = impulse
    reference = render(0, 0)
    expected = torch.roll(reference, shifts=(0, 1), dims=(2, 3))
    assert _psnr(render(1, 0)[..., crop, crop], expected[..., crop, crop]) < 75  # the test can fail


def test_forward_shapes_conditional_and_unconditional() -> None:
    G = StyleGANXLGenerator(img_resolution=16, c_dim=5, rand_embedding=True, **TINY)
    c = torch.eye(5)[[0, 4, 2]]
    img = G(torch.randn(3, 16), c)
    assert img.shape == (3, 3, 16, 16) and img.dtype == torch.float32 and torch.isfinite(img).all()
    assert G.num_ws == TINY["num_layers"] + 2 and G.mapping(torch.randn(3, 16), c).shape == (3, G.num_ws, 32)
    U = StyleGANXLGenerator(img_resolution=16, **TINY)
    assert U(torch.randn(2, 16)).shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="one-hot"):
        G(torch.randn(3, 16))
    with pytest.raises(ValueError, match="ws"):
        G.synthesis(torch.randn(3, G.num_ws + 1, 32))


def test_every_trainable_parameter_gets_a_gradient() -> None:
    G = StyleGANXLGenerator(img_resolution=16, c_dim=4, rand_embedding=True, **TINY)
    G(torch.randn(4, 16), torch.eye(4)).square().mean().backward()
    missing = [n for n, p in G.named_parameters() if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())]
    assert not missing
    assert all(p.grad.abs().sum() > 0 for n, p in G.named_parameters() if p.requires_grad and n != "mapping.embed.weight")
    assert G.mapping.embed.weight.grad[:4].abs().sum() > 0 and G.mapping.embed.weight.grad[4:].abs().sum() == 0

    grown = grow_generator(G, head_layers=4)
    grown(torch.randn(2, 16), torch.eye(4)[:2]).square().mean().backward()
    with_grad = {n for n, p in grown.named_parameters() if p.grad is not None}
    trainable = {n for n, p in grown.named_parameters() if p.requires_grad}
    assert with_grad == trainable and all(n.split(".")[1] in grown.head_layer_names for n in trainable)


def test_path_length_double_backward_reaches_the_weights() -> None:
    G = StyleGANXLGenerator(img_resolution=16, **TINY)
    ws = G.mapping(torch.randn(2, 16))
    img = G.synthesis(ws)
    (grads,) = torch.autograd.grad((img * torch.randn_like(img)).sum(), ws, create_graph=True)
    grads.square().sum().backward()
    assert G.synthesis.layers()[0].weight.grad.abs().sum() > 0 and G.mapping.fc0.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_per_sample_kernels(demodulate) -> None:
    # The official form: per-sample kernels w·s (pre-normalised when demodulating), demodulated per
    # output channel, times the input gain, as one grouped convolution.
    x = torch.randn(3, 5, 9, 9, dtype=torch.float64)
    weight, styles = torch.randn(4, 5, 3, 3, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    gain = torch.tensor(0.7, dtype=torch.float64)
    w, s = weight, styles
    if demodulate:
        w = w / w.square().mean(dim=(1, 2, 3), keepdim=True).sqrt()
        s = s / s.square().mean().sqrt()
    kernels = w[None] * s[:, None, :, None, None]
    if demodulate:
        kernels = kernels / (kernels.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).sqrt()
    kernels = kernels * gain
    expected = torch.nn.functional.conv2d(x.reshape(1, 15, 9, 9), kernels.reshape(12, 5, 3, 3), padding=2, groups=3)
    expected = expected.reshape(3, 4, 11, 11)
    torch.testing.assert_close(modulated_conv2d_sg3(x, weight, styles, gain, demodulate, padding=2), expected)


def test_reduced_precision_path_stays_close_to_fp32() -> None:
    # What a use_fp16 layer runs on CUDA (bf16 there; CPUs stay in fp32), here forced on the CPU.
    layer = StyleGANXLGenerator(img_resolution=16, **TINY).synthesis.layers()[1]
    x, styles = torch.randn(2, 32, 36, 36), layer.affine(torch.randn(2, 32))
    outputs = []
    for dtype in (torch.float32, torch.bfloat16):
        y = modulated_conv2d_sg3(x, layer.weight, styles, layer.magnitude_ema.rsqrt(), True, padding=2, dtype=dtype)
        y = filtered_lrelu(y, layer.up_filter, layer.down_filter, layer.bias, up=2, down=2, padding=layer.padding, clamp=256)
        assert y.dtype == dtype and y.shape == (2, 32, 36, 36)
        outputs.append(y.float())
    assert (outputs[1] - outputs[0]).norm() / outputs[0].norm() < 0.02  # bf16 keeps 8 significant bits


def test_growing_keeps_the_stem_and_trains_only_the_head() -> None:
    stem = StyleGANXLGenerator(img_resolution=16, c_dim=3, rand_embedding=True, **TINY).eval()
    stem_state = {k: v.clone() for k, v in stem.state_dict().items()}
    grown = grow_generator(stem, head_layers=4, up_factor=2).eval()
    # The stem is untouched; the grown copy dropped L4..L6 (two critically sampled layers + ToRGB).
    assert all(torch.equal(stem_state[k], v) for k, v in stem.state_dict().items())
    kept = stem.synthesis.layer_names[:4]
    assert grown.synthesis.layer_names == kept + ["L5_36_32", "L6_52_32", "L7_52_32", "L8_32_32", "L9_32_3"]
    assert grown.head_layer_names == grown.synthesis.layer_names[4:]
    assert (grown.img_resolution, grown.num_ws, grown.mapping.num_ws) == (32, 10, 10)
    # The head starts where the last kept layer ends.
    last, first_head = stem.synthesis.layers()[3], grown.synthesis.L5_36_32
    assert first_head.in_cutoff == first_head.out_cutoff == last.out_cutoff
    assert first_head.in_sampling_rate == last.out_sampling_rate and first_head.in_channels == last.out_channels

    outputs: dict[str, list[torch.Tensor]] = {name: [] for name in kept}
    hooks = [getattr(g.synthesis, name).register_forward_hook(lambda m, i, o, name=name: outputs[name].append(o)) for g in (stem, grown) for name in kept]
    z, c = torch.randn(2, 16), torch.eye(3)[[0, 2]]
    with torch.no_grad():
        stem(z, c)
        image = grown(z, c)
    for hook in hooks:
        hook.remove()
    assert image.shape == (2, 3, 32, 32)
    for name in kept:
        assert torch.equal(outputs[name][0], outputs[name][1]), name

    trainable = {n.split(".")[1] for n, p in grown.named_parameters() if p.requires_grad}
    assert trainable == set(grown.head_layer_names)
    assert not any(p.requires_grad for p in grown.mapping.parameters())
    assert not any(p.requires_grad for p in grown.synthesis.input.parameters())
    train_head_only(grown, train_input=True)
    assert all(p.requires_grad for p in grown.synthesis.input.parameters())
    with pytest.raises(ValueError, match="stem"):
        train_head_only(stem)


def test_growing_is_deterministic_and_leaves_the_global_rng_alone() -> None:
    stem = StyleGANXLGenerator(img_resolution=16, **TINY)
    rng_before = torch.random.get_rng_state()
    a = grow_generator(stem, head_layers=4, generator=torch.Generator().manual_seed(7))
    b = grow_generator(stem, head_layers=4, generator=torch.Generator().manual_seed(7))
    c = grow_generator(stem, head_layers=4, generator=torch.Generator().manual_seed(8))
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    head_weight = f"synthesis.{a.head_layer_names[0]}.weight"
    assert not torch.equal(a.state_dict()[head_weight], c.state_dict()[head_weight])
    torch.manual_seed(3)
    d = grow_generator(stem, head_layers=4)
    torch.manual_seed(3)
    e = grow_generator(stem, head_layers=4)
    assert torch.equal(d.state_dict()[head_weight], e.state_dict()[head_weight])


def test_grow_from_state_dict_equals_growing_the_module() -> None:
    kwargs = dict(c_dim=3, rand_embedding=True, **TINY)
    previous = build_generator(32, stem_resolution=16, head_layers=4, **kwargs)  # a trained stage-32 stand-in
    with torch.no_grad():
        for p in previous.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    from_module = grow_generator(previous, head_layers=4, generator=torch.Generator().manual_seed(1))
    from_state = grow_from_state_dict(previous.state_dict(), 64, stem_resolution=16, head_layers=4, generator=torch.Generator().manual_seed(1), **kwargs)
    assert from_state.synthesis.layer_names == from_module.synthesis.layer_names
    assert all(torch.equal(v, from_state.state_dict()[k]) for k, v in from_module.state_dict().items())
    trainable = {n for n, p in from_module.named_parameters() if p.requires_grad}
    assert {n for n, p in from_state.named_parameters() if p.requires_grad} == trainable
    assert not any(p.is_meta for p in from_state.parameters())
    z, c = torch.randn(2, 16), torch.eye(3)[:2]
    torch.testing.assert_close(from_state(z, c), from_module(z, c), rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="Missing key"):
        grow_from_state_dict({}, 64, stem_resolution=16, head_layers=4, **kwargs)


def test_magnitude_ema_tracks_the_input_rms() -> None:
    G = StyleGANXLGenerator(img_resolution=16, magnitude_ema_beta=0.5, **TINY)
    layer = G.synthesis.layers()[0]
    inputs = []
    layer.register_forward_hook(lambda m, i, o: inputs.append(i[0]))
    G(torch.randn(2, 16))
    assert layer.magnitude_ema.item() == 1.0  # untouched without update_emas
    G(torch.randn(2, 16), update_emas=True)
    expected = inputs[-1].square().mean().lerp(torch.tensor(1.0), 0.5)
    assert layer.magnitude_ema.item() == pytest.approx(expected.item(), rel=1e-6)


# ---- mapping: per-class w_avg and truncation ------------------------------------------------------------


def test_per_class_truncation() -> None:
    mapping = MappingNetwork(z_dim=8, c_dim=4, w_dim=6, num_ws=5, rand_embedding=True)
    centres = torch.randn(4, 6)
    mapping.w_avg.copy_(centres)
    z, labels = torch.randn(3, 8), torch.tensor([2, 0, 2])
    c = torch.eye(4)[labels]
    free = mapping(z, c)
    assert torch.equal(mapping(z, c, truncation_psi=0), centres[labels, None].expand(3, 5, 6))
    half = mapping(z, c, truncation_psi=0.5, truncation_cutoff=2)
    torch.testing.assert_close(half[:, :2], (free[:, :2] + centres[labels, None]) / 2)
    torch.testing.assert_close(half[:, 2:], free[:, 2:])
    uncond = MappingNetwork(z_dim=8, c_dim=0, w_dim=6, num_ws=5)
    uncond.w_avg.copy_(torch.randn(6))
    assert torch.equal(uncond(z, truncation_psi=0), uncond.w_avg.expand(3, 5, 6))


def test_w_avg_update_matches_the_official_sequential_loop() -> None:
    mapping = MappingNetwork(z_dim=8, c_dim=5, w_dim=6, num_ws=2, rand_embedding=True, w_avg_beta=0.9)
    mapping.w_avg.copy_(torch.randn(5, 6))
    labels = torch.tensor([1, 3, 1, 1, 0, 3])  # repeated classes: order within a class matters
    z, c = torch.randn(6, 8), torch.eye(5)[labels]
    expected = mapping.w_avg.clone()
    w = mapping(z, c)[:, 0]
    for i, label in enumerate(labels):
        expected[label] = w[i].lerp(expected[label], 0.9)
    mapping(z, c, update_emas=True)
    torch.testing.assert_close(mapping.w_avg, expected)
    assert torch.equal(mapping.w_avg[[2, 4]], expected[[2, 4]])  # unseen classes unchanged


# ---- the pretrained class embedding -------------------------------------------------------------------


def test_embedding_loads_from_a_tensor_or_state_dict_file(tmp_path) -> None:
    table = torch.randn(1000, 320)
    torch.save(table, tmp_path / "embed.pt")
    torch.save({"weight": table.double()}, tmp_path / "embed_state.pt")
    for name in ("embed.pt", "embed_state.pt"):
        mapping = MappingNetwork(z_dim=8, c_dim=10, w_dim=8, num_ws=2, embedding_path=str(tmp_path / name))
        assert torch.equal(mapping.embed.weight.detach(), table.float())
        assert mapping.embed.weight.requires_grad  # trained in the stem
    G = StyleGANXLGenerator(img_resolution=16, c_dim=10, embedding_path=str(tmp_path / "embed.pt"), **TINY)
    assert torch.equal(G.mapping.embed.weight.detach(), table)


def test_embedding_errors_name_the_file_the_shape_and_the_fix(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "tf_efficientnet_lite0_embed.pt"
    with pytest.raises(ConfigError) as error:
        MappingNetwork(z_dim=8, c_dim=10, w_dim=8, num_ws=2, embedding_path=str(missing))
    message = str(error.value)
    assert str(missing) in message and "[1000, 320]" in message and "torch.save" in message
    assert "tf_efficientnet_lite0.pkl" in message
    # The fix names the override keys a user types, not the generator's argument names.
    assert "model.embedding_path=" in message and "model.rand_embedding=true" in message
    torch.save(torch.randn(1000, 64), tmp_path / "wrong.pt")
    with pytest.raises(ConfigError, match=r"holds shape \[1000, 64\].*expected a float tensor of shape \[1000, 320\]"):
        MappingNetwork(z_dim=8, c_dim=10, w_dim=8, num_ws=2, embedding_path=str(tmp_path / "wrong.pt"))
    (tmp_path / "garbage.pt").write_text("not a tensor")
    with pytest.raises(ConfigError, match="cannot be read"):
        MappingNetwork(z_dim=8, c_dim=10, w_dim=8, num_ws=2, embedding_path=str(tmp_path / "garbage.pt"))
    with pytest.raises(ConfigError, match=r"no model\.embedding_path is set"):
        StyleGANXLGenerator(img_resolution=16, c_dim=10, **TINY)


def test_random_embedding_must_be_asked_for_and_needs_no_file() -> None:
    G = StyleGANXLGenerator(img_resolution=16, c_dim=10, rand_embedding=True, **TINY)
    weight = G.mapping.embed.weight
    assert weight.shape == (1000, 320) and weight.std().item() == pytest.approx(1.0, abs=0.02)  # nn.Embedding's N(0, 1)
    # Unconditional: no file needed, the unused embedding is frozen.
    U = StyleGANXLGenerator(img_resolution=16, **TINY)
    assert not U.mapping.embed.weight.requires_grad and U.mapping.embed_proj is None
    # Shapes only (the meta device, `gan-zoo summary`): nothing is read.
    with torch.device("meta"):
        meta = StyleGANXLGenerator(img_resolution=16, c_dim=1000, embedding_path="/nonexistent.pt", **TINY)
    assert meta.mapping.embed.weight.is_meta
