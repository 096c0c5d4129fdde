"""The StyleGAN-XL GANModule on a tiny class-conditional configuration: what a training step trains
and what it must leave alone (frozen feature networks and projections, the stem inside a
super-resolution stage, the guidance classifier), the blur and path-length schedules in kimg, the
Adam corrections, growing a stage from a stem checkpoint and its errors, and the sampling and
evaluation interfaces."""

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.models.base import Phase
from gan_zoo.models.stylegan_xl.module import StyleGANXLModule

NUM_CLASSES = 4
# A few channels per layer, the smoke preset's shape: 4 stem layers, 3 head layers per stage, one
# random frozen EfficientNet-lite0 (the ViT backbone has its own tests), a random DeiT-tiny classifier.
TINY = {
    "num_classes": NUM_CLASSES,
    "conditional": True,
    "rand_embedding": True,
    "z_dim": 16,
    "w_dim": 64,
    "channel_base": 1024,
    "channel_max": 32,
    "syn_layers": 4,
    "head_layers": 3,
    "batch_size": 2,
    "discriminator": {"backbones": ["tf_efficientnet_lite0"], "pretrained_backbones": False},
    "classifier": {"name": "deit_tiny_distilled_patch16_224"},
}


def tiny_module(stage: int = 16, **kwargs) -> StyleGANXLModule:
    module = StyleGANXLModule(**{"resolution": stage, "stage": stage, **TINY, **kwargs})
    module.configure_run(total_kimg=1, batch_size=2, identity={})
    module.use_label_counts(torch.ones(NUM_CLASSES))  # what training reads from the data set: fakes' classes are drawn from it
    return module


def batch(size: int = 16, n: int = 2) -> dict[str, torch.Tensor]:
    return {"image": torch.rand(n, 3, size, size) * 2 - 1, "label": torch.arange(n) % NUM_CLASSES}


def attach_optimizers(module: StyleGANXLModule) -> dict[str, torch.optim.Optimizer]:
    """What Lightning provides to a manual-optimisation step: the optimizers (also to toggle_optimizer),
    a plain backward, one process; no logging."""
    optimizers = module.configure_optimizers()
    module.trainer = SimpleNamespace(optimizers=optimizers, world_size=1, global_rank=0)
    module.optimizers = lambda: optimizers
    module.manual_backward = lambda loss: loss.backward()
    module.log_step = lambda: None
    return dict(zip(module.optimizer_names, optimizers, strict=True))


def run_phase(
    module: StyleGANXLModule, optimizers: dict[str, torch.optim.Optimizer], phase: Phase, data: dict[str, torch.Tensor]
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


def frozen_features(module: StyleGANXLModule) -> list[torch.nn.Module]:
    return [features for _, features, _ in module.D.branches()]


def mini_discs(module: StyleGANXLModule) -> list[torch.nn.Module]:
    return [disc for _, _, disc in module.D.branches()]


def head_names(module: StyleGANXLModule) -> list[str]:
    return [f"synthesis.{name}." for name in module.G.head_layer_names]


def stem_checkpoint(tmp_path, family: str = "stylegan_xl", **kwargs) -> tuple[str, StyleGANXLModule]:
    """A stem run's checkpoint as Lightning writes it, with G_ema moved away from G (as training does)."""
    stem = tiny_module(**kwargs)
    with torch.no_grad():
        for p in stem.G_ema.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    checkpoint = {"state_dict": stem.state_dict(), "hyper_parameters": dict(stem.hparams)}
    stem.on_save_checkpoint(checkpoint)
    checkpoint["gan_zoo"]["family"] = family
    path = tmp_path / f"{family}_stem.ckpt"
    torch.save(checkpoint, path)
    return str(path), stem


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# ---- the stem ------------------------------------------------------------------------------------


def test_registered_phases_and_the_lazy_regularisation_adam_corrections() -> None:
    module = tiny_module()
    assert module.provides_required == {"image", "label"}
    assert [(p.name, p.optimizer, p.interval) for p in module.phases()] == [("G_main", "G", 1), ("D_main", "D", 1)]
    g_opt, d_opt = module.configure_optimizers()
    (g_group,), (d_group,) = g_opt.param_groups, d_opt.param_groups
    assert g_group["lr"] == pytest.approx(0.0025 * 4 / 5) and d_group["lr"] == pytest.approx(0.002 * 16 / 17)
    assert g_group["betas"] == pytest.approx((0.0, 0.99 ** (4 / 5)))
    assert d_group["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    assert g_group["eps"] == d_group["eps"] == 1e-8
    # G's optimizer holds the whole stem G; D's exactly the mini-discriminators (not the frozen feature networks)
    assert optimizer_params(g_opt) == {id(p) for p in module.G.parameters()}
    assert optimizer_params(d_opt) == {id(p) for disc in mini_discs(module) for p in disc.parameters()}
    assert not any(p.requires_grad for features in frozen_features(module) for p in features.parameters())


def test_path_length_phase_starts_at_pl_start_kimg_and_never_runs_in_a_super_resolution_stage() -> None:
    module = tiny_module()
    module.cur_nimg.fill_(999_999)
    assert [(p.name, p.interval) for p in module.phases()] == [("G_main", 1), ("D_main", 1)]
    module.cur_nimg.fill_(1_000_000)  # pl_start_kimg 1000: after 1M images
    assert [(p.name, p.interval) for p in module.phases()] == [("G_main", 1), ("G_reg", 4), ("D_main", 1)]
    early = tiny_module(loss={"pl_start_kimg": 0.05})
    early.cur_nimg.fill_(49)
    assert [p.name for p in early.phases()] == ["G_main", "D_main"]
    early.cur_nimg.fill_(50)
    assert [p.name for p in early.phases()] == ["G_main", "G_reg", "D_main"]
    off = tiny_module(loss={"pl_weight": 0.0, "pl_start_kimg": 0})
    assert [p.name for p in off.phases()] == ["G_main", "D_main"]
    superres = tiny_module(stage=32, loss={"pl_start_kimg": 0})
    for nimg in (0, 1_000_000, 5_000_000):
        superres.cur_nimg.fill_(nimg)
        assert [p.name for p in superres.phases()] == ["G_main", "D_main"]


def test_blur_sigma_fades_from_2_to_0_over_blur_fade_kimg_in_every_d_call() -> None:
    module = tiny_module()
    assert (module.loss_config["blur_init_sigma"], module.loss_config["blur_fade_kimg"]) == (2.0, 300.0)
    sigmas: list[float] = []

    def spy(images, c=None, blur_sigma=0.0, generator=None):
        sigmas.append(blur_sigma)
        return [images.mean() + torch.zeros(images.shape[0], 64)]  # no feature network: only what run_D passes

    module.D.forward = spy
    data = batch()
    expected = {0: 2.0, 75_000: 1.5, 150_000: 1.0, 299_999: 2.0 * (1 - 299_999 / 300_000), 300_000: 0.0, 10_000_000: 0.0}
    for nimg, sigma in expected.items():
        module.cur_nimg.fill_(nimg)
        sigmas.clear()
        module.generator_main_loss(data)
        module.discriminator_main_loss(data)
        assert sigmas == pytest.approx([sigma] * 3), nimg  # G main: fakes; D main: fakes and reals
        assert float(module._step_losses["progress/blur_sigma"]) == pytest.approx(sigma)
    fast = tiny_module(loss={"blur_fade_kimg": 0.1})  # the smoke preset's fade
    fast.D.forward = spy
    fast.cur_nimg.fill_(50)
    sigmas.clear()
    fast.run_D(data["image"], F.one_hot(data["label"], NUM_CLASSES).float())
    assert sigmas == pytest.approx([1.0])


def test_each_phase_trains_exactly_its_parameters_and_the_feature_networks_get_no_gradients() -> None:
    module = tiny_module(loss={"pl_start_kimg": 0})
    module.use_label_counts(torch.tensor([0.0, 0.0, 3.0, 0.0]))  # the fakes are all drawn in class 2
    module.train()
    optimizers = attach_optimizers(module)
    data = batch()
    g_params = {f"G.{n}" for n, p in module.G.named_parameters()}
    d_trainable = {n for n, p in module.named_parameters() if id(p) in optimizer_params(optimizers["D"])}
    assert d_trainable and all(".discriminators." in n for n in d_trainable)
    phases = {p.name: p for p in module.phases()}
    assert set(phases) == {"G_main", "G_reg", "D_main"}

    grads = run_phase(module, optimizers, phases["G_main"], data)
    with_grad = {n for n, g in grads.items() if g is not None}
    assert with_grad == g_params  # every G parameter; nothing of D, nothing frozen
    assert all(grads[n].abs().sum() > 0 for n in with_grad if not n.endswith("embed.weight")), [n for n in with_grad if grads[n].abs().sum() == 0]
    # the class embedding learns only the row of the class drawn for the fakes
    embed_grad = grads["G.mapping.embed.weight"].abs().sum(dim=1)
    assert embed_grad[2] > 0 and embed_grad[[0, 1, 3]].sum() == 0

    grads = run_phase(module, optimizers, phases["G_reg"], data)
    with_grad = {n for n, g in grads.items() if g is not None}
    assert with_grad and with_grad <= g_params and float(module.pl_mean) > 0

    grads = run_phase(module, optimizers, phases["D_main"], data)
    with_grad = {n for n, g in grads.items() if g is not None}
    assert with_grad == d_trainable  # every mini-discriminator parameter; fakes are detached from G
    assert all(grads[n].abs().sum() > 0 for n in with_grad), [n for n in with_grad if grads[n].abs().sum() == 0]
    # toggling restored what trains
    assert {n for n, p in module.named_parameters() if p.requires_grad} == g_params | d_trainable


def test_path_length_backpropagates_at_its_own_strength_as_the_official_loss() -> None:
    """autonomousvision/stylegan-xl training/loss.py runs `loss_Gpl.mean().backward()`: unlike StyleGAN2's loss it
    does not multiply by the phase's gain (the interval, 4), while G's Adam keeps the 4/5 lazy-regularisation
    correction. G main and D main are backpropagated as they are too."""
    module = tiny_module(loss={"pl_start_kimg": 0})
    module.train()
    attach_optimizers(module)
    backpropagated = []
    module.manual_backward = lambda loss: (backpropagated.append(float(loss)), loss.backward())
    module.training_step(batch(), 0)
    assert [p.name for p in module.phases()] == ["G_main", "G_reg", "D_main"] and module.phases()[1].interval == 4
    logged = [float(module._step_losses[f"loss/{name}"]) for name in ("G_main", "G_reg", "D_main")]
    assert backpropagated == logged and logged[1] > 0


def test_a_training_step_changes_g_and_the_mini_discs_but_no_frozen_part() -> None:
    module = tiny_module(loss={"pl_start_kimg": 0})
    module.train()  # as Lightning: the frozen feature networks must stay in eval mode anyway
    assert all(not m.training for features in frozen_features(module) for m in features.modules())
    attach_optimizers(module)
    features_before = [snapshot(features) for features in frozen_features(module)]
    assert any(k.endswith("running_mean") for k in features_before[0])  # the trunk's BN statistics are checked too
    assert any(".scratch." in f".{k}" for k in features_before[0])  # and the random CCM/CSM projections
    g_before, d_before = snapshot(module.G), {n: p.detach().clone() for n, p in module.D.named_parameters() if p.requires_grad}
    ema_before = snapshot(module.G_ema)
    module.training_step(batch(), 0)
    assert int(module.cur_nimg) == 2 and int(module.step_count) == 1
    assert {"loss/G_main", "loss/G_reg", "loss/D_main"} <= set(module._step_losses)
    for features, before in zip(frozen_features(module), features_before, strict=True):
        for key, value in features.state_dict().items():
            assert torch.equal(value, before[key]), f"frozen {key} changed"
        assert all(p.grad is None for p in features.parameters())
    unchanged = [n for n, p in module.G.named_parameters() if torch.equal(p, g_before[n])]
    assert not unchanged, unchanged
    unchanged = [n for n, p in module.D.named_parameters() if p.requires_grad and torch.equal(p, d_before[n])]
    assert not unchanged, unchanged
    assert any(not torch.equal(v, ema_before[k]) for k, v in module.G_ema.state_dict().items())
    # the synthesis layers' magnitude averages are never updated in training (as the official loss)
    for key, value in module.G.state_dict().items():
        if key.endswith("magnitude_ema"):
            assert torch.equal(value, g_before[key]), key


def test_d_class_embedding_starts_from_g_mapping_embedding_and_no_classifier_in_the_state_dict() -> None:
    module = tiny_module(stage=32, loss={"cls_weight": 0.1})
    embed = module.G.mapping.embed.weight
    discs = [d for disc in mini_discs(module) for d in disc.mini_discs.values()]
    assert len(discs) == 4
    for disc in discs:
        assert torch.equal(disc.embed.weight, embed) and disc.embed.weight.data_ptr() != embed.data_ptr()
    assert module.use_guidance and module.guidance_classifier is None
    module.setup("fit")  # the classifier is loaded for training only
    classifier = module.guidance_classifier
    assert classifier is not None and sum(p.numel() for p in classifier.parameters()) > 5_000_000
    assert not any(p.requires_grad for p in classifier.parameters())
    classifier_params = {id(p) for p in classifier.parameters()}
    assert not classifier_params & {id(p) for p in module.parameters()}
    assert not any(m is classifier for m in module.modules())
    checkpoint = {"state_dict": module.state_dict()}
    module.on_save_checkpoint(checkpoint)
    assert not any("classifier" in key or "guidance" in key for key in checkpoint["state_dict"])
    assert set(checkpoint["state_dict"]) == set(tiny_module(stage=32).state_dict())  # same keys as without guidance
    unconditional = tiny_module(conditional=False, num_classes=0)
    assert not any(hasattr(d, "embed") for disc in mini_discs(unconditional) for d in disc.mini_discs.values())


# ---- super-resolution stages ---------------------------------------------------------------------


def test_a_stage_grown_from_a_stem_checkpoint_keeps_the_stem_g_ema_layers(tmp_path) -> None:
    path, stem = stem_checkpoint(tmp_path)
    module = tiny_module(stage=32, stem_ckpt=path)
    assert module.stem_loaded and module.G.img_resolution == 32 and len(module.G.head_layer_names) == 4  # 3 + ToRGB
    stem_ema, stem_g = stem.G_ema.state_dict(), stem.G.state_dict()
    heads = head_names(module)
    retained = {k: v for k, v in module.G.state_dict().items() if not k.startswith(tuple(heads))}
    assert any(k.startswith("mapping.") for k in retained) and any(k.startswith("synthesis.input.") for k in retained)
    assert any(k.startswith("synthesis.L0_") for k in retained)
    assert set(retained) < set(stem_ema)  # the stem minus its critically sampled layers and ToRGB
    for key, value in retained.items():
        assert torch.equal(value, stem_ema[key]), key
    assert any(not torch.equal(value, stem_g[key]) for key, value in retained.items())  # G_ema, not G
    for key, value in module.G_ema.state_dict().items():
        assert torch.equal(value, module.G.state_dict()[key]), key
    trainable = {n for n, p in module.G.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(tuple(heads)) for n in trainable)
    assert {n for n, _ in module.G.named_parameters() if n.startswith(tuple(heads))} == trainable
    g_opt, _ = module.configure_optimizers()
    assert optimizer_params(g_opt) == {id(p) for p in module.G.parameters() if p.requires_grad}
    for disc in mini_discs(module):
        for d in disc.mini_discs.values():
            assert torch.equal(d.embed.weight, stem_ema["mapping.embed.weight"])
    with torch.no_grad():
        images = module.eval_fakes(batch(32), torch.Generator().manual_seed(0))
    assert images.shape == (2, 3, 32, 32) and torch.isfinite(images).all()


def test_a_super_resolution_step_trains_only_the_head_and_the_mini_discs(tmp_path) -> None:
    path, _ = stem_checkpoint(tmp_path)
    module = tiny_module(stage=32, stem_ckpt=path, loss={"cls_weight": 0.5, "pl_start_kimg": 0})
    module.setup("fit")
    module.train()
    classifier = module.guidance_classifier
    assert classifier is not None and not classifier.training
    optimizers = attach_optimizers(module)
    data = batch(32)
    heads = tuple(f"G.{h}" for h in head_names(module))
    head_params = {f"G.{n}" for n, _ in module.G.named_parameters() if f"G.{n}".startswith(heads)}
    g_before, classifier_before = snapshot(module.G), snapshot(classifier)
    features_before = [snapshot(features) for features in frozen_features(module)]
    phases = module.phases()
    assert [p.name for p in phases] == ["G_main", "D_main"]

    grads = run_phase(module, optimizers, phases[0], data)
    assert {n for n, g in grads.items() if g is not None} == head_params  # not the mapping, not the kept stem layers
    assert all(grads[n].abs().sum() > 0 for n in head_params)
    assert "loss/G_cls" in module._step_losses and torch.isfinite(module._step_losses["loss/G_cls"])
    assert all(p.grad is None for p in classifier.parameters())
    d_params = {n for n, p in module.named_parameters() if id(p) in optimizer_params(optimizers["D"])}
    grads = run_phase(module, optimizers, phases[1], data)
    assert {n for n, g in grads.items() if g is not None} == d_params

    module.training_step(data, 0)
    after = module.G.state_dict()
    changed_stem = [key for key, value in g_before.items() if not f"G.{key}".startswith(heads) and not torch.equal(after[key], value)]
    # Only the mapping's w average moves (the D phase's G pass updates it, as the official loss does
    # for the frozen stem mapping): no parameter and no other buffer of the mapping or kept layers.
    assert changed_stem == ["mapping.w_avg"]
    changed_heads = [n for n in head_params if not torch.equal(after[n[2:]], g_before[n[2:]])]
    assert sorted(changed_heads) == sorted(head_params)
    for key, value in classifier.state_dict().items():
        assert torch.equal(value, classifier_before[key]), f"classifier {key} changed"
    for features, before in zip(frozen_features(module), features_before, strict=True):
        for key, value in features.state_dict().items():
            assert torch.equal(value, before[key]), f"frozen {key} changed"


def test_stem_checkpoint_errors_name_the_path(tmp_path) -> None:
    missing = tmp_path / "nowhere" / "last.ckpt"
    with pytest.raises(ConfigError, match=f"model.stem_ckpt={missing}: no such file"):
        tiny_module(stage=32, stem_ckpt=str(missing))
    other, _ = stem_checkpoint(tmp_path, family="projected_gan")
    with pytest.raises(CheckpointError, match=f"{other} is a 'projected_gan' checkpoint"):
        tiny_module(stage=32, stem_ckpt=other)
    path, _ = stem_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match=f"{path} holds the 16 px stage; this stage grows from the 32 px one"):
        tiny_module(stage=64, stem_ckpt=path)
    no_ema = tmp_path / "no_ema.ckpt"
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("G_ema.")}
    torch.save(checkpoint, no_ema)
    with pytest.raises(CheckpointError, match=f"{no_ema} has no G_ema weights"):
        tiny_module(stage=32, stem_ckpt=str(no_ema))


def test_training_a_stage_without_stem_ckpt_is_refused_at_train_start() -> None:
    module = tiny_module(stage=32)  # builds (gan-zoo summary, or the container a stage checkpoint loads into)
    assert not module.stem_loaded
    with pytest.raises(ConfigError, match=r"model.stem_ckpt=<checkpoint of the 16 px stage>"):
        module.on_train_start()
    module.cur_nimg.fill_(8)  # resuming the stage from its own checkpoint is fine
    module.on_train_start()
    tiny_module().on_train_start()  # the stem needs no stem_ckpt


def test_bad_configurations_are_clear_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"model.stage=32 but data.resolution=16"):
        StyleGANXLModule(**{**TINY, "resolution": 16, "stage": 32})
    undecided = {**TINY, "discriminator": {"backbones": ["tf_efficientnet_lite0"]}}
    with pytest.raises(ConfigError, match="model.discriminator.pretrained_backbones must be set"):
        StyleGANXLModule(resolution=16, stage=16, **undecided)
    with pytest.raises(ConfigError, match="data.num_classes"):
        StyleGANXLModule(**{**TINY, "resolution": 16, "stage": 16, "num_classes": 0})
    with pytest.raises(ConfigError, match="data.channels is 1"):
        StyleGANXLModule(**{**TINY, "resolution": 16, "stage": 16, "num_channels": 1})
    no_resize = {**TINY, "discriminator": {**TINY["discriminator"], "interp224": False}}
    with pytest.raises(ConfigError, match=r"model.discriminator.interp224=false feeds the 16 px images to tf_efficientnet_lite0"):
        StyleGANXLModule(resolution=16, stage=16, **no_resize)


# ---- sampling and evaluation ---------------------------------------------------------------------


def test_eval_fakes_uses_the_batch_labels_and_its_generator() -> None:
    module = tiny_module()
    with torch.no_grad():
        for p in module.G_ema.parameters():  # a G_ema unlike G, to see which one renders
            p.add_(torch.randn_like(p) * 0.1)
    data = {"image": torch.zeros(4, 3, 16, 16), "label": torch.tensor([3, 1, 1, 0])}
    fakes = module.eval_fakes(data, torch.Generator().manual_seed(5))
    assert fakes.shape == (4, 3, 16, 16)
    torch.testing.assert_close(fakes, module.eval_fakes(data, torch.Generator().manual_seed(5)), rtol=0, atol=0)
    z = torch.randn(4, module.G.z_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = module.G_ema(z, F.one_hot(data["label"], NUM_CLASSES).float())
    torch.testing.assert_close(fakes, expected)
    relabelled = module.eval_fakes({**data, "label": torch.tensor([0, 2, 3, 1])}, torch.Generator().manual_seed(5))
    assert all(not torch.allclose(a, b) for a, b in zip(fakes, relabelled, strict=True))
    assert not torch.equal(fakes, module.eval_fakes(data, torch.Generator().manual_seed(6)))
    with pytest.raises(ValueError, match="pass class labels"):
        module.eval_fakes({"image": data["image"]})


def test_sample_is_deterministic_per_seed_and_truncation_zero_gives_each_class_w_avg() -> None:
    module = tiny_module()
    images = module.sample([3, 7])
    assert images.dtype == torch.uint8 and images.shape == (2, 3, 16, 16)
    torch.testing.assert_close(images[1], module.sample([7])[0], rtol=0, atol=1)
    torch.testing.assert_close(images, module.sample([3, 7]), rtol=0, atol=0)
    labels = torch.tensor([2, 2])
    assert not torch.equal(module.sample([3, 3], labels=labels)[0], module.sample([3, 3], labels=torch.tensor([0, 0]))[0])

    w_avg = torch.randn(NUM_CLASSES, module.G.w_dim)
    module.G_ema.mapping.w_avg.copy_(w_avg)
    z = torch.randn(3, module.G.z_dim)
    labels = torch.tensor([1, 3, 1])
    truncated = module.generate(z, labels, truncation_psi=0.0)
    with torch.no_grad():
        expected = module.G_ema.synthesis(w_avg[labels].unsqueeze(1).repeat(1, module.G_ema.num_ws, 1))
    torch.testing.assert_close(truncated, expected)
    assert torch.equal(truncated[0], truncated[2]) and not torch.equal(truncated[0], truncated[1])
    same_class = module.sample([0, 4, 8], truncation_psi=0.0)  # seeds cycle the classes: all class 0
    assert torch.equal(same_class[0], same_class[1]) and torch.equal(same_class[0], same_class[2])
