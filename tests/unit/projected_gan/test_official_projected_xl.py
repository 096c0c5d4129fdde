"""Projected GAN and StyleGAN-XL snapshot pickles in gan-zoo.

The files are written here in the official structure from small gan-zoo modules with random weights:
Projected GAN's FastGAN generator and both projected discriminators as plain nn.Module objects of the
official classes (autonomousvision/projected-gan `pg_modules/`), its StyleGAN2 generator and
StyleGAN-XL's generators as persistence records with the official init kwargs and attributes
(autonomousvision/stylegan-xl `training/networks_stylegan3_resetting.py`). Importing them must give
back exactly those networks, and `gan-zoo generate` must write what each official `gen_images.py`
computes: z = RandomState(seed).randn(1, z_dim), the one-hot class, G_ema; Projected GAN quantises
by x * 127.5 + 128, StyleGAN-XL's `gen_utils.w_to_img` by (x + 1) * 255 / 2 (gan-zoo's generate uses
the former for every family: at most 1/255 apart).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gan_zoo.errors import CheckpointError
from gan_zoo.official.load import module_from_imported, read_official
from gan_zoo.training.init_weights import initialize_from
from tests.conftest import run_cli_in_process
from tests.official_files import OfficialClass, easy, official_module, write_official_pickle

# Stand-ins for the module sources the records carry (text, never run): the markers the readers use.
PG_STYLEGAN2_SRC = '# modified by Axel Sauer for "Projected GANs Converge Faster"\nclass SynthesisBlock: pass\nopen("EXECUTED", "w")\n'
XL_SRC = "class SynthesisInput: pass\nclass SuperresGenerator: pass\nopen('EXECUTED', 'w')\n"

# gan-zoo class -> official class of the plain modules (torch.nn and timm classes keep their own names).
PG_CLASSES = {
    "FastGANGenerator": "pg_modules.networks_fastgan.Generator",
    "FastGANSynthesis": "pg_modules.networks_fastgan.FastganSynthesis",
    "ProjectedDiscriminator": "pg_modules.discriminator.ProjectedDiscriminator",
    "FeatureProjector": "pg_modules.projector.F_RandomProj",
    "EfficientNetTrunk": "torch.nn.modules.module.Module",
    "RandomProjection": "torch.nn.modules.module.Module",
    "MultiScaleDiscriminator": "pg_modules.discriminator.MultiScaleD",
    "MiniDiscriminator": "pg_modules.discriminator.SingleDisc",
    "ConditionalMiniDiscriminator": "pg_modules.discriminator.SingleDiscCond",
}
PROJECTION = {"cout": 64, "expand": True, "proj_type": 2}


def plain_class(module: torch.nn.Module, attributes: dict | None = None) -> OfficialClass:
    kind = type(module)
    own_name = kind.__module__.startswith(("torch.nn.", "timm."))
    name = PG_CLASSES.get(kind.__name__) or (f"{kind.__module__}.{kind.__name__}" if own_name else f"pg_modules.blocks.{kind.__name__}")
    return OfficialClass(name, attributes=attributes)


def discriminator_class(path: str, module: torch.nn.Module, discriminator: torch.nn.Module, backbones=None) -> OfficialClass:
    """The official ProjectedDiscriminator's objects, with the attributes the reader looks at."""
    if path == "":
        attributes = {"diffaug": True, "interp224": True}
        if hasattr(discriminator, "feature_networks"):
            attributes["backbones"] = list(backbones or discriminator.backbones)
        return plain_class(module, attributes)
    if type(module).__name__ == "FeatureProjector":
        return plain_class(module, PROJECTION)
    return plain_class(module)


# ---- Projected GAN -------------------------------------------------------------------------------


def _pg_reference(generator: str, c_dim: int = 0, resolution: int = 16):
    from gan_zoo.models.projected_gan.module import ProjectedGANModule

    torch.manual_seed(0)
    options = {"z_dim": 16, "ngf": 4} if generator != "stylegan2" else {"z_dim": 8, "w_dim": 16, "channel_base": 256, "channel_max": 16, "num_fp16_res": 0}
    module = ProjectedGANModule(resolution=resolution, generator=generator, num_classes=c_dim, conditional=c_dim > 0, pretrained_backbones=False, **options)
    with torch.no_grad():  # trained-looking values where a fresh network has constants
        for net in (module.G, module.G_ema):
            for p in net.parameters():
                if p.numel() == 1:  # the noise strengths (FastGAN's NoiseInjection, StyleGAN2's noise_strength) start at 0
                    p.fill_(0.3)
            for name, b in net.named_buffers():
                if name.endswith(("running_mean", "stored_mean")):
                    b.normal_(0, 0.1)
        if generator == "stylegan2":
            module.G_ema.mapping.w_avg.normal_()
    return module.eval()


def _pg_generator_record(module, net: torch.nn.Module):
    if module.generator_kind == "stylegan2":
        g_kwargs = {
            "z_dim": 8,
            "w_dim": 16,
            "mapping_kwargs": {"num_layers": 2},
            "channel_base": 256,
            "channel_max": 16,
            "fused_modconv_default": "inference_only",
            "num_fp16_res": 0,
            "c_dim": module.c_dim,
            "img_resolution": module.hparams.resolution,
            "img_channels": 3,
        }
        return official_module(net, lambda path, m: OfficialClass(type(m).__name__, PG_STYLEGAN2_SRC, g_kwargs if path == "" else {}))

    def describe(path: str, m: torch.nn.Module) -> OfficialClass:
        if path == "":
            return plain_class(m, {"z_dim": net.z_dim, "c_dim": net.c_dim, "w_dim": 0, "img_resolution": net.img_resolution, "img_channels": net.img_channels})
        return plain_class(m, {"img_resolution": net.img_resolution, "z_dim": net.z_dim} if path == "synthesis" else None)

    return official_module(net, describe)


def _write_pg(module, path, discriminator=None, with_d: bool = True):
    """A snapshot as projected-gan's training_loop.py pickles it."""
    d = discriminator if discriminator is not None else module.D
    data = {
        "G": _pg_generator_record(module, module.G),
        "G_ema": _pg_generator_record(module, module.G_ema),
        "training_set_kwargs": easy({"path": "~/data/pokemon.zip", "resolution": module.hparams.resolution}),
    }
    if with_d:
        data["D"] = official_module(d, lambda p, m: discriminator_class(p, m, d))
    return write_official_pickle(path, data)


@pytest.fixture(scope="module")
def fastgan_lite(tmp_path_factory):
    module = _pg_reference("fastgan_lite")
    return module, _write_pg(module, tmp_path_factory.mktemp("pg") / "pokemon.pkl")


def _assert_same_networks(module, reference, names):
    for name in names:
        ours, theirs = getattr(module, name).state_dict(), getattr(reference, name).state_dict()
        assert set(ours) == set(theirs), name
        for key in ours:
            torch.testing.assert_close(ours[key], theirs[key], rtol=0, atol=0)


def test_fastgan_lite_snapshot_imports_every_network_key_for_key(fastgan_lite):
    reference, path = fastgan_lite
    imported = read_official(path)
    assert imported.family == "projected_gan" and imported.networks == ("G", "D", "G_ema")
    hp = imported.hyper_parameters
    assert (hp["generator"], hp["z_dim"], hp["ngf"], hp["resolution"], hp["conditional"]) == ("fastgan_lite", 16, 4, 16, False)
    assert "G_ema.synthesis.feat_256.1.weight_orig" in imported.state_dict  # built, never run below 256 px
    assert "D.feature_network.pretrained.layer0.1.running_mean" in imported.state_dict  # the frozen trunk comes along
    module = module_from_imported(imported, path).eval()
    _assert_same_networks(module, reference, ("G", "D", "G_ema"))
    z = torch.randn(2, 16)
    with torch.no_grad():
        torch.testing.assert_close(module.G_ema(z), reference.G_ema(z), rtol=0, atol=0)
        x = torch.rand(2, 3, 16, 16) * 2 - 1
        module.D.diffaug = reference.D.diffaug = False
        for ours, theirs in zip(module.D(x), reference.D(x), strict=True):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_generate_from_the_snapshot_writes_gen_images_output(fastgan_lite, tmp_path):
    reference, path = fastgan_lite
    run_cli_in_process("generate", f"ckpt={path}", "seeds=[0,1]", "truncation=1", "noise_mode=const", "outdir=out", cwd=tmp_path)
    for seed in (0, 1):
        z = torch.from_numpy(np.random.RandomState(seed).randn(1, 16)).float()  # projected-gan gen_images.py
        with torch.no_grad():
            img = reference.G_ema(z, None)  # its FastGAN generator ignores truncation_psi and noise_mode
        expected = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].numpy()
        written = np.asarray(Image.open(tmp_path / "out" / f"seed{seed:04d}.png"))
        assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1


def test_conditional_fastgan_draws_its_noise_from_the_seed(tmp_path):
    reference = _pg_reference("fastgan", c_dim=3)
    path = _write_pg(reference, tmp_path / "cond.pkl", with_d=False)
    imported = read_official(path)
    assert (imported.hyper_parameters["generator"], imported.hyper_parameters["num_classes"]) == ("fastgan", 3)
    assert any("noise" in note for note in imported.notes)
    run_cli_in_process("generate", f"ckpt={path}", "seeds=[5]", "class=2", "outdir=out", cwd=tmp_path)
    z = torch.from_numpy(np.random.RandomState(5).randn(1, 16)).float()
    torch.manual_seed(5)  # the official script leaves this unseeded; gan-zoo seeds the noise with the image's seed
    with torch.no_grad():
        img = reference.G_ema(z, F.one_hot(torch.tensor([2]), 3).float())
    expected = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].numpy()
    written = np.asarray(Image.open(tmp_path / "out" / "seed0005.png"))
    assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1


def test_stylegan2_config_snapshot_is_projected_gan_not_nvlabs(tmp_path):
    reference = _pg_reference("stylegan2")
    path = _write_pg(reference, tmp_path / "sg2.pkl")
    imported = read_official(path)
    hp = imported.hyper_parameters
    assert imported.family == "projected_gan" and imported.networks == ("G", "D", "G_ema")
    assert (hp["generator"], hp["z_dim"], hp["w_dim"], hp["mapping_layers"], hp["channel_base"], hp["separable"]) == ("stylegan2", 8, 16, 2, 256, True)
    module = module_from_imported(imported, path)
    _assert_same_networks(module, reference, ("G", "D", "G_ema"))
    z = torch.randn(2, 8)
    with torch.no_grad():
        torch.testing.assert_close(module.G_ema(z, None, noise_mode="const"), reference.G_ema(z, None, noise_mode="const"), rtol=0, atol=0)
    assert not (tmp_path / "EXECUTED").exists()


def test_init_ckpt_copies_the_snapshot_into_a_projected_gan_run(fastgan_lite):
    from gan_zoo.models.projected_gan.module import ProjectedGANModule

    reference, path = fastgan_lite
    torch.manual_seed(1)
    module = ProjectedGANModule(resolution=16, generator="fastgan_lite", z_dim=16, ngf=4, pretrained_backbones=False)
    assert initialize_from(module, path) == ["G", "D", "G_ema"]
    _assert_same_networks(module, reference, ("G", "D", "G_ema"))


def test_discriminator_gan_zoo_cannot_build_is_left_out_with_a_note(fastgan_lite, tmp_path):
    reference, _ = fastgan_lite
    d = _pg_reference("fastgan_lite").D
    del d.discriminator.mini_discs["3"]  # three mini-discriminators: not gan-zoo's four
    imported = read_official(_write_pg(reference, tmp_path / "three_discs.pkl", discriminator=d))
    assert imported.networks == ("G", "G_ema") and not any(k.startswith("D.") for k in imported.state_dict)
    assert "3 mini-discriminators" in imported.notes[0] and "left out" in imported.notes[0]


# ---- StyleGAN-XL ---------------------------------------------------------------------------------

XL_OPTIONS = {
    "z_dim": 8,
    "w_dim": 16,
    "channel_base": 256,
    "channel_max": 16,
    "syn_layers": 4,
    "num_fp16_res": 0,
    "magnitude_ema_beta": 0.99,
    "discriminator": {"backbones": ["tf_efficientnet_lite0"], "pretrained_backbones": False},
}


def _xl_reference(resolution: int = 16, c_dim: int = 4, head_layers: int = 3):
    from gan_zoo.models.stylegan_xl.module import StyleGANXLModule

    torch.manual_seed(0)
    module = StyleGANXLModule(
        resolution=resolution, stage=resolution, num_classes=c_dim, conditional=c_dim > 0, rand_embedding=c_dim > 0, head_layers=head_layers, **XL_OPTIONS
    )
    with torch.no_grad():
        for net in (module.G, module.G_ema):
            net.mapping.w_avg.normal_()
            for name, b in net.named_buffers():
                if name.endswith("magnitude_ema"):
                    b.uniform_(0.5, 2)
    return module.eval()


def _xl_generator_record(net, head_layers: int, radial: bool = False):
    stem_res = 16
    synthesis_kwargs = {
        "w_dim": net.w_dim,
        "img_resolution": stem_res,
        "img_channels": 3,
        "channel_base": 256,
        "channel_max": 16,
        "num_layers": 4,
        "conv_kernel": 3,
        "use_radial_filters": radial,
        "magnitude_ema_beta": 0.99,
        "num_fp16_res": 0,
    }
    mapping_kwargs = {"num_layers": 2, "rand_embedding": False}
    if net.img_resolution == stem_res:  # train.py's G_kwargs: the synthesis options at the top level
        top_level = {k: v for k, v in synthesis_kwargs.items() if k not in ("w_dim", "img_resolution", "img_channels")}
        g = (
            "Generator",
            {
                "z_dim": net.z_dim,
                "c_dim": net.c_dim,
                "w_dim": net.w_dim,
                "img_resolution": stem_res,
                "img_channels": 3,
                "mapping_kwargs": mapping_kwargs,
                **top_level,
            },
        )
    else:
        g = (
            "SuperresGenerator",
            {
                "img_resolution": net.img_resolution,
                "path_stem": "stem/best_model.pkl",
                "head_layers": head_layers,
                "up_factor": 2,
                "c_dim": net.c_dim,
                "img_channels": 3,
            },
        )
    records = {
        "": OfficialClass(
            g[0],
            XL_SRC,
            g[1],
            {"z_dim": net.z_dim, "c_dim": net.c_dim, "w_dim": net.w_dim, "img_resolution": net.img_resolution, "img_channels": 3, "num_ws": net.num_ws},
        ),
        "mapping": OfficialClass(
            "MappingNetwork", XL_SRC, {"z_dim": net.z_dim, "c_dim": net.c_dim, "w_dim": net.w_dim, "num_ws": 6, **mapping_kwargs}, {"w_avg_beta": 0.998}
        ),
        "mapping.embed": OfficialClass("torch.nn.modules.sparse.Embedding"),  # the pickled pretrained table: a plain module
        "synthesis": OfficialClass(
            "SynthesisNetwork",
            XL_SRC,
            synthesis_kwargs,
            {
                "layer_names": list(net.synthesis.layer_names),
                "img_resolution": net.img_resolution,
                "num_critical": 2,
                "margin_size": 10,
                "output_scale": 0.25,
                "num_fp16_res": 0,
            },
        ),
    }

    def describe(path: str, m: torch.nn.Module) -> OfficialClass:
        kind = type(m).__name__ if type(m).__name__ in ("SynthesisInput", "SynthesisLayer") else "FullyConnectedLayer"
        return records.get(path) or OfficialClass(kind, XL_SRC)

    return official_module(net, describe)


def _write_xl(module, path, head_layers: int = 3, radial: bool = False, with_d: bool = True, d_backbones=None):
    """A snapshot as stylegan-xl's training_loop.py writes it."""
    data = {
        "G": _xl_generator_record(module.G, head_layers, radial),
        "G_ema": _xl_generator_record(module.G_ema, head_layers, radial),
        "augment_pipe": None,
        "training_set_kwargs": easy({"path": "~/data/imagenet16.zip", "resolution": module.stage}),
    }
    if with_d:
        data["D"] = official_module(module.D, lambda p, m: discriminator_class(p, m, module.D, d_backbones))
    return write_official_pickle(path, data)


@pytest.fixture(scope="module")
def xl_stem(tmp_path_factory):
    module = _xl_reference()
    return module, _write_xl(module, tmp_path_factory.mktemp("xl") / "imagenet16.pkl")


def test_xl_stem_imports_every_network_key_for_key_with_the_same_forward(xl_stem, tmp_path):
    reference, path = xl_stem
    imported = read_official(path)
    hp = imported.hyper_parameters
    assert imported.family == "stylegan_xl" and imported.networks == ("G", "D", "G_ema")
    assert (hp["stage"], hp["stem_resolution"], hp["syn_layers"], hp["channel_base"], hp["num_classes"]) == (16, 16, 4, 256, 4)
    assert hp["discriminator"]["backbones"] == ["tf_efficientnet_lite0"] and hp["magnitude_ema_beta"] == 0.99
    assert imported.state_dict["G_ema.mapping.embed.weight"].shape == (1000, 320)
    module = module_from_imported(imported, path).eval()
    _assert_same_networks(module, reference, ("G", "D", "G_ema"))
    z, c = torch.randn(3, 8), F.one_hot(torch.tensor([0, 3, 1]), 4).float()
    with torch.no_grad():
        torch.testing.assert_close(module.G_ema(z, c), reference.G_ema(z, c), rtol=0, atol=0)
    assert not (tmp_path / "EXECUTED").exists()


def test_xl_generate_with_a_class_writes_gen_images_output(xl_stem, tmp_path):
    reference, path = xl_stem
    run_cli_in_process("generate", f"ckpt={path}", "seeds=[0,1]", "class=3", "truncation=1", "noise_mode=const", "outdir=out", cwd=tmp_path)
    g = reference.G_ema
    for seed in (0, 1):
        # stylegan-xl gen_images.py: torch_utils/gen_utils.get_w_from_seed, then w_to_img
        z = torch.from_numpy(np.random.RandomState(seed).randn(1, 8))
        with torch.no_grad():
            w = g.mapping(z, F.one_hot(torch.full((1,), 3), 4))
            w_avg = g.mapping.w_avg[3].unsqueeze(0).unsqueeze(1).repeat(1, g.num_ws, 1)
            img = g.synthesis(w_avg + (w - w_avg) * 1.0)
        expected = ((img + 1) * 255 / 2).permute(0, 2, 3, 1).clamp(0, 255).to(torch.uint8)[0].numpy()
        written = np.asarray(Image.open(tmp_path / "out" / f"seed{seed:04d}.png"))
        assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1


def test_xl_superresolution_stage_reads_its_stages_and_imports_as_a_checkpoint(tmp_path):
    reference = _xl_reference(resolution=32, c_dim=0)
    path = _write_xl(reference, tmp_path / "ffhq32.pkl")
    out = tmp_path / "ffhq32.ckpt"
    run_cli_in_process("import", f"src={path}", f"out={out}", cwd=tmp_path)
    checkpoint = torch.load(out, map_location="cpu", weights_only=True)
    hp = checkpoint["hyper_parameters"]
    assert (hp["stage"], hp["stem_resolution"], hp["head_layers"], hp["up_factor"], hp["conditional"]) == (32, 16, 3, 2, False)
    assert checkpoint["gan_zoo"]["family"] == "stylegan_xl" and checkpoint["gan_zoo"]["imported_from"]["networks"] == ["G", "D", "G_ema"]
    for name in ("G", "D", "G_ema"):
        for key, value in getattr(reference, name).state_dict().items():
            torch.testing.assert_close(checkpoint["state_dict"][f"{name}.{key}"], value, rtol=0, atol=0)


def test_xl_discriminator_on_a_backbone_gan_zoo_lacks_is_left_out(xl_stem, tmp_path):
    reference, _ = xl_stem
    imported = read_official(_write_xl(reference, tmp_path / "resnet_d.pkl", d_backbones=["resnet50"]))
    assert imported.networks == ("G", "G_ema") and "backbone resnet50" in imported.notes[0]
    assert "backbones" not in imported.hyper_parameters["discriminator"]  # the fresh D is gan-zoo's official pair


def test_xl_stages_gan_zoo_does_not_grow_are_refused_naming_the_setting(tmp_path):
    reference = _xl_reference(resolution=32, c_dim=0)
    imported = read_official(_write_xl(reference, tmp_path / "no_d.pkl", with_d=False))
    assert imported.networks == ("G", "G_ema") and "no discriminator" in imported.notes[0]
    with pytest.raises(CheckpointError, match="head_layers=5 each"):
        read_official(_write_xl(reference, tmp_path / "heads.pkl", head_layers=5, with_d=False))
    with pytest.raises(CheckpointError, match="use_radial_filters=True"):
        read_official(_write_xl(reference, tmp_path / "radial.pkl", radial=True, with_d=False))
