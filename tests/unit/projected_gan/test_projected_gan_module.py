"""The Projected GAN GANModule on tiny generators (FastGAN-lite and FastGAN with ngf 8, the StyleGAN2
generator of --cfg=stylegan2) at 32 px: what a step trains and what stays frozen, the Adam settings,
the EMA half-life, and the sampling and evaluation interfaces."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.errors import ConfigError
from gan_zoo.models.base import Phase
from gan_zoo.models.projected_gan.blocks import NoiseInjection
from gan_zoo.models.projected_gan.module import ProjectedGANModule
from gan_zoo.training.checkpoint_version import upgrade_checkpoint

NUM_CLASSES = 3
FASTGAN = {"ngf": 8, "z_dim": 16}
STYLEGAN2 = {"generator": "stylegan2", "z_dim": 8, "w_dim": 16, "channel_base": 256, "channel_max": 16, "num_fp16_res": 0}


def tiny_module(**kwargs) -> ProjectedGANModule:
    module = ProjectedGANModule(**{"resolution": 32, "pretrained_backbones": False, **FASTGAN, **kwargs})
    module.configure_run(total_kimg=1, batch_size=2, identity={})
    return module


def batch(n: int = 2, labels: bool = False) -> dict[str, torch.Tensor]:
    data = {"image": torch.rand(n, 3, 32, 32) * 2 - 1}
    if labels:
        data["label"] = torch.arange(n) % NUM_CLASSES
    return data


def attach_optimizers(module: ProjectedGANModule) -> dict[str, torch.optim.Optimizer]:
    """What Lightning provides to a manual-optimisation step: the optimizers (also to toggle_optimizer),
    a plain backward, one process; no logging."""
    optimizers = module.configure_optimizers()
    module.trainer = SimpleNamespace(optimizers=optimizers, world_size=1, global_rank=0)
    module.optimizers = lambda: optimizers
    module.manual_backward = lambda loss: loss.backward()
    module.log_step = lambda: None
    return dict(zip(module.optimizer_names, optimizers, strict=True))


def run_phase(
    module: ProjectedGANModule, optimizers: dict[str, torch.optim.Optimizer], phase: Phase, data: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor | None]:
    """One phase's backward as training_step runs it (toggled optimizer); the gradients it left, by name."""
    optimizer = optimizers[phase.optimizer]
    module.toggle_optimizer(optimizer)
    module.zero_grad(set_to_none=True)
    loss = phase.loss(data)
    assert loss.ndim == 0 and torch.isfinite(loss), phase.name
    loss.backward()
    module.untoggle_optimizer(optimizer)
    return {name: p.grad for name, p in module.named_parameters()}


def optimizer_params(optimizer: torch.optim.Optimizer) -> set[int]:
    return {id(p) for group in optimizer.param_groups for p in group["params"]}


def snapshot(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def with_noise(module: ProjectedGANModule) -> None:
    """Noise inputs start with zero strength; give G_ema's some, so that noise shows in its images."""
    with torch.no_grad():
        for name, p in module.G_ema.named_parameters():
            if "noise_strength" in name:
                p.fill_(0.5)
        for layer in module.G_ema.modules():
            if isinstance(layer, NoiseInjection):
                layer.weight.fill_(0.5)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_registered_phases_and_the_official_adam_settings() -> None:
    module = tiny_module()
    assert [(p.name, p.optimizer, p.interval) for p in module.phases()] == [("G_main", "G", 1), ("D_main", "D", 1)]
    g_opt, d_opt = module.configure_optimizers()
    (g_group,), (d_group,) = g_opt.param_groups, d_opt.param_groups
    assert g_group["lr"] == 0.0002 and g_group["betas"] == (0.0, 0.99) and g_group["eps"] == 1e-8  # no G reg: uncorrected
    assert d_group["lr"] == pytest.approx(0.0002 * 16 / 17) and d_group["eps"] == 1e-8
    assert d_group["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    # All of G but the layers the official FastGAN builds and never runs below 256 px (frozen).
    assert optimizer_params(g_opt) == {id(p) for p in module.G.parameters() if p.requires_grad}
    assert {n.split(".")[1] for n, p in module.G.named_parameters() if not p.requires_grad} == set(module.G.synthesis.unused_layers)
    assert optimizer_params(d_opt) == {id(p) for p in module.D.discriminator.parameters()}  # only the mini-discs
    assert sum(p.numel() for p in module.D.parameters() if p.requires_grad) == 10_331_328  # official D, any resolution
    assert not any(p.requires_grad for p in module.D.feature_network.parameters())

    sg2 = tiny_module(**STYLEGAN2)
    g_opt, d_opt = sg2.configure_optimizers()
    assert g_opt.param_groups[0]["lr"] == 0.002 and d_opt.param_groups[0]["lr"] == pytest.approx(0.002 * 16 / 17)
    assert sum(p.numel() for p in sg2.D.parameters() if p.requires_grad) == 696_512  # separable mini-discs (official)
    g_opt, d_opt = tiny_module(lr=0.002, D_lr=0.001).configure_optimizers()
    assert g_opt.param_groups[0]["lr"] == 0.002 and d_opt.param_groups[0]["lr"] == pytest.approx(0.001 * 16 / 17)
    _, d_opt = tiny_module(D_reg_interval=None).configure_optimizers()
    assert d_opt.param_groups[0]["lr"] == 0.0002 and d_opt.param_groups[0]["betas"] == (0.0, 0.99)


def test_ema_half_life_is_batch_times_10_over_32_kimg_with_rampup() -> None:
    module = ProjectedGANModule(resolution=32, pretrained_backbones=False, **FASTGAN)
    assert module.ema_config == {"half_life_kimg": None, "rampup": 0.05}  # None: from the run's global batch (GANModule.ema_beta)
    module.configure_run(total_kimg=1, batch_size=64, identity={})
    module.cur_nimg.fill_(10_000_000)  # ramp-up over
    assert module.ema_beta(64) == pytest.approx(0.5 ** (64 / 20_000))
    module.cur_nimg.fill_(1000)  # ramp-up: the half-life is at most 0.05 * cur_nimg images
    assert module.ema_beta(64) == pytest.approx(0.5 ** (64 / 50))
    small = tiny_module()  # batch 2
    small.cur_nimg.fill_(10_000_000)
    assert small.ema_beta(2) == pytest.approx(0.5 ** (2 / (2 * 10 / 32 * 1000)))
    fixed = ProjectedGANModule(resolution=32, pretrained_backbones=False, ema={"half_life_kimg": 3.0, "rampup": None}, **FASTGAN)
    fixed.configure_run(total_kimg=1, batch_size=64, identity={})
    assert fixed.ema_config == {"half_life_kimg": 3.0, "rampup": None} and fixed.ema_beta(64) == pytest.approx(0.5 ** (64 / 3000))


def test_each_phase_trains_exactly_its_parameters_and_the_feature_network_gets_no_gradients() -> None:
    module = tiny_module(conditional=True, num_classes=NUM_CLASSES)
    module.use_label_counts(torch.tensor([0.0, 5.0, 0.0]))  # the training set: every image in class 1
    assert module.provides_required == {"image", "label"}
    module.train()
    optimizers = attach_optimizers(module)
    data = batch(labels=True)
    g_params = {f"G.{n}" for n, p in module.G.named_parameters() if p.requires_grad}
    d_params = {f"D.discriminator.{n}" for n, _ in module.D.discriminator.named_parameters()}
    G_main, D_main = module.phases()

    grads = run_phase(module, optimizers, G_main, data)
    assert {n for n, g in grads.items() if g is not None} == g_params
    zero = [n for n in g_params if grads[n].abs().sum() == 0 and not n.endswith("embed.weight")]
    assert not zero, zero
    embed_grad = grads["G.synthesis.embed.weight"]  # only the row of the class drawn for the fakes learns
    assert embed_grad[1].abs().sum() > 0 and embed_grad[0].abs().sum() == embed_grad[2].abs().sum() == 0

    grads = run_phase(module, optimizers, D_main, data)
    assert {n for n, g in grads.items() if g is not None} == d_params  # fakes are detached; the trunk is frozen
    zero = [n for n in d_params if grads[n].abs().sum() == 0]
    assert not zero, zero
    assert {n for n, p in module.named_parameters() if p.requires_grad} == g_params | d_params


def test_a_training_step_changes_g_and_the_mini_discs_but_not_the_feature_network() -> None:
    module = tiny_module()
    module.train()  # as Lightning: the frozen feature network stays in eval mode anyway
    assert not any(m.training for m in module.D.feature_network.modules())
    attach_optimizers(module)
    features_before = snapshot(module.D.feature_network)
    assert any(k.endswith("running_var") for k in features_before) and any(k.startswith("scratch.") for k in features_before)
    g_before, disc_before, ema_before = snapshot(module.G), snapshot(module.D.discriminator), snapshot(module.G_ema)
    module.training_step(batch(), 0)
    assert int(module.cur_nimg) == 2 and int(module.step_count) == 1
    assert {"loss/G_main", "loss/D_main", "scores/real", "scores/fake"} <= set(module._step_losses)
    for key, value in module.D.feature_network.state_dict().items():
        assert torch.equal(value, features_before[key]), f"frozen {key} changed"
    assert all(p.grad is None for p in module.D.feature_network.parameters())
    unchanged = {n for n, p in module.G.named_parameters() if torch.equal(p, g_before[n])}
    unused = tuple(f"synthesis.{name}." for name in module.G.synthesis.unused_layers)
    assert unchanged == {n for n, _ in module.G.named_parameters() if n.startswith(unused)}, unchanged
    assert not any(p.requires_grad for n, p in module.G.named_parameters() if n.startswith(unused))  # still frozen after toggling
    unchanged = [n for n, p in module.D.discriminator.named_parameters() if torch.equal(p, disc_before[n])]
    assert not unchanged, unchanged
    assert any(not torch.equal(v, ema_before[k]) for k, v in module.G_ema.state_dict().items())


def test_the_stylegan2_generator_variant_trains_and_truncates() -> None:
    module = tiny_module(**STYLEGAN2)
    module.train()
    optimizers = attach_optimizers(module)
    data = batch()
    G_main, D_main = module.phases()
    grads = run_phase(module, optimizers, G_main, data)
    assert {n for n, g in grads.items() if g is not None} == {f"G.{n}" for n, _ in module.G.named_parameters()}
    grads = run_phase(module, optimizers, D_main, data)
    d_params = {f"D.discriminator.{n}" for n, _ in module.D.discriminator.named_parameters()}
    assert {n for n, g in grads.items() if g is not None} == d_params
    module.training_step(data, 0)
    assert int(module.cur_nimg) == 2
    assert module.G_ema.mapping.w_avg.abs().sum() > 0  # tracked in G's training passes, copied by the EMA update
    z = module.latents_from_seeds([1, 2], module.G.z_dim)
    images = module.generate(z, truncation_psi=0.0)  # every w becomes w_avg; noise is constant in sampling
    assert images.shape == (2, 3, 32, 32) and torch.equal(images[0], images[1])
    assert not torch.equal(*module.generate(z))
    with pytest.raises(ConfigError, match="truncation needs a mapping network"):
        tiny_module().generate(torch.randn(1, FASTGAN["z_dim"]), truncation_psi=0.5)


@pytest.mark.parametrize("generator", ["fastgan_lite", "fastgan", "stylegan2"])
def test_sample_is_deterministic_per_seed_and_leaves_the_global_rng_and_modes_alone(generator: str) -> None:
    module = tiny_module(**(STYLEGAN2 if generator == "stylegan2" else {"generator": generator}))
    with_noise(module)
    module.G_ema.train()  # Lightning's train(); sampling uses eval mode and puts the flag back
    rng = torch.get_rng_state()
    images = module.sample([3, 7])
    assert images.dtype == torch.uint8 and images.shape == (2, 3, 32, 32)
    assert torch.equal(images[1], module.sample([7])[0]) and torch.equal(images, module.sample([3, 7]))
    assert not torch.equal(images[0], images[1])
    assert torch.equal(torch.get_rng_state(), rng)
    assert module.G_ema.training
    if generator == "fastgan":  # the noise matters: without a seed the same z renders differently
        z = module.latents_from_seeds([7], module.G.z_dim)
        assert not torch.equal(module.generate(z), module.generate(z))


def test_eval_fakes_uses_the_batch_labels_when_conditional() -> None:
    module = tiny_module(conditional=True, num_classes=NUM_CLASSES)
    module.G_ema.train()
    data = {"image": torch.zeros(4, 3, 32, 32), "label": torch.tensor([2, 0, 0, 1])}
    fakes = module.eval_fakes(data, torch.Generator().manual_seed(5))
    assert fakes.shape == (4, 3, 32, 32) and module.G_ema.training
    assert torch.equal(fakes, module.eval_fakes(data, torch.Generator().manual_seed(5)))
    z = torch.randn(4, module.G.z_dim, generator=torch.Generator().manual_seed(5))
    module.G_ema.eval()  # eval_fakes renders in eval mode (batch-norm running statistics)
    with torch.no_grad():
        expected = module.G_ema(z, F.one_hot(data["label"], NUM_CLASSES).float())
    torch.testing.assert_close(fakes, expected)
    relabelled = module.eval_fakes({**data, "label": torch.tensor([1, 2, 1, 0])}, torch.Generator().manual_seed(5))
    assert all(not torch.allclose(a, b) for a, b in zip(fakes, relabelled, strict=True))
    with pytest.raises(ValueError, match="pass class labels"):
        module.eval_fakes({"image": data["image"]})
    images = module.sample([0, 1, 2, 3])  # without labels the classes cycle by seed
    assert torch.equal(images[3], module.sample([3], labels=torch.tensor([0]))[0])  # seed 3 -> class 3 % 3 = 0
    unconditional = tiny_module()
    assert unconditional.eval_fakes(batch(labels=True), torch.Generator().manual_seed(1)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize("generator", ["fastgan", "stylegan2"])
def test_eval_fakes_is_deterministic_for_a_generator_with_noise_inputs(generator: str) -> None:
    module = tiny_module(**(STYLEGAN2 if generator == "stylegan2" else {"generator": generator}))
    with_noise(module)
    data = batch()
    first = module.eval_fakes(data, torch.Generator().manual_seed(1))
    torch.randn(5)  # the global RNG moves between the calls; the fakes must not
    assert torch.equal(first, module.eval_fakes(data, torch.Generator().manual_seed(1)))
    assert not torch.equal(first, module.eval_fakes(data, torch.Generator().manual_seed(2)))


def test_sample_honours_truncation_with_the_stylegan2_generator() -> None:
    module = tiny_module(**STYLEGAN2)
    images = module.sample([1, 2], truncation_psi=0.0)
    assert torch.equal(images[0], images[1])


def test_bad_configurations_are_clear_config_errors() -> None:
    with pytest.raises(ConfigError, match="data.channels is 1"):
        ProjectedGANModule(resolution=32, num_channels=1, pretrained_backbones=False, **FASTGAN)
    with pytest.raises(ConfigError, match="model.pretrained_backbones must be set"):
        ProjectedGANModule(resolution=32, **FASTGAN)
    with pytest.raises(ConfigError, match="fastgan_lite, fastgan, stylegan2"):
        ProjectedGANModule(resolution=32, generator="biggan", pretrained_backbones=False, **FASTGAN)
    with pytest.raises(ConfigError, match=r"model.interp224=false feeds the 32 px images .* at least 128 px"):
        ProjectedGANModule(resolution=32, interp224=False, pretrained_backbones=False, **FASTGAN)
    with pytest.raises(ConfigError, match="data.num_classes"):
        ProjectedGANModule(resolution=32, conditional=True, num_classes=0, pretrained_backbones=False, **FASTGAN)


@pytest.mark.parametrize("generator", ["fastgan_lite", "fastgan"])
def test_checkpoints_before_version_2_get_the_unused_fastgan_layers(generator: str) -> None:
    """Checkpoints written before gan-zoo kept the official (never run) feat_256/se_256 of a 128 px
    FastGAN lack their keys: the upgrade adds them from the module's own values, for G and G_ema."""
    torch.manual_seed(0)
    old = tiny_module(resolution=128, generator=generator)
    prefixes = tuple(f"{net}.synthesis.{layer}." for net in ("G", "G_ema") for layer in ("feat_256", "se_256"))
    stale = {k: v for k, v in old.state_dict().items() if not k.startswith(prefixes)}
    added = set(old.state_dict()) - set(stale)
    assert {k.split(".")[0] for k in added} == {"G", "G_ema"} and {k.split(".")[2] for k in added} == {"feat_256", "se_256"}

    torch.manual_seed(1)
    new = tiny_module(resolution=128, generator=generator)
    with pytest.raises(RuntimeError, match="Missing key"):
        new.load_state_dict(dict(stale), strict=True)
    checkpoint = {"state_dict": dict(stale)}  # no gan_zoo.format_version: written before format 2
    upgrade_checkpoint(checkpoint, new)  # what every loader does first
    upgraded = checkpoint["state_dict"]
    assert checkpoint["gan_zoo"]["format_version"] == 2
    assert set(upgraded) == set(new.state_dict())
    own = new.state_dict()
    assert all(torch.equal(upgraded[k], own[k]) for k in added)
    assert all(torch.equal(upgraded[k], stale[k]) for k in stale)  # the checkpoint's own values are kept
    new.load_state_dict(upgraded, strict=True)
    current = dict(stale)
    new.upgrade_state_dict(current, 2)
    assert set(current) == set(stale)  # format 2 checkpoints have them already
