"""StyleGAN3-T and -R: presets' official parameter counts, the radial filters, the training loop's
differences from StyleGAN2 (phases, learning rates, when the averages move, the D-input blur) and
NVlabs StyleGAN3 pickles.

Official counts: NVlabs/stylegan3 `training/networks_stylegan3.py` Generator and
`training/networks_stylegan2.py` Discriminator built with the kwargs `train.py --cfg=stylegan3-t|r
--batch=32` gives them, at 512 px (AFHQv2).
"""

import math

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from PIL import Image

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.layers.filtered_lrelu import filtered_lrelu
from gan_zoo.layers.sinc_filter import lowpass_filter, radial_lowpass_filter
from gan_zoo.models.stylegan3.module import StyleGAN3Module
from gan_zoo.official.load import module_from_imported, read_official
from gan_zoo.training.build import build_module
from tests.conftest import run_cli_in_process
from tests.official_files import easy, persistent_module, write_pickle

OFFICIAL_COUNTS = {
    "paper/stylegan3_t_afhqv2_512": {"G": 24873519, "D": 28982849},
    "paper/stylegan3_r_afhqv2_512": {"G": 16665594, "D": 28982849},
}
TINY = {"z_dim": 16, "w_dim": 16, "channel_base": 256, "channel_max": 16, "synthesis": {"num_layers": 4}, "aug": "noaug"}


def tiny_module(cfg: str = "stylegan3-t", batch_size: int = 4, **kwargs) -> StyleGAN3Module:
    module = StyleGAN3Module(**{"resolution": 16, "cfg": cfg, **TINY, **kwargs})
    module.configure_run(total_kimg=1, batch_size=batch_size, identity={})
    return module.train()


def batch(n: int = 4) -> dict[str, torch.Tensor]:
    return {"image": torch.rand(n, 3, 16, 16) * 2 - 1}


def averages(module: StyleGAN3Module) -> list[torch.Tensor]:
    return [module.G.mapping.w_avg.clone(), *(layer.magnitude_ema.clone() for layer in module.G.synthesis.layers())]


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("preset", sorted(OFFICIAL_COUNTS))
def test_presets_build_the_official_parameter_counts(preset: str) -> None:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={preset}", "paths.output_dir=/tmp/gan-zoo-sg3-test"])
    with torch.device("meta"):
        module = build_module(cfg)
    counts = {name: sum(p.numel() for p in net.parameters() if p.requires_grad) for name, net in module.networks().items()}
    assert counts == OFFICIAL_COUNTS[preset]


def test_stylegan3_r_has_1x1_convs_radial_filters_and_twice_g_channels_only() -> None:
    t, r = tiny_module("stylegan3-t"), tiny_module("stylegan3-r")
    assert r.G.synthesis.channel_base == 2 * t.G.synthesis.channel_base == 512 and r.G.synthesis.channel_max == 32
    assert sum(p.numel() for p in r.D.parameters()) == sum(p.numel() for p in t.D.parameters())
    for layer in r.G.synthesis.layers():
        assert layer.weight.shape[2:] == (1, 1)
        if layer.down_filter is not None:  # radial (2-D) except in the critically sampled layers
            assert layer.down_filter.ndim == (1 if layer.is_critically_sampled else 2), layer
    assert any(layer.down_filter is not None and layer.down_filter.ndim == 2 for layer in r.G.synthesis.layers())
    assert all(layer.weight.shape[2:] == (3, 3) for layer in t.G.synthesis.layers()[:-1])
    assert all(layer.down_filter is None or layer.down_filter.ndim == 1 for layer in t.G.synthesis.layers())
    with pytest.raises(ConfigError, match="model.cfg='stylegan2'.*stylegan3-t, stylegan3-r"):
        tiny_module("stylegan2")


def test_radial_filter_is_the_kaiser_windowed_jinc() -> None:
    special = pytest.importorskip("scipy.special")
    signal = pytest.importorskip("scipy.signal")
    numtaps, cutoff, width, fs = 12, 11.3, 9.0, 64
    x = (np.arange(numtaps) - (numtaps - 1) / 2) / fs
    r = np.hypot(*np.meshgrid(x, x))
    reference = special.j1(2 * cutoff * np.pi * r) / (np.pi * r)
    beta = signal.kaiser_beta(signal.kaiser_atten(numtaps, width / (fs / 2)))
    reference *= np.outer(np.kaiser(numtaps, beta), np.kaiser(numtaps, beta))
    reference /= reference.sum()
    ours = radial_lowpass_filter(numtaps, cutoff, width, fs)
    np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-9, atol=1e-12)
    odd = radial_lowpass_filter(7, 3.0, 4.0, 16)  # an odd filter's centre tap is the limit r -> 0, not NaN
    assert torch.isfinite(odd).all() and odd.sum().item() == pytest.approx(1.0)


def test_a_2d_down_filter_equals_the_separable_pass_of_its_factors() -> None:
    f = lowpass_filter(12, 5.0, 6.0, 32).float()
    x = torch.randn(2, 3, 20, 20)
    up = lowpass_filter(12, 5.0, 6.0, 32).float()
    bias = torch.randn(3)
    separable = filtered_lrelu(x, up, f, bias, up=2, down=2, padding=(5, 6, 5, 6), clamp=3)
    full = filtered_lrelu(x, up, torch.outer(f, f), bias, up=2, down=2, padding=(5, 6, 5, 6), clamp=3)
    torch.testing.assert_close(full, separable, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="1-D or square 2-D down_filter"):
        filtered_lrelu(x, up, torch.ones(3, 4), bias, up=2, down=2)


def test_phases_learning_rates_and_batch_derived_settings() -> None:
    module = tiny_module(batch_size=32)
    assert [(p.name, p.optimizer, p.interval) for p in module.phases()] == [("G_main", "G", 1), ("D_main", "D", 1), ("D_reg", "D", 16)]
    g_opt, d_opt = module.configure_optimizers()
    assert g_opt.param_groups[0]["lr"] == 0.0025 and g_opt.param_groups[0]["betas"] == (0.0, 0.99)  # no lazy G reg
    assert d_opt.param_groups[0]["lr"] == pytest.approx(0.002 * 16 / 17)
    assert module.ema_config == {"half_life_kimg": 10.0, "rampup": 0.05}  # batch * 10 / 32
    assert module.loss_config["blur_fade_kimg"] == 200.0 and module.loss_config["blur_init_sigma"] == 0.0
    assert tiny_module("stylegan3-r").loss_config["blur_init_sigma"] == 10.0
    assert all(layer.magnitude_ema_beta == 0.5 ** (32 / 20000) for layer in module.G.synthesis.layers())
    fixed = tiny_module(magnitude_ema_beta=0.9)
    assert all(layer.magnitude_ema_beta == 0.9 for layer in fixed.G.synthesis.layers())


def test_w_avg_and_magnitude_averages_move_only_while_drawing_d_fakes() -> None:
    module = tiny_module()
    before = averages(module)
    module.generator_main_loss(batch()).backward()
    module.r1_loss(batch()).backward()
    assert all(torch.equal(a, b) for a, b in zip(before, averages(module)))
    module.discriminator_main_loss(batch()).backward()
    after = averages(module)
    assert all(not torch.equal(a, b) for a, b in zip(before, after))
    with torch.no_grad():
        module.sample([0, 1])
        module.eval_fakes(batch(), torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(after, averages(module)))


def test_stylegan3_r_blurs_every_d_input_with_a_fading_sigma() -> None:
    module = tiny_module("stylegan3-r", loss={"blur_fade_kimg": 0.1})
    seen: list[torch.Tensor] = []

    def spy(images, c=None):
        seen.append(images.detach().clone())
        return images.mean(dim=(1, 2, 3), keepdim=False)[:, None]

    module.D.forward = spy
    data = batch()
    for nimg, expected_sigma in ((0, 10.0), (50, 5.0), (100, 0.0)):
        module.cur_nimg.fill_(nimg)
        seen.clear()
        module.discriminator_main_loss(data)
        radius = math.floor(expected_sigma * 3)
        if radius:
            taps = torch.arange(-radius, radius + 1).div(expected_sigma).square().neg().exp2()
            kernel = torch.outer(taps, taps) / taps.sum() ** 2
            reference = torch.nn.functional.conv2d(data["image"], kernel.expand(3, 1, -1, -1), padding=radius, groups=3)
            torch.testing.assert_close(seen[1], reference, rtol=1e-5, atol=1e-5)  # the reals, after the fakes
        else:
            assert torch.equal(seen[1], data["image"])
    t = tiny_module("stylegan3-t")
    t.D.forward = spy
    seen.clear()
    t.discriminator_main_loss(data)
    assert torch.equal(seen[1], data["image"])


def test_a_training_step_through_every_phase_changes_g_d_and_g_ema() -> None:
    module = tiny_module("stylegan3-r")
    g_opt, d_opt = module.configure_optimizers()
    g0 = {k: v.clone() for k, v in module.G.state_dict().items()}
    for loss_fn, opt in ((module.generator_main_loss, g_opt), (module.discriminator_main_loss, d_opt), (module.r1_loss, d_opt)):
        opt.zero_grad()
        loss = loss_fn(batch())
        assert torch.isfinite(loss)
        loss.backward()
        opt.step()
    module.update_ema(4)
    assert not torch.equal(module.G.state_dict()["synthesis.L1_36_32.weight"], g0["synthesis.L1_36_32.weight"])
    torch.testing.assert_close(module.G_ema.mapping.w_avg, module.G.mapping.w_avg)


# ---- NVlabs StyleGAN3 pickles --------------------------------------------------------------------------

# Stand-ins for the module sources a real pickle carries (read as text, never run).
G_SRC = "class SynthesisInput: pass\nclass SynthesisLayer: pass\nopen('EXECUTED', 'w')\n"  # training/networks_stylegan3.py
D_SRC = "class DiscriminatorBlock: pass\n# fused_modconv_default\n"  # training/networks_stylegan2.py
G_KWARGS = {
    "z_dim": 16,
    "w_dim": 16,
    "c_dim": 0,
    "img_resolution": 16,
    "img_channels": 3,
    "mapping_kwargs": {"num_layers": 2},
    "channel_base": 512,
    "channel_max": 32,
    "num_layers": 4,
    "magnitude_ema_beta": 0.5 ** (32 / 20000),
    "conv_kernel": 1,
    "use_radial_filters": True,
}
D_KWARGS = {
    "c_dim": 0,
    "img_resolution": 16,
    "img_channels": 3,
    "channel_base": 256,
    "channel_max": 16,
    "block_kwargs": {},
    "mapping_kwargs": {},
    "epilogue_kwargs": {"mbstd_group_size": 4},
}


@pytest.fixture(scope="module")
def official_file(tmp_path_factory):
    torch.manual_seed(1)
    reference = StyleGAN3Module(
        16,
        cfg="stylegan3-r",
        z_dim=16,
        w_dim=16,
        channel_base=256,
        channel_max=16,
        synthesis={"num_layers": 4},
        magnitude_ema_beta=0.5 ** (32 / 20000),
        aug="noaug",
    ).eval()
    with torch.no_grad():  # trained-looking averages where a fresh network has constants
        for net in (reference.G, reference.G_ema):
            net.mapping.w_avg.normal_()
            for layer in net.synthesis.layers():
                layer.magnitude_ema.fill_(0.7)
    data = {
        "G": persistent_module(reference.G, "Generator", G_SRC, G_KWARGS),
        "G_ema": persistent_module(reference.G_ema, "Generator", G_SRC, G_KWARGS),
        "D": persistent_module(reference.D, "Discriminator", D_SRC, D_KWARGS),
        "augment_pipe": None,
        "training_set_kwargs": easy({"path": "~/datasets/afhqv2-16x16.zip", "resolution": 16}),
    }
    return reference, write_pickle(tmp_path_factory.mktemp("official") / "stylegan3-r-afhqv2-16x16.pkl", data)


def test_stylegan3_pickles_load_key_for_key_with_the_files_settings(official_file, tmp_path):
    reference, path = official_file
    imported = read_official(path)
    hp = imported.hyper_parameters
    assert imported.family == "stylegan3" and imported.source_format == "nvlabs-pytorch-stylegan3 (stylegan3-r)"
    assert (hp["cfg"], hp["channel_base"], hp["channel_max"], hp["synthesis"]["channel_base"], hp["synthesis"]["num_layers"]) == (
        "stylegan3-r",
        256,
        16,
        512,
        4,
    )
    module = module_from_imported(imported, path)
    for name in ("G", "D", "G_ema"):
        ours, theirs = getattr(module, name).state_dict(), getattr(reference, name).state_dict()
        assert set(ours) == set(theirs)
        for key in ours:
            assert torch.equal(ours[key], theirs[key]), key
    assert module.G.synthesis.layers()[0].magnitude_ema_beta == 0.5 ** (32 / 20000)
    assert not (tmp_path / "EXECUTED").exists()


def test_generate_from_a_stylegan3_pickle_writes_gen_images_output(official_file, tmp_path):
    reference, path = official_file
    run_cli_in_process("generate", f"ckpt={path}", "seeds=[0,1]", "truncation=0.7", "outdir=out", cwd=tmp_path)
    for seed in (0, 1):
        z = torch.from_numpy(np.random.RandomState(seed).randn(1, 16))
        with torch.no_grad():
            img = reference.G_ema(z.float(), None, truncation_psi=0.7)
        expected = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].numpy()
        written = np.asarray(Image.open(next((tmp_path / "out").glob(f"*{seed:04d}*.png"))))
        assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1


def test_a_stylegan3_pickle_with_other_layer_filters_is_refused_naming_the_setting(tmp_path):
    reference = tiny_module()
    data = {name: persistent_module(reference.G, "Generator", G_SRC, {**G_KWARGS, "filter_size": 4}) for name in ("G", "G_ema")}
    with pytest.raises(CheckpointError, match="filter_size=4; gan-zoo's StyleGAN3 has filter_size=6"):
        read_official(write_pickle(tmp_path / "odd.pkl", data))


def test_eval_measures_a_stylegan3_pickle(official_file, tmp_path):
    import json

    from tests.unit.metrics_support import write_inception_weights

    _, path = official_file
    weights, digest = write_inception_weights(tmp_path)
    run_cli_in_process(
        "eval",
        f"ckpt={path}",
        f"++weights.inception={weights}",
        f"++weights_sha256.inception={digest}",
        f"cache_dir={tmp_path / 'cache'}",
        "batch_size=8",
        "num_workers=0",
        "sample_block=8",
        "metrics=[fid8]",
        "data=shapes",
        "data.resolution=16",
        f"output={tmp_path / 'm.jsonl'}",
        cwd=tmp_path,
    )
    line = json.loads((tmp_path / "m.jsonl").read_text().splitlines()[0])
    assert line["metric"] == "fid8" and math.isfinite(line["value"]) and line["family"] == "stylegan3"
