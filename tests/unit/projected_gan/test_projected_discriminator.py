"""The projected discriminator (Projected GAN, StyleGAN-XL) and the guidance classifier: parameter
counts of the official code (built on the meta device), state-dict names, frozen feature networks
in a training step, output shapes, and weight loading from local files only (random weights written
in timm's formats; the real files are never needed)."""

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.errors import ConfigError
from gan_zoo.losses.projected_hinge import projected_hinge_d_loss
from gan_zoo.models.projected_gan.backbones import BackboneWeightsError
from gan_zoo.models.projected_gan.classifier import GuidanceClassifier
from gan_zoo.models.projected_gan.discriminator import ProjectedDiscriminator, projected_gan_discriminator, stylegan_xl_discriminator

TINY_SXL = ("deit_tiny_distilled_patch16_224", "tf_efficientnet_lite0")  # the ViT code path at a fraction of DeiT-B's cost


def numel(module_or_params) -> int:
    params = module_or_params.parameters() if isinstance(module_or_params, torch.nn.Module) else module_or_params
    return sum(p.numel() for p in params)


def one_hot(labels: list[int], c_dim: int) -> torch.Tensor:
    return F.one_hot(torch.tensor(labels), c_dim).float()


# ---- counts -------------------------------------------------------------------------------------
# Computed by building the official ProjectedDiscriminator: autonomousvision/projected-gan `pg_modules/discriminator.py`
# with backbone_kwargs=dict(cout=64, expand=True, proj_type=2, num_discs=4, separable=S, cond=C) (its `train.py`),
# and autonomousvision/stylegan-xl `pg_modules/discriminator.py` with backbones=[deit_base_distilled_patch16_224,
# tf_efficientnet_lite0] and the same backbone_kwargs (no separable); timm 0.4.12, pretrained=False.


@pytest.mark.parametrize(
    ("kwargs", "total", "trainable", "per_disc"),
    [
        (dict(c_dim=0), 13_666_944, 10_331_328, [2_829_120, 2_763_392, 2_631_936, 2_106_880]),
        (dict(c_dim=1000), 16_276_352, 12_940_736, None),
        (dict(c_dim=0, separable=True), 4_032_128, 696_512, None),
    ],
)
def test_projected_gan_counts(kwargs, total, trainable, per_disc) -> None:
    with torch.device("meta"):
        D = projected_gan_discriminator(pretrained_backbones=True, **kwargs)  # meta: shapes only, no file read
    assert numel(D) == total
    assert numel(D.trainable_parameters()) == trainable
    assert sum(p.numel() for p in D.parameters() if p.requires_grad) == trainable
    assert numel(D.feature_network.pretrained) == 2_958_848
    assert numel(D.feature_network.scratch) == 376_768
    if per_disc:
        assert [numel(d) for d in D.discriminator.mini_discs.values()] == per_disc


@pytest.mark.parametrize(("c_dim", "total", "trainable"), [(1000, 125_601_168, 27_515_776), (0, 118_748_048, 20_662_656)])
def test_stylegan_xl_counts(c_dim, total, trainable) -> None:
    with torch.device("meta"):
        D = stylegan_xl_discriminator(c_dim=c_dim, pretrained_backbones=True)
    assert numel(D) == total
    assert numel(D.trainable_parameters()) == trainable
    deit, effnet = D.feature_networks["deit_base_distilled_patch16_224"], D.feature_networks["tf_efficientnet_lite0"]
    assert (numel(deit.pretrained), numel(deit.scratch)) == (94_049_936, 699_840)
    assert (numel(effnet.pretrained), numel(effnet.scratch)) == (2_958_848, 376_768)
    if c_dim:
        for discs in D.discriminators.values():
            assert [numel(d) for d in discs.mini_discs.values()] == [3_685_760, 3_620_032, 3_488_576, 2_963_520]
            disc = discs.mini_discs["0"]
            assert (numel(disc.embed), numel(disc.embed_proj), numel(disc.cls)) == (320_000, 20_544, 524_288)


def test_guidance_classifier_count() -> None:
    with torch.device("meta"):
        classifier = GuidanceClassifier(pretrained=True)
    assert numel(classifier) == 22_436_432
    assert not any(p.requires_grad for p in classifier.parameters())


def test_state_dict_names_follow_the_official_layouts() -> None:
    with torch.device("meta"):
        prj = projected_gan_discriminator(c_dim=0, pretrained_backbones=False)
        sxl = stylegan_xl_discriminator(c_dim=1000, pretrained_backbones=False)
    prj_keys, sxl_keys = set(prj.state_dict()), set(sxl.state_dict())
    for suffix in ("bias", "weight_orig", "weight_u", "weight_v"):
        assert f"discriminator.mini_discs.0.main.0.main.0.{suffix}" in prj_keys
    for suffix in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        assert f"discriminator.mini_discs.3.main.0.main.1.{suffix}" in prj_keys
    assert {"feature_network.pretrained.layer0.0.weight", "feature_network.pretrained.layer0.3.0.conv_dw.weight",
            "feature_network.pretrained.layer3.0.0.conv_pw.weight", "feature_network.scratch.layer3_ccm.weight",
            "feature_network.scratch.layer0_csm.out_conv.weight"} <= prj_keys  # fmt: skip
    deit = "feature_networks.deit_base_distilled_patch16_224"
    assert {f"{deit}.pretrained.model.dist_token", f"{deit}.pretrained.layer1.3.weight", f"{deit}.pretrained.layer1.4.weight",
            f"{deit}.pretrained.layer4.4.weight", f"{deit}.scratch.layer2_csm.out_conv.bias",
            "discriminators.tf_efficientnet_lite0.mini_discs.2.cls.weight_orig",
            "discriminators.tf_efficientnet_lite0.mini_discs.2.embed.weight",
            "discriminators.tf_efficientnet_lite0.mini_discs.2.embed_proj.weight"} <= sxl_keys  # fmt: skip
    assert "discriminator.mini_discs.0.embed_proj.0.weight" in projected_gan_discriminator(c_dim=10, pretrained_backbones=False).state_dict()


# ---- training semantics -------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["projected_gan", "stylegan_xl_tiny"])
def test_d_step_trains_only_the_mini_discriminators(flavour) -> None:
    torch.manual_seed(0)
    if flavour == "projected_gan":
        D = projected_gan_discriminator(c_dim=5, pretrained_backbones=False)
    else:
        D = stylegan_xl_discriminator(c_dim=5, pretrained_backbones=False, backbones=TINY_SXL)
    D.train()
    D.requires_grad_(True)  # what phase toggling may do: the feature networks must stay frozen
    frozen = [f for _, f, _ in D.branches()]
    assert all(not m.training for f in frozen for m in f.modules())
    assert all(m.training for _, _, d in D.branches() for m in d.modules())
    assert not any(p.requires_grad for f in frozen for p in f.parameters())
    frozen_before = [{k: v.clone() for k, v in f.state_dict().items()} for f in frozen]
    disc_bn_before = [m.running_mean.clone() for _, _, d in D.branches() for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)]

    optimizer = torch.optim.Adam(D.trainable_parameters(), lr=1e-2, betas=(0.0, 0.99))
    c = one_hot([0, 4], 5)
    fake = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    loss = projected_hinge_d_loss(D(torch.rand(2, 3, 32, 32) * 2 - 1, c, blur_sigma=1.0), D(fake, c, blur_sigma=1.0), official_loss_scaling=True)
    loss.backward()
    optimizer.step()

    assert all(p.grad is None for f in frozen for p in f.parameters())
    missing = [n for n, p in D.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"trainable parameters without a gradient: {missing}"
    assert len(D.trainable_parameters()) == sum(1 for p in D.parameters() if p.requires_grad)
    assert fake.grad is not None and fake.grad.abs().sum() > 0  # G's gradient passes the frozen trunk
    for f, before in zip(frozen, frozen_before, strict=True):
        for key, value in f.state_dict().items():
            assert torch.equal(value, before[key]), f"frozen {key} changed"
    disc_bn_after = [m.running_mean for _, _, d in D.branches() for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(not torch.equal(a, b) for a, b in zip(disc_bn_after, disc_bn_before, strict=True))

    D.requires_grad_(False)
    assert not any(p.requires_grad for p in D.parameters())
    D.eval()
    assert not any(m.training for m in D.modules())


def test_output_shapes_and_input_checks() -> None:
    torch.manual_seed(0)
    D = projected_gan_discriminator(c_dim=0, pretrained_backbones=False).eval()
    with torch.no_grad():
        for size in (16, 32, 64):  # below 224: resized, 4 mini-discs x 4x4 logits
            (logits,) = D(torch.zeros(2, 3, size, size))
            assert logits.shape == (2, 64)
        (logits,) = D(torch.zeros(1, 3, 256, 256))  # 256 is not resized: 4 x 5x5 logits
        assert logits.shape == (1, 100)
        small = ProjectedDiscriminator(["tf_efficientnet_lite0"], 0, False, interp224=False).eval()
        with pytest.raises(ValueError, match="too small"):
            small(torch.zeros(1, 3, 64, 64))
        with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
            D(torch.zeros(1, 1, 32, 32))
    cond = projected_gan_discriminator(c_dim=10, pretrained_backbones=False)
    with pytest.raises(ValueError, match="one-hot labels"):
        cond(torch.zeros(2, 3, 32, 32))


def test_vit_shapes_and_diffaugment_generator() -> None:
    torch.manual_seed(0)
    D = stylegan_xl_discriminator(c_dim=3, pretrained_backbones=False, backbones=TINY_SXL).eval()
    c = one_hot([0, 2], 3)
    with torch.no_grad():
        for size in (16, 32, 64):
            assert [t.shape for t in D(torch.rand(2, 3, size, size) * 2 - 1, c)] == [(2, 64), (2, 64)]
        x = torch.rand(2, 3, 32, 32) * 2 - 1
        first = D(x, c, generator=torch.Generator().manual_seed(1))
        again = D(x, c, generator=torch.Generator().manual_seed(1))
        other = D(x, c, generator=torch.Generator().manual_seed(2))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])


def test_stylegan_xl_deit_base_forward() -> None:
    torch.manual_seed(0)
    D = stylegan_xl_discriminator(c_dim=1000, pretrained_backbones=False).eval()
    with torch.no_grad():
        logits = D(torch.rand(1, 3, 16, 16) * 2 - 1, one_hot([7], 1000))
    assert [t.shape for t in logits] == [(1, 64), (1, 64)]
    assert all(torch.isfinite(t).all() for t in logits)


def test_load_class_embedding_and_config_errors() -> None:
    D = projected_gan_discriminator(c_dim=10, pretrained_backbones=False)
    weight = torch.randn(1000, 128)
    D.load_class_embedding(weight)
    assert all(torch.equal(d.embed.weight, weight) for d in D.discriminator.mini_discs.values())
    with pytest.raises(ValueError, match="does not fit"):
        D.load_class_embedding(torch.randn(1000, 320))
    with pytest.raises(ConfigError, match="unknown projected-discriminator backbone"):
        ProjectedDiscriminator(["resnet50"], 0, False)
    with pytest.raises(ConfigError, match="not among the backbones"):
        ProjectedDiscriminator(["tf_efficientnet_lite0"], 0, True, backbone_weights={"deit_base_distilled_patch16_224": "x"})
    with pytest.raises(ConfigError, match="must be set to true or false"):
        ProjectedDiscriminator(["tf_efficientnet_lite0"], 0, None)
    with pytest.raises(ConfigError, match="c_dim"):
        ProjectedDiscriminator(["tf_efficientnet_lite0"], 1001, False)


def test_guidance_classifier_forward() -> None:
    torch.manual_seed(0)
    classifier = GuidanceClassifier(pretrained=False, name="deit_tiny_distilled_patch16_224").train()
    assert not classifier.training
    images = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_(True)
    logits = classifier(images)
    assert logits.shape == (2, 1000)
    logits.sum().backward()
    assert images.grad is not None and all(p.grad is None for p in classifier.parameters())


# ---- weight files -------------------------------------------------------------------------------


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    """Every cache location timm/HF/torch.hub could use points into an empty temporary folder."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path


def random_lite0_state() -> dict[str, torch.Tensor]:
    import timm

    torch.manual_seed(1)
    state = timm.create_model("tf_efficientnet_lite0").state_dict()
    state["bn1.running_mean"] = torch.randn_like(state["bn1.running_mean"])  # loaded buffers are checked too
    return state


def probed_lite0_statistics(state: dict[str, torch.Tensor], side: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(running mean, running var, batches tracked) of the trunk's batch norms (all but the head's bn2)
    after what the official constructors do: load the weights, run zeros(1, 3, side, side) in train mode."""
    import timm

    model = timm.create_model("tf_efficientnet_lite0")
    model.load_state_dict(state)
    model.train()
    model.forward_features(torch.zeros(1, 3, side, side))
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms[-1] is model.bn2
    return [(m.running_mean, m.running_var, m.num_batches_tracked) for m in norms[:-1]]


def trunk_statistics(trunk: torch.nn.Module) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    norms = [m for m in trunk.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    return [(m.running_mean, m.running_var, m.num_batches_tracked) for m in norms]


def assert_trunk_holds(D: ProjectedDiscriminator, state: dict[str, torch.Tensor]) -> None:
    trunk = D.feature_network.pretrained
    assert torch.equal(trunk.layer0[0].weight, state["conv_stem.weight"])
    assert torch.equal(trunk.layer3[-1][0].conv_pw.weight, state["blocks.6.0.conv_pw.weight"])
    loaded_then_probed = probed_lite0_statistics(state, 224)[0]
    assert all(torch.equal(a, b) for a, b in zip(trunk_statistics(trunk)[0], loaded_then_probed, strict=True))


@pytest.mark.parametrize("flavour", ["projected_gan", "stylegan_xl"])
def test_construction_moves_the_trunk_statistics_as_the_official_zero_image_pass(flavour, tmp_path) -> None:
    """The official constructors run one zero image through the freshly loaded, train-mode trunk to
    measure its channels (224 px Projected GAN, 256 px StyleGAN-XL): every batch-norm statistic of
    EfficientNet-lite0 moves once, and the frozen discriminator keeps those values."""
    import timm

    state = random_lite0_state()
    for key in [k for k in state if k.endswith((".bias", ".running_mean"))]:
        state[key] = torch.randn_like(state[key]) * 0.2  # nonzero shifts: the statistics then depend on the image side
    lite0 = tmp_path / "lite0.pth"
    torch.save(state, lite0)
    if flavour == "projected_gan":
        D = projected_gan_discriminator(0, True, backbone_weights={"tf_efficientnet_lite0": str(lite0)})
        trunk, side = D.feature_network.pretrained, 224
    else:
        torch.manual_seed(2)
        deit_state = timm.create_model(TINY_SXL[0]).state_dict()
        deit = tmp_path / "deit.pth"
        torch.save(deit_state, deit)
        D = stylegan_xl_discriminator(0, True, {"tf_efficientnet_lite0": str(lite0), TINY_SXL[0]: str(deit)}, backbones=TINY_SXL)
        trunk, side = D.feature_networks["tf_efficientnet_lite0"].pretrained, 256
        # DeiT has no running statistics: the official pass through it changes nothing, gan-zoo skips it.
        vit_state = D.feature_networks[TINY_SXL[0]].pretrained.model.state_dict()
        assert all(torch.equal(value, deit_state[key]) for key, value in vit_state.items())
    ours, expected = trunk_statistics(trunk), probed_lite0_statistics(state, side)
    assert len(ours) == len(expected) == 48  # 96 running mean / var tensors, 48 batch counters
    for (mean, var, count), (ref_mean, ref_var, ref_count) in zip(ours, expected, strict=True):
        assert torch.equal(mean, ref_mean) and torch.equal(var, ref_var) and int(count) == int(ref_count) == 1
    other_side = probed_lite0_statistics(state, 480 - side)  # 256 for Projected GAN, 224 for StyleGAN-XL
    assert not all(torch.equal(var, ref_var) for (_, var, _), (_, ref_var, _) in zip(ours, other_side, strict=True))
    assert not any(m.training for m in trunk.modules())


def test_backbone_loads_from_the_hugging_face_cache(empty_caches) -> None:
    from safetensors.torch import save_file

    state = random_lite0_state()
    repo = empty_caches / "hf" / "hub" / "models--timm--tf_efficientnet_lite0.in1k"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    save_file({k: v.contiguous() for k, v in state.items()}, str(snapshot / "model.safetensors"))
    assert_trunk_holds(projected_gan_discriminator(c_dim=0, pretrained_backbones=True), state)


def test_backbone_loads_from_explicit_and_legacy_files(empty_caches) -> None:
    state = random_lite0_state()
    explicit = empty_caches / "lite0.pth"
    torch.save(state, explicit)
    assert_trunk_holds(projected_gan_discriminator(0, True, backbone_weights={"tf_efficientnet_lite0": str(explicit)}), state)
    legacy = empty_caches / "torch" / "hub" / "checkpoints" / "tf_efficientnet_lite0-0aa007d2.pth"  # timm < 0.9's download
    legacy.parent.mkdir(parents=True)
    torch.save(state, legacy)
    assert_trunk_holds(projected_gan_discriminator(0, True), state)
    # The configs declare every backbone with null: null is the default lookup, as a missing key, and
    # a null entry for a backbone this discriminator does not use is no mistake.
    declared = {"tf_efficientnet_lite0": None, "deit_base_distilled_patch16_224": None}
    assert_trunk_holds(projected_gan_discriminator(0, True, backbone_weights=declared), state)


def test_missing_or_wrong_weights_are_clear_errors(empty_caches) -> None:
    with pytest.raises(BackboneWeightsError) as missing:
        projected_gan_discriminator(c_dim=0, pretrained_backbones=True)
    message = str(missing.value)
    assert isinstance(missing.value, ConfigError)
    assert "tf_efficientnet_lite0 weights not found" in message
    assert str(empty_caches / "hf" / "hub" / "models--timm--tf_efficientnet_lite0.in1k") in message
    assert str(empty_caches / "torch" / "hub" / "checkpoints" / "tf_efficientnet_lite0-0aa007d2.pth") in message
    assert "timm.create_model('tf_efficientnet_lite0', pretrained=True)" in message
    assert "model.backbone_weights.tf_efficientnet_lite0" in message  # the override key a user types

    with pytest.raises(BackboneWeightsError, match="does not exist"):
        projected_gan_discriminator(0, True, backbone_weights={"tf_efficientnet_lite0": str(empty_caches / "nope.pth")})
    with pytest.raises(BackboneWeightsError, match="deit_small_distilled_patch16_224 weights not found"):
        GuidanceClassifier(pretrained=True)

    wrong = empty_caches / "wrong.pth"
    torch.save({"conv_stem.weight": torch.zeros(1)}, wrong)
    with pytest.raises(BackboneWeightsError, match="do not fit"):
        projected_gan_discriminator(0, True, backbone_weights={"tf_efficientnet_lite0": str(wrong)})
