"""StarGAN v2 networks: the presets' official parameter counts, AdaIN, per-domain heads, shapes, init,
the high-pass skip path (joining at the absolute feature sizes 32, 64 and 128 px, with the first mask
at 32) and the frozen unused shortcuts of the face generator."""

import math

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.models.stargan_v2.blocks import AdaIN, AdainResBlk, HighPass, ResBlk
from gan_zoo.models.stargan_v2.discriminator import Discriminator
from gan_zoo.models.stargan_v2.encoder import StyleEncoder
from gan_zoo.models.stargan_v2.generator import Generator
from gan_zoo.models.stargan_v2.mapping import MappingNetwork
from gan_zoo.summary import count_parameters
from gan_zoo.training.build import build_module

# Official counts (the networks of clovaai/stargan-v2 `core/model.py` at the presets' settings). The
# CelebA-HQ generator keeps the 1x1 shortcut convs the official code creates but never uses with
# w_hpf > 0: 43,467,395 in all, 43,295,363 trainable (the trainable one is what gan-zoo summary reports).
OFFICIAL_TRAINABLE = {
    "paper/stargan_v2_celebahq": {"G": 43295363, "F": 2438272, "E": 20916928, "D": 20852290},
    "paper/stargan_v2_afhq": {"G": 33892995, "F": 3259072, "E": 20949760, "D": 20852803},
}
OFFICIAL_TOTAL_G = {"paper/stargan_v2_celebahq": 43467395, "paper/stargan_v2_afhq": 33892995}


def compose_train(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=[*overrides, "paths.output_dir=/tmp/gan-zoo-sv2-test"])


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("preset", sorted(OFFICIAL_TRAINABLE))
def test_presets_build_the_official_parameter_counts(preset: str) -> None:
    cfg = compose_train([f"experiment={preset}"])
    with torch.device("meta"):
        module = build_module(cfg)  # the path `gan-zoo summary` takes
    counts = {name: count_parameters(net) for name, net in module.networks().items()}
    assert {name: c["trainable"] for name, c in counts.items()} == OFFICIAL_TRAINABLE[preset]
    assert counts["G"]["total"] == OFFICIAL_TOTAL_G[preset]


def test_adain_with_zero_style_is_instance_norm() -> None:
    adain = AdaIN(style_dim=4, num_features=3)
    torch.nn.init.normal_(adain.fc.weight)
    torch.nn.init.zeros_(adain.fc.bias)  # with a zero style the fc output is its bias
    x = torch.randn(2, 3, 5, 5) * 3 + 1
    expected = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), unbiased=False, keepdim=True) + 1e-5)
    torch.testing.assert_close(adain(x, torch.zeros(2, 4)), expected)
    assert not torch.allclose(adain(x, torch.ones(2, 4)), expected)


def test_each_mapping_head_gets_gradients_only_from_its_domain() -> None:
    mapping = MappingNetwork(latent_dim=4, style_dim=3, num_domains=3, hidden_dim=8)
    y = torch.tensor([0, 2, 0, 2])
    mapping(torch.randn(4, 4), y).square().sum().backward()
    for domain, head in enumerate(mapping.unshared):
        grads = [p.grad for p in head.parameters()]
        if domain in (0, 2):
            assert all(g is not None and g.abs().sum() > 0 for g in grads)
        else:
            assert all(g is None or g.abs().sum() == 0 for g in grads)
    assert all(p.grad.abs().sum() > 0 for p in mapping.shared.parameters() if p.ndim == 2)
    # and the selected head is that sample's head
    z = torch.randn(2, 4)
    torch.testing.assert_close(mapping(z, torch.tensor([1, 1]))[0], mapping.unshared[1](mapping.shared(z))[0])


def test_style_encoder_and_discriminator_select_the_domain_output() -> None:
    encoder, discriminator = StyleEncoder(16, 5, 3, 16, channel_base=64), Discriminator(16, 3, 16, channel_base=64)
    x = torch.randn(2, 3, 16, 16)
    all_logits = discriminator.main(x).flatten(1)
    assert all_logits.shape == (2, 3)
    torch.testing.assert_close(discriminator(x, torch.tensor([2, 0])), all_logits[[0, 1], [2, 0]])
    styles = encoder(x, torch.tensor([1, 2]))
    h = encoder.shared(x).flatten(1)
    torch.testing.assert_close(styles, torch.stack([encoder.unshared[1](h)[0], encoder.unshared[2](h)[1]]))


def test_resblk_is_the_scaled_sum_of_shortcut_and_residual() -> None:
    block = ResBlk(4, 8, normalize=True, downsample=True)
    x = torch.randn(2, 4, 8, 8)
    out = block(x)
    assert out.shape == (2, 8, 4, 4)
    torch.testing.assert_close(out, (block.shortcut(x) + block.residual(x)) / math.sqrt(2))


def test_generator_shapes_init_and_high_pass_path() -> None:
    plain = Generator(32, style_dim=6, max_conv_dim=16, w_hpf=0, channel_base=128)
    x, s = torch.randn(2, 3, 32, 32), torch.randn(2, 6)
    assert plain(x, s).shape == (2, 3, 32, 32)
    assert len(plain.encode) == 1 + 2  # log2(32) - 4 downsamplings + the two bottleneck blocks
    with pytest.raises(ValueError, match="w_hpf=0"):
        plain(x, s, masks=(torch.ones(2, 1, 8, 8), torch.ones(2, 1, 8, 8)))
    face = Generator(32, style_dim=6, max_conv_dim=16, w_hpf=1, channel_base=128)
    assert len(face.encode) == 2 + 2  # one more downsampling with the skip path
    without = face(x, s)
    zero_masks = (torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8))
    torch.testing.assert_close(face(x, s, zero_masks), without)  # masked-out skips add nothing
    assert not torch.allclose(face(x, s, (torch.ones(2, 1, 8, 8), torch.ones(2, 1, 8, 8))), without)


@pytest.mark.parametrize(("img_size", "skip_sizes"), [(16, []), (32, [32]), (64, [32, 64]), (128, [32, 64, 128]), (256, [32, 64, 128])])
def test_skips_join_at_32_64_and_128_px_whatever_the_image_size(img_size: int, skip_sizes: list[int]) -> None:
    # The official generator (clovaai/stargan-v2 `core/model.py`) adds the masked high-pass skips where
    # a decoder block's output is 32, 64 or 128 px wide (absolute), the first mask at 32 and the
    # second at 64 and 128, each mask bilinearly resized (align_corners=False) and multiplied with the
    # last encoder-block input of that size. Rebuild that from hooks and compare exactly.
    generator = Generator(img_size, style_dim=4, max_conv_dim=8, w_hpf=1, channel_base=img_size * 2)
    encoder_inputs: dict[int, torch.Tensor] = {}
    for block in generator.encode:
        block.register_forward_pre_hook(lambda _, args: encoder_inputs.__setitem__(args[0].shape[-1], args[0]))
    filtered: list[torch.Tensor] = []
    generator.hpf.register_forward_pre_hook(lambda _, args: filtered.append(args[0]))
    masks = (torch.rand(2, 1, 256, 256), torch.rand(2, 1, 256, 256))
    x, s = torch.randn(2, 3, img_size, img_size), torch.randn(2, 4)
    generator(x, s, masks)
    assert [f.shape[-1] for f in filtered] == skip_sizes
    for f in filtered:
        size = f.shape[-1]
        mask = masks[0] if size == 32 else masks[1]
        assert torch.equal(f, F.interpolate(mask, size=size, mode="bilinear", align_corners=False) * encoder_inputs[size])
    filtered.clear()
    generator(x, s)  # no masks: no skip path
    assert filtered == []


def test_unused_shortcuts_of_the_face_generator_are_frozen_and_the_rest_trains() -> None:
    block = AdainResBlk(8, 4, style_dim=3, w_hpf=1, upsample=True)
    assert not block.conv1x1.weight.requires_grad
    generator = Generator(32, style_dim=6, max_conv_dim=16, w_hpf=1, channel_base=128)
    masks = (torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8))
    generator(torch.randn(2, 3, 32, 32), torch.randn(2, 6), masks).square().mean().backward()
    for name, p in generator.named_parameters():
        assert (p.grad is not None) == p.requires_grad, name
        assert p.requires_grad == (not (name.startswith("decode.") and name.endswith("conv1x1.weight"))), name


def test_high_pass_filter_removes_constants() -> None:
    hpf = HighPass(w_hpf=2)
    flat = torch.full((1, 2, 6, 6), 3.0)
    assert hpf(flat)[..., 1:-1, 1:-1].abs().max() == 0
    impulse = torch.zeros(1, 1, 5, 5)
    impulse[..., 2, 2] = 1
    assert hpf(impulse)[0, 0, 2, 2] == 4.0  # 8 / w_hpf


def test_kaiming_init_of_the_module() -> None:
    from gan_zoo.models.stargan_v2.module import StarGANv2Module

    module = StarGANv2Module(resolution=16, num_domains=2, channel_base=256, max_conv_dim=64, mapping_hidden=256, style_dim=8, latent_dim=4)
    layer = module.F.shared[2]
    assert layer.bias.abs().max() == 0
    assert abs(float(layer.weight.detach().std()) - math.sqrt(2 / 256)) < 0.01
