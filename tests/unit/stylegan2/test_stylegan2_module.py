"""The StyleGAN2 GANModule: presets' parameter counts, phases, regularisers' state, augmentation hook,
sampling interfaces, auto mode."""

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import ConfigError
from gan_zoo.models.stylegan2.module import StyleGAN2Module
from gan_zoo.training.build import build_module

# Official trainable parameter counts, computed by building NVlabs/stylegan2-ada-pytorch `training/networks.py`
# Generator/Discriminator with the kwargs of `train.py --cfg` paper1024 / stylegan2 (config F) at 256 / paper256 /
# paper512 / cifar (conditional, c_dim 10).
OFFICIAL_COUNTS = {
    "paper/stylegan2_ffhq1024": {"G": 30370060, "D": 29012513},
    "paper/stylegan2_church256": {"G": 30034338, "D": 28864129},
    "paper/stylegan2_ffhq256": {"G": 24767458, "D": 24001089},
    "paper/stylegan2_afhq512": {"G": 30276583, "D": 28982849},
    "paper/stylegan2_cifar10": {"G": 20215315, "D": 23089664},
}

TINY = {"z_dim": 8, "w_dim": 8, "channel_base": 128, "channel_max": 8, "mapping": {"num_layers": 2}}


def compose_train(overrides: list[str]):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=[*overrides, "paths.output_dir=/tmp/gan-zoo-sg2-test"])


def tiny_module(**kwargs) -> StyleGAN2Module:
    module = StyleGAN2Module(**{"resolution": 16, **TINY, **kwargs})
    module.configure_run(total_kimg=1, batch_size=4, identity={})
    return module


def batch(n: int = 4, labels: bool = False) -> dict[str, torch.Tensor]:
    out = {"image": torch.rand(n, 3, 16, 16) * 2 - 1}
    if labels:
        out["label"] = torch.arange(n) % 3
    return out


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("preset", sorted(OFFICIAL_COUNTS))
def test_presets_build_the_official_parameter_counts(preset: str) -> None:
    cfg = compose_train([f"experiment={preset}"])
    with torch.device("meta"):
        module = build_module(cfg)
    counts = {name: sum(p.numel() for p in net.parameters() if p.requires_grad) for name, net in module.networks().items()}
    assert counts == OFFICIAL_COUNTS[preset]


def test_registered_and_variants_compose() -> None:
    for aug in ("noaug", "ada", "fixed"):
        cfg = compose_train(["experiment=smoke/stylegan2", f"model.aug={aug}", "model.augment.p=0.2"])
        module = build_module(cfg)
        assert (module.augment_pipe is None) == (aug == "noaug") and (module.ada is None) == (aug != "ada")


def test_bad_augmentation_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="model.augment.p"):
        tiny_module(aug="fixed", augment={"p": 0})
    with pytest.raises(ConfigError, match="noaug, ada, fixed"):
        tiny_module(aug="always")
    with pytest.raises(ConfigError, match="data.num_classes"):
        tiny_module(conditional=True, num_classes=0)


def test_phases_intervals_and_lazy_regularisation_optimizers() -> None:
    module = tiny_module()
    assert [(p.name, p.optimizer, p.interval) for p in module.phases()] == [("G_main", "G", 1), ("G_reg", "G", 4), ("D_main", "D", 1), ("D_reg", "D", 16)]
    g_opt, d_opt = module.configure_optimizers()
    assert g_opt.param_groups[0]["lr"] == pytest.approx(0.002 * 4 / 5)
    assert g_opt.param_groups[0]["betas"][1] == pytest.approx(0.99 ** (4 / 5))
    assert d_opt.param_groups[0]["lr"] == pytest.approx(0.002 * 16 / 17)
    no_pl = tiny_module(loss={"pl_weight": 0, "style_mixing_prob": 0})
    assert [p.name for p in no_pl.phases()] == ["G_main", "D_main", "D_reg"]
    both = tiny_module(G_reg_interval=None, D_reg_interval=None)
    assert [p.name for p in both.phases()] == ["G_main", "D_main"]
    assert both.configure_optimizers()[0].param_groups[0]["lr"] == 0.002
    b = batch()
    assert torch.isfinite(both.generator_main_loss(b)) and torch.isfinite(both.discriminator_main_loss(b))
    assert both.pl_mean > 0  # the path-length term ran inside G main


def test_phase_losses_update_w_avg_and_pl_mean_and_train() -> None:
    module = tiny_module()
    module.train()
    b = batch()
    for loss_fn in (module.generator_main_loss, module.path_length_loss, module.discriminator_main_loss, module.r1_loss):
        loss = loss_fn(b)
        assert loss.ndim == 0 and torch.isfinite(loss)
        loss.backward()
    assert module.G.mapping.w_avg.abs().sum() > 0
    assert module.pl_mean > 0
    assert module.G_ema.mapping.w_avg.abs().sum() == 0  # G_ema's buffers follow G only through update_ema
    module.update_ema(4)
    torch.testing.assert_close(module.G_ema.mapping.w_avg, module.G.mapping.w_avg)
    assert {"scores/real", "scores/fake", "loss/r1_penalty", "pl/mean"} <= set(module._step_losses)


def test_style_mixing_in_training_switches_at_the_drawn_cutoff() -> None:
    module = tiny_module(loss={"style_mixing_prob": 1.0})
    module.eval()  # no w_avg change between the calls below
    z = torch.randn(4, 8)
    torch.manual_seed(5)
    _, ws = module.run_G(z, None)
    plain = module.G.mapping(z)
    same = (ws == plain).all(dim=2).all(dim=0)
    cutoff = int(same.long().argmin())
    assert 1 <= cutoff < module.G.num_ws
    assert same[:cutoff].all() and not same[cutoff:].any()


def test_augmentation_sees_reals_and_fakes_in_every_d_phase_and_ada_moves_p() -> None:
    module = tiny_module(aug="ada", augment={"preset": "bgc", "p": 0.0, "target": 0.6, "ada_kimg": 1, "interval": 4})
    seen = []
    original = module.augment_pipe.forward

    def spy(images, **kwargs):
        seen.append(images.shape[0])
        return original(images, **kwargs)

    module.augment_pipe.forward = spy
    b = batch()
    module.generator_main_loss(b)
    module.path_length_loss(b)
    assert seen == [4]  # G main: fakes only; the path-length phase does not use D
    module.discriminator_main_loss(b)
    module.r1_loss(b)
    assert seen == [4, 4, 4, 4]  # D main: fakes and reals; R1: reals
    assert int(module.ada.count) == 8  # signs of reals from D main and D reg, as the ADA code
    module.ada.sign_sum.fill_(8)  # D is sure about every real: overfitting
    module.step_count.fill_(4)
    module.before_step(b)
    torch.testing.assert_close(module.augment_pipe.p, torch.tensor(4 * 4 / 1000.0))
    assert int(module.ada.count) == 0 and "p=0.016" in module.progress_description()


def test_conditional_module_trains_and_sample_cycles_classes() -> None:
    module = tiny_module(conditional=True, num_classes=3)
    assert module.provides_required == {"image", "label"}
    assert module.G.c_dim == module.D.c_dim == 3
    b = batch(labels=True)
    module.use_label_counts(torch.ones(3))  # the classes the fakes are drawn from (tests/unit/core/test_fake_labels.py)
    module.generator_main_loss(b).backward()
    module.discriminator_main_loss(b).backward()
    images = module.sample([0, 1, 2, 3])
    assert images.dtype == torch.uint8 and images.shape == (4, 3, 16, 16)
    torch.testing.assert_close(images, module.sample([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="conditional"):
        module.generate(torch.randn(2, 8))


def test_sample_is_deterministic_per_seed_and_eval_fakes_uses_its_generator() -> None:
    module = tiny_module()
    torch.testing.assert_close(module.sample([3, 7])[1], module.sample([7])[0])
    truncated = module.sample([3], truncation_psi=0.0)
    torch.testing.assert_close(truncated, module.sample([9], truncation_psi=0.0))  # all become w_avg
    fakes = module.eval_fakes(batch(), torch.Generator().manual_seed(1))
    assert fakes.shape == (4, 3, 16, 16)
    torch.testing.assert_close(fakes, module.eval_fakes(batch(), torch.Generator().manual_seed(1)))


def test_auto_mode_replaces_batch_and_hyperparameters() -> None:
    module = StyleGAN2Module(resolution=32, auto=True, auto_gpus=2, z_dim=8, w_dim=8)
    module.configure_run(total_kimg=1, batch_size=999, identity={})
    assert module.batch_size == 64 and module.global_batch_size() == 64
    assert module.G.mapping.num_layers == 2 and module.D.b4.mbstd.group_size == 4
    assert module.loss_config["r1_gamma"] == pytest.approx(0.0002 * 32**2 / 64)
    assert module.ema_config == {"half_life_kimg": 20.0, "rampup": 0.05} and module.G_lr == module.D_lr == 0.0025
    assert module.hparams["auto"] is True and module.hparams["lr"] == 0.002  # the arguments as given
