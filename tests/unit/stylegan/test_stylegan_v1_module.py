"""StyleGAN v1 Lightning module: EMA and w_avg rates, training fakes, sampling and evaluation
interfaces, the paper preset's schedule, and a short bit-exact resume in process."""

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.models.stylegan.module import StyleGANModule
from gan_zoo.training.build import build_module

TINY = {"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "mapping_fmaps": 16, "fmap_base": 64, "fmap_max": 16}

# Official trainable parameter counts, from the layer code of NVlabs/stylegan `training/networks_stylegan.py`
# G_style (G_mapping + G_synthesis) and D_basic at their defaults (config F); the paper (Karras et al. 2019, §2) gives G 26.2M.
OFFICIAL_COUNTS = {"paper/stylegan_ffhq1024": {"G": 26_219_627, "D": 23_087_249}}


def compose_train(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=overrides)


def tiny_module(**kwargs) -> StyleGANModule:
    torch.manual_seed(0)
    module = StyleGANModule(
        resolution=16, generator=TINY, discriminator={"fmap_base": 64, "fmap_max": 16}, schedule={"minibatch_base": 8, "lod_initial_resolution": 4}, **kwargs
    )
    module.configure_run(total_kimg=1, batch_size=8, identity={})
    return module


def test_paper_preset_has_the_official_counts_and_schedule() -> None:
    cfg = compose_train(["experiment=paper/stylegan_ffhq1024", "paths.output_dir=/tmp/gan-zoo-compose"])
    with torch.device("meta"):
        module = build_module(cfg)
    counts = {name: sum(p.numel() for p in net.parameters() if p.requires_grad) for name, net in module.networks().items()}
    assert counts == OFFICIAL_COUNTS["paper/stylegan_ffhq1024"]
    schedule = module.schedule
    start, at_128 = schedule.at(0), schedule.at(int(4.5 * 1200 * 1000))  # 8, 16, 32, 64 done; 128 stable
    assert (start.resolution, start.minibatch, start.lr, start.lod) == (8, 256, 0.001, 7.0)
    assert (at_128.resolution, at_128.minibatch, at_128.lr) == (128, 32, 0.0015)
    assert schedule.at(25_000_000).lr == 0.003 and schedule.at(25_000_000).lod == 0.0
    assert module.ema_beta(32) == pytest.approx(0.5 ** (32 / 10_000))
    assert (module.r1_gamma, module.style_mixing_prob, module.G.mapping.w_avg_beta) == (10.0, 0.9, 0.995)
    assert module.sampling == {"truncation_psi": 0.7, "truncation_cutoff": 8, "noise_mode": "const"}


def test_training_fakes_track_w_avg_and_start_at_the_initial_lod() -> None:
    module = tiny_module(style_mixing_prob=1.0)
    assert module.G.synthesis.lod.item() == module.G_ema.synthesis.lod.item() == 2.0  # 4x4 first
    fakes = module.training_fakes(8, None, lod=1.0)
    assert fakes.shape == (8, 3, 8, 8)
    assert module.G.mapping.w_avg.abs().sum() > 0  # moved 0.5% of the way to the batch mean
    before = module.G.mapping.w_avg.clone()
    torch.manual_seed(1)
    z = torch.randn(8, 16)
    torch.manual_seed(1)
    module.training_fakes(8, None, lod=1.0)
    expected = torch.lerp(module.G.mapping(z)[:, 0].mean(dim=0), before, 0.995)
    assert torch.allclose(module.G.mapping.w_avg, expected, atol=1e-6)


def test_sampling_is_deterministic_per_seed_uint8_and_full_resolution() -> None:
    module = tiny_module()
    images = module.sample([0, 1, 2])
    assert images.dtype == torch.uint8 and images.shape == (3, 3, 16, 16)
    assert torch.equal(module.sample([1]), images[1:2])
    assert not torch.equal(module.sample([1], truncation_psi=0.0), images[1:2])


def test_a_conditional_model_samples_the_classes_in_turn_by_seed() -> None:
    module = tiny_module(conditional=True, num_classes=3)
    images = module.sample([0, 1, 2, 3])  # the sample grid gives no labels: seed % classes
    assert images.shape == (4, 3, 16, 16)
    assert torch.equal(images, module.sample([0, 1, 2, 3], torch.tensor([0, 1, 2, 0])))
    assert not torch.equal(images[:1], module.sample([0], torch.tensor([1])))


def test_eval_fakes_are_untruncated_and_reproducible_from_the_generator() -> None:
    module = tiny_module()
    module.G_ema.mapping.w_avg.fill_(5.0)  # truncation would show
    batch = {"image": torch.zeros(4, 3, 16, 16)}
    a = module.eval_fakes(batch, torch.Generator().manual_seed(0))
    b = module.eval_fakes(batch, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == (4, 3, 16, 16)
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(module.G_ema.mapping(z), module.G_ema.mapping(z, truncation_psi=1.0))


def test_bad_hyperparameters_fail_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="style_mixing_prob"):
        tiny_module(style_mixing_prob=1.5)
    with pytest.raises(ValueError, match="r1_gamma"):
        tiny_module(r1_gamma=-1.0)
    with pytest.raises(ValueError, match="needs a labelled data set"):
        tiny_module(conditional=True)
