"""The TF-era NVlabs pickles (PGGAN, StyleGAN, StyleGAN2) in gan-zoo.

Each test writes a (G, D, Gs) pickle of TF `Network` states whose variables are a small gan-zoo
network's tensors put into the official TF names and layouts by the explicit per-layer inverse
below. Importing must give back exactly those networks (strict key-for-key load), and a forward
computed from the file's TF arrays with numpy ops written from the TF layer code
(tests/tf_reference_ops.py) must match the imported networks, which checks the layouts (transposes,
the 180-degree rotation of fused and StyleGAN2 up-sampling filters) independently of the inverse.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_zoo.errors import CheckpointError
from gan_zoo.official.load import load_any_module, module_from_imported, read_official
from tests import tf_reference_ops as tf
from tests.conftest import run_cli_in_process
from tests.official_tf_files import DNNLIB, TFUTIL, tf_network, write_tf_pickle

SQRT2 = math.sqrt(2.0)


# ---- TF layouts of gan-zoo tensors (the test's own inverse of the conversion) -----------------------


def arr(p: torch.Tensor) -> np.ndarray:
    return p.detach().double().numpy()


def tf_dense(p: torch.Tensor) -> np.ndarray:
    return arr(p).T  # [out, in] -> [in, out]


def tf_conv(p: torch.Tensor) -> np.ndarray:
    return arr(p).transpose(2, 3, 1, 0)  # [out, in, kh, kw] -> [kh, kw, in, out]


def tf_rotated_conv(p: torch.Tensor) -> np.ndarray:
    return arr(p)[:, :, ::-1, ::-1].transpose(2, 3, 1, 0)  # what a conv2d_transpose filter holds unflipped


def _randomize(module: torch.nn.Module) -> torch.nn.Module:
    """Every parameter and tracked average random (fresh zeros and ones would hide swapped tensors)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():  # multiples of 2^-12: StyleGAN2's style bias - 1 + 1 is exact
            p.copy_((torch.randn_like(p) * 4096).round() / 4096)
        for name, b in module.named_buffers():
            if name.endswith("w_avg"):
                b.normal_()
    return module.eval()


def _assert_same_networks(module, reference, networks=("G", "D", "G_ema")):
    for name in networks:
        ours, theirs = getattr(module, name).state_dict(), getattr(reference, name).state_dict()
        assert set(ours) == set(theirs), name
        for key in ours:
            torch.testing.assert_close(ours[key], theirs[key], rtol=0, atol=0, msg=f"{name}.{key}")


def _close(ours: torch.Tensor, reference: np.ndarray) -> None:
    np.testing.assert_allclose(ours.detach().double().numpy(), reference, rtol=1e-4, atol=1e-4)


# ---- PGGAN (tfutil.Network, G_paper / D_paper) ----------------------------------------------------

PG_KWARGS = {"num_channels": 3, "resolution": 8, "label_size": 0, "fmap_base": 32, "fmap_max": 16}


def _pggan_module(classes: int = 0, fused_scale: bool = True):
    from gan_zoo.models.pggan.module import PGGANModule

    fmaps = {"fmap_base": 32, "fmap_max": 16}
    return _randomize(
        PGGANModule(
            resolution=8,
            num_classes=classes,
            conditional=classes > 0,
            generator=fmaps,
            discriminator={**fmaps, "mbstd_group_size": 2, "fused_scale": fused_scale},
        )
    )


def _pggan_g_variables(G, fused: bool, lod: float = 0.0) -> dict[str, np.ndarray]:
    v = {
        "lod": np.float32(lod),
        "4x4/Dense/weight": tf_dense(G.blocks[0].dense.weight),
        "4x4/Dense/bias": arr(G.blocks[0].bias),
        "4x4/Conv/weight": tf_conv(G.blocks[0].conv.weight),
        "4x4/Conv/bias": arr(G.blocks[0].conv.bias),
        "8x8/Conv1/weight": tf_conv(G.blocks[1].conv1.weight),
        "8x8/Conv1/bias": arr(G.blocks[1].conv1.bias),
        "ToRGB_lod1/weight": tf_conv(G.to_rgb[0].weight),
        "ToRGB_lod1/bias": arr(G.to_rgb[0].bias),
        "ToRGB_lod0/weight": tf_conv(G.to_rgb[1].weight),
        "ToRGB_lod0/bias": arr(G.to_rgb[1].bias),
    }
    if fused:  # upscale2d_conv2d: [kh, kw, out, in], used unflipped by conv2d_transpose
        v["8x8/Conv0_up/weight"] = arr(G.blocks[1].conv0.weight)[:, :, ::-1, ::-1].transpose(2, 3, 0, 1)
        v["8x8/Conv0_up/bias"] = arr(G.blocks[1].conv0.bias)
    else:
        v["8x8/Conv0/weight"] = tf_conv(G.blocks[1].conv0.weight)
        v["8x8/Conv0/bias"] = arr(G.blocks[1].conv0.bias)
    return v


def _pggan_d_variables(D, fused: bool = True) -> dict[str, np.ndarray]:
    conv1 = "8x8/Conv1_down" if fused else "8x8/Conv1"
    return {
        "lod": np.float32(0),
        "FromRGB_lod1/weight": tf_conv(D.from_rgb[0].conv.weight),
        "FromRGB_lod1/bias": arr(D.from_rgb[0].conv.bias),
        "FromRGB_lod0/weight": tf_conv(D.from_rgb[1].conv.weight),
        "FromRGB_lod0/bias": arr(D.from_rgb[1].conv.bias),
        "8x8/Conv0/weight": tf_conv(D.blocks[1].conv0.weight),
        "8x8/Conv0/bias": arr(D.blocks[1].conv0.bias),
        f"{conv1}/weight": tf_conv(D.blocks[1].conv1.weight),
        f"{conv1}/bias": arr(D.blocks[1].conv1.bias),
        "4x4/Conv/weight": tf_conv(D.blocks[0].conv.weight),
        "4x4/Conv/bias": arr(D.blocks[0].conv.bias),
        "4x4/Dense0/weight": tf_dense(D.blocks[0].dense0.weight),
        "4x4/Dense0/bias": arr(D.blocks[0].dense0.bias),
        "4x4/Dense1/weight": tf_dense(D.blocks[0].dense1.weight),
        "4x4/Dense1/bias": arr(D.blocks[0].dense1.bias),
    }


def _write_pggan(module, path: Path, *, fused: bool = True, lod: float = 0.0, g_kwargs=None, d_variables=None, classes=0) -> Path:
    g_kwargs = {**PG_KWARGS, "label_size": classes, **({} if fused else {"fused_scale": False}), **(g_kwargs or {})}
    d_kwargs = {**PG_KWARGS, "label_size": classes, "mbstd_group_size": 2, **({} if fused else {"fused_scale": False})}
    g = tf_network(TFUTIL, "G", "G_paper", g_kwargs, _pggan_g_variables(module.G, fused, lod))
    gs = tf_network(TFUTIL, "Gs", "G_paper", g_kwargs, _pggan_g_variables(module.G_ema, fused, lod))
    d = tf_network(TFUTIL, "D", "D_paper", d_kwargs, d_variables or _pggan_d_variables(module.D, fused))
    return write_tf_pickle(path, (g, d, gs))


def _pggan_reference_g(v: dict[str, np.ndarray], z: np.ndarray, fused: bool) -> np.ndarray:
    """G_paper at lod 0 from the file's arrays: only the last ToRGB reaches the image."""
    x = tf.pixel_norm(z)
    w = v["4x4/Dense/weight"]
    x = (x @ (w * tf.he_scale(w.shape, SQRT2 / 4))).reshape(len(z), -1, 4, 4)
    x = tf.pixel_norm(tf.lrelu(tf.bias(x, v["4x4/Dense/bias"])))

    def conv(x, scope, gain=SQRT2):
        w = v[f"{scope}/weight"]
        return tf.bias(tf.conv2d(x, w * tf.he_scale(w.shape, gain)), v[f"{scope}/bias"])

    x = tf.pixel_norm(tf.lrelu(conv(x, "4x4/Conv")))
    if fused:  # get_weight(fan_in = 9 * in) of the [kh, kw, out, in] filter
        w = v["8x8/Conv0_up/weight"]
        w = w * SQRT2 / np.sqrt(9 * w.shape[3])
        x = tf.bias(tf.conv2d_transpose(x, tf.summed_shifts(w), 8), v["8x8/Conv0_up/bias"])
    else:
        x = conv(tf.upscale2d(x), "8x8/Conv0")
    x = tf.pixel_norm(tf.lrelu(x))
    x = tf.pixel_norm(tf.lrelu(conv(x, "8x8/Conv1")))
    return conv(x, "ToRGB_lod0", gain=1.0)


def _pggan_reference_d(v: dict[str, np.ndarray], images: np.ndarray, fused: bool = True) -> np.ndarray:
    """D_paper at lod 0 from the file's arrays: the score column."""

    def conv(x, scope, stride=1, fused=False):
        w = v[f"{scope}/weight"]
        w = w * tf.he_scale(w.shape, SQRT2)
        w = tf.summed_shifts(w) * 0.25 if fused else w
        return tf.lrelu(tf.bias(tf.conv2d(x, w, stride), v[f"{scope}/bias"]))

    x = conv(images, "FromRGB_lod0")
    x = conv(x, "8x8/Conv0")
    if fused:
        x = conv(x, "8x8/Conv1_down", stride=2, fused=True)
    else:  # Conv1 -> bias -> lrelu, then downscale2d (2x2 average)
        x = conv(x, "8x8/Conv1")
        x = x.reshape(*x.shape[:2], x.shape[2] // 2, 2, x.shape[3] // 2, 2).mean(axis=(3, 5))
    x = conv(tf.minibatch_stddev(x, 2), "4x4/Conv")
    x = tf.lrelu(tf.dense(x, v["4x4/Dense0/weight"], v["4x4/Dense0/bias"], SQRT2))
    return tf.dense(x, v["4x4/Dense1/weight"], v["4x4/Dense1/bias"], 1.0)[:, 0]


@pytest.fixture(scope="module")
def pggan_file(tmp_path_factory):
    module = _pggan_module()
    return module, _write_pggan(module, tmp_path_factory.mktemp("pggan") / "karras2018iclr-celebahq-8x8.pkl")


def test_pggan_import_gives_back_the_networks_key_for_key(pggan_file):
    reference, path = pggan_file
    imported = read_official(path)
    assert imported.family == "pggan" and imported.networks == ("G", "D", "G_ema")
    hp = imported.hyper_parameters
    assert hp["generator"]["fmap_base"] == 32 and hp["discriminator"]["mbstd_group_size"] == 2
    assert hp["schedule"]["lod_initial_resolution"] == 8  # the schedule starts at the file's lod 0
    _assert_same_networks(module_from_imported(imported, path), reference)
    assert not Path("EXECUTED").exists()


def test_pggan_forward_matches_the_tf_ops_on_the_files_arrays(pggan_file):
    reference, path = pggan_file
    module = module_from_imported(read_official(path), path)
    z = np.random.RandomState(0).randn(4, 16)
    with torch.no_grad():
        images = module.generate(torch.from_numpy(z).float())
    _close(images, _pggan_reference_g(_pggan_g_variables(reference.G_ema, fused=True), z, fused=True))
    real = np.random.RandomState(1).randn(4, 3, 8, 8)
    with torch.no_grad():
        scores, _ = module.D(torch.from_numpy(real).float())
    _close(scores, _pggan_reference_d(_pggan_d_variables(reference.D), real))


def test_pggan_unfused_file_imports_g_and_d_with_lrelu_before_pooling(tmp_path):
    # The released CelebA-HQ network (converted from the Theano code) was built with fused_scale=False.
    reference = _pggan_module(fused_scale=False)
    path = _write_pggan(reference, tmp_path / "theano-converted.pkl", fused=False)
    imported = read_official(path)
    assert imported.networks == ("G", "D", "G_ema") and imported.hyper_parameters["discriminator"]["fused_scale"] is False
    module = module_from_imported(imported, path)
    _assert_same_networks(module, reference)
    z = np.random.RandomState(0).randn(2, 16)
    with torch.no_grad():
        images = module.generate(torch.from_numpy(z).float())
    _close(images, _pggan_reference_g(_pggan_g_variables(reference.G_ema, fused=False), z, fused=False))
    real = np.random.RandomState(1).randn(4, 3, 8, 8)
    with torch.no_grad():
        scores, _ = module.D(torch.from_numpy(real).float())
    expected = _pggan_reference_d(_pggan_d_variables(reference.D, fused=False), real, fused=False)
    _close(scores, expected)
    pooled_first = _pggan_reference_d(_pggan_d_variables(reference.D), real, fused=True)
    assert np.abs(pooled_first - expected).max() > 1e-4  # the two orders differ, so the test tells them apart


def test_pggan_mid_fade_file_and_other_pixel_norm_are_refused_by_name(tmp_path):
    reference = _pggan_module()
    with pytest.raises(CheckpointError, match=r"fading in \(lod 0.5\)"):
        read_official(_write_pggan(reference, tmp_path / "fade.pkl", lod=0.5))
    with pytest.raises(CheckpointError, match=r"pixelnorm_epsilon=0.0001"):
        read_official(_write_pggan(reference, tmp_path / "fp16.pkl", g_kwargs={"pixelnorm_epsilon": 1e-4}))


def test_pggan_missing_and_unknown_variables_are_named(tmp_path):
    reference = _pggan_module()
    d = _pggan_d_variables(reference.D)
    del d["4x4/Dense1/bias"]
    with pytest.raises(CheckpointError, match=r"no variable '4x4/Dense1/bias'"):
        read_official(_write_pggan(reference, tmp_path / "incomplete.pkl", d_variables=d))
    d = {**_pggan_d_variables(reference.D), "4x4/Dense2/weight": np.ones((1, 1))}
    imported = read_official(_write_pggan(reference, tmp_path / "extra.pkl", d_variables=d))
    assert imported.networks == ("G", "G_ema") and any("4x4/Dense2/weight" in note for note in imported.notes)


def test_generate_from_a_pggan_pickle_renders_full_resolution_g_ema(pggan_file, tmp_path):
    reference, path = pggan_file
    run_cli_in_process("generate", f"ckpt={path}", "seeds=[0,1]", "outdir=out", cwd=tmp_path)
    module, record = load_any_module(path, torch.device("cpu"))
    assert record["imported_from"]["format"].startswith("tkarras-tf-pggan")
    from PIL import Image

    for seed in (0, 1):
        written = np.asarray(Image.open(tmp_path / "out" / f"seed{seed:04d}.png"))
        z = np.random.RandomState(seed).randn(1, 16)
        expected = _pggan_reference_g(_pggan_g_variables(reference.G_ema, fused=True), z, fused=True)
        expected = np.clip(expected[0].transpose(1, 2, 0) * 127.5 + 128, 0, 255).astype(np.uint8)
        assert written.shape == (8, 8, 3) and np.abs(written.astype(int) - expected.astype(int)).max() <= 1


# ---- StyleGAN v1 (dnnlib Network v3, G_style / D_basic) ---------------------------------------------

SG_G_KWARGS = {
    "num_channels": 3,
    "resolution": 8,
    "label_size": 0,
    "latent_size": 8,
    "dlatent_size": 8,
    "mapping_layers": 2,
    "mapping_fmaps": 8,
    "fmap_base": 32,
    "fmap_max": 16,
}


def _stylegan_module(fused: bool, classes: int = 0):
    from gan_zoo.models.stylegan.module import StyleGANModule

    fmaps = {"fmap_base": 32, "fmap_max": 16, "fused_scale": fused}
    g = {"z_dim": 8, "w_dim": 8, "mapping_layers": 2, "mapping_fmaps": 8, **fmaps}
    return _randomize(
        StyleGANModule(
            resolution=8,
            num_classes=classes,
            conditional=classes > 0,
            generator=g,
            discriminator={**fmaps, "mbstd_group_size": 2},
            schedule={"lod_initial_resolution": 8},
        )
    )  # lod 0, as a finished run's file


def _stylegan_g_networks(G, fused: bool, kwargs: dict) -> tuple[dict, dict]:
    """(G_style top-level variables, components) in the official names and layouts."""
    mapping = {f"Dense{i}/{p}": (tf_dense(fc.weight) if p == "weight" else arr(fc.bias)) for i, fc in enumerate(G.mapping.fcs) for p in ("weight", "bias")}
    if G.mapping.embed is not None:
        mapping["LabelConcat/weight"] = arr(G.mapping.embed)  # [label_size, latent_size] in both
    s, syn = G.synthesis, {"lod": np.float32(0)}

    def epilogue(scope, e, layer):
        syn[f"noise{layer}"] = arr(e.noise.noise_const)[None, None]
        syn.update(
            {
                f"{scope}/Noise/weight": arr(e.noise.weight),
                f"{scope}/bias": arr(e.bias),
                f"{scope}/StyleMod/weight": tf_dense(e.adain.affine.weight),
                f"{scope}/StyleMod/bias": arr(e.adain.affine.bias),
            }
        )

    syn["4x4/Const/const"] = arr(s.blocks[0].const)
    epilogue("4x4/Const", s.blocks[0].epilogue0, 0)
    syn["4x4/Conv/weight"] = tf_conv(s.blocks[0].conv.weight)
    epilogue("4x4/Conv", s.blocks[0].epilogue1, 1)
    syn["8x8/Conv0_up/weight"] = (tf_rotated_conv if fused else tf_conv)(s.blocks[1].conv0.weight)
    epilogue("8x8/Conv0_up", s.blocks[1].epilogue0, 2)
    syn["8x8/Conv1/weight"] = tf_conv(s.blocks[1].conv1.weight)
    epilogue("8x8/Conv1", s.blocks[1].epilogue1, 3)
    for lod, rgb in ((1, s.to_rgb[0]), (0, s.to_rgb[1])):
        syn.update({f"ToRGB_lod{lod}/weight": tf_conv(rgb.weight), f"ToRGB_lod{lod}/bias": arr(rgb.bias)})
    components = {
        "mapping": tf_network(DNNLIB, "G_mapping", "G_mapping", {**kwargs, "dlatent_broadcast": 4}, mapping, version=3),
        "synthesis": tf_network(DNNLIB, "G_synthesis", "G_synthesis", kwargs, syn, version=3),
    }
    return {"lod": np.float32(0), "dlatent_avg": arr(G.mapping.w_avg)}, components


def _stylegan_d_variables(D) -> dict[str, np.ndarray]:
    return {k.replace("Conv1/", "Conv1_down/"): v for k, v in _pggan_d_variables(D, fused=False).items()}


def _write_stylegan(module, path: Path, fused: bool, *, g_kwargs=None, d_build="D_basic", classes=0) -> Path:
    kwargs = {**SG_G_KWARGS, "label_size": classes, "fused_scale": fused, **(g_kwargs or {})}
    nets = {}
    for role, g in (("G", module.G), ("Gs", module.G_ema)):
        variables, components = _stylegan_g_networks(g, fused, kwargs)
        nets[role] = tf_network(DNNLIB, role, "G_style", kwargs, variables, components, version=3)
    d_kwargs = {**PG_KWARGS, "label_size": classes, "mbstd_group_size": 2, "fused_scale": fused}
    d = tf_network(DNNLIB, "D", d_build, d_kwargs, _stylegan_d_variables(module.D), version=3)
    return write_tf_pickle(path, (nets["G"], d, nets["Gs"]))


def _stylegan_reference_mapping(v: dict, z: np.ndarray) -> np.ndarray:
    x = tf.pixel_norm(z)
    for i in range(2):
        x = tf.lrelu(tf.dense(x, v[f"Dense{i}/weight"], v[f"Dense{i}/bias"], SQRT2, lrmul=0.01))
    return x


def _stylegan_reference_synthesis(v: dict, ws: np.ndarray, fused: bool) -> np.ndarray:
    """G_synthesis at lod 0 with randomize_noise=False, from the file's arrays."""

    def epilogue(x, scope, layer):
        x = x + v[f"noise{layer}"] * v[f"{scope}/Noise/weight"].reshape(1, -1, 1, 1)
        x = tf.instance_norm(tf.lrelu(tf.bias(x, v[f"{scope}/bias"])))
        style = tf.dense(ws[:, layer], v[f"{scope}/StyleMod/weight"], v[f"{scope}/StyleMod/bias"], 1.0)
        style = style.reshape(len(ws), 2, x.shape[1], 1, 1)
        return x * (style[:, 0] + 1) + style[:, 1]

    def weight(scope, gain=SQRT2):
        w = v[f"{scope}/weight"]
        return w * tf.he_scale(w.shape, gain)

    x = epilogue(np.tile(v["4x4/Const/const"], (len(ws), 1, 1, 1)), "4x4/Const", 0)
    x = epilogue(tf.conv2d(x, weight("4x4/Conv")), "4x4/Conv", 1)
    if fused:  # upscale2d_conv2d: transpose to [kh, kw, out, in], no flip, conv2d_transpose
        x = tf.conv2d_transpose(x, tf.summed_shifts(weight("8x8/Conv0_up").transpose(0, 1, 3, 2)), 8)
    else:
        x = tf.conv2d(tf.upscale2d(x), weight("8x8/Conv0_up"))
    x = epilogue(tf.blur2d(x), "8x8/Conv0_up", 2)
    x = epilogue(tf.conv2d(x, weight("8x8/Conv1")), "8x8/Conv1", 3)
    return tf.bias(tf.conv2d(x, weight("ToRGB_lod0", 1.0)), v["ToRGB_lod0/bias"])


def _stylegan_reference_d(v: dict, images: np.ndarray, fused: bool) -> np.ndarray:
    def conv(x, scope, down=False):
        w = v[f"{scope}/weight"]
        w = w * tf.he_scale(w.shape, SQRT2)
        if down and fused:
            x = tf.conv2d(x, tf.summed_shifts(w) * 0.25, stride=2)
        else:
            x = tf.conv2d(x, w)
            x = tf.downscale2d(x) if down else x
        return tf.lrelu(tf.bias(x, v[f"{scope}/bias"]))

    x = conv(conv(images, "FromRGB_lod0"), "8x8/Conv0")
    x = conv(tf.blur2d(x), "8x8/Conv1_down", down=True)
    x = conv(tf.minibatch_stddev(x, 2), "4x4/Conv")
    x = tf.lrelu(tf.dense(x, v["4x4/Dense0/weight"], v["4x4/Dense0/bias"], SQRT2))
    return tf.dense(x, v["4x4/Dense1/weight"], v["4x4/Dense1/bias"], 1.0)[:, 0]


@pytest.mark.parametrize("fused", [True, False])
def test_stylegan_import_gives_back_the_networks_and_matches_the_tf_ops(tmp_path, fused):
    reference = _stylegan_module(fused)
    path = _write_stylegan(reference, tmp_path / "karras2019stylegan-8x8.pkl", fused)
    imported = read_official(path)
    assert imported.family == "stylegan" and imported.networks == ("G", "D", "G_ema")
    assert imported.hyper_parameters["sampling"] == {"truncation_psi": 0.7, "truncation_cutoff": 8}  # G_style defaults
    module = module_from_imported(imported, path)
    _assert_same_networks(module, reference)

    top, components = _stylegan_g_networks(reference.G_ema, fused, SG_G_KWARGS)
    mapping, synthesis = (components[k].__getstate__()["variables"] for k in ("mapping", "synthesis"))
    z = np.random.RandomState(0).randn(3, 8)
    with torch.no_grad():
        ws = module.G_ema.mapping(torch.from_numpy(z).float())
    _close(ws[:, 0], _stylegan_reference_mapping(dict(mapping), z))
    ws = np.random.RandomState(1).randn(3, 4, 8)
    with torch.no_grad():
        images = module.G_ema.synthesis(torch.from_numpy(ws).float(), noise_mode="const")
    _close(images, _stylegan_reference_synthesis(dict(synthesis), ws, fused))
    real = np.random.RandomState(2).randn(4, 3, 8, 8)
    with torch.no_grad():
        scores = module.D(torch.from_numpy(real).float())
    _close(scores, _stylegan_reference_d(_stylegan_d_variables(reference.D), real, fused))
    torch.testing.assert_close(module.G_ema.mapping.w_avg, torch.from_numpy(top["dlatent_avg"]).float())


def test_stylegan_truncation_follows_g_style_and_generate_runs(tmp_path):
    reference = _stylegan_module(fused=False)
    path = _write_stylegan(reference, tmp_path / "sg.pkl", False, g_kwargs={"truncation_psi": 0.5, "truncation_cutoff": None})
    imported = read_official(path)
    assert imported.hyper_parameters["sampling"] == {"truncation_psi": 1.0, "truncation_cutoff": None}  # cutoff None: off
    run_cli_in_process("generate", f"ckpt={path}", "seeds=[3]", "truncation=1", "outdir=out", cwd=tmp_path)
    assert (tmp_path / "out" / "seed0003.png").exists()


def test_stylegan_settings_gan_zoo_lacks_are_named(tmp_path):
    reference = _stylegan_module(fused=False)
    with pytest.raises(CheckpointError, match=r"use_pixel_norm=True"):
        read_official(_write_stylegan(reference, tmp_path / "pn.pkl", False, g_kwargs={"use_pixel_norm": True}))
    imported = read_official(_write_stylegan(reference, tmp_path / "d.pkl", False, d_build="D_stylegan"))
    assert imported.networks == ("G", "G_ema") and any("D_stylegan" in note for note in imported.notes)
    imported = read_official(_write_stylegan(reference, tmp_path / "x.pkl", False, g_kwargs={"some_fork_setting": 3}))
    assert any("some_fork_setting" in note for note in imported.notes)


def test_conditional_pggan_and_stylegan_files_load_key_for_key(tmp_path):
    pggan, stylegan = _pggan_module(classes=3), _stylegan_module(fused=False, classes=3)
    for reference, path in (
        (pggan, _write_pggan(pggan, tmp_path / "pg.pkl", classes=3)),
        (stylegan, _write_stylegan(stylegan, tmp_path / "sg.pkl", False, classes=3)),
    ):
        imported = read_official(path)
        assert imported.hyper_parameters["conditional"] and imported.data["num_classes"] == 3
        _assert_same_networks(module_from_imported(imported, path), reference)


def test_import_command_and_init_ckpt_take_a_stylegan_pickle(tmp_path):
    from gan_zoo.training.init_weights import initialize_from

    reference = _stylegan_module(fused=False)
    path = _write_stylegan(reference, tmp_path / "karras2019stylegan-8x8.pkl", False)
    out = tmp_path / "imported.ckpt"
    run_cli_in_process("import", f"src={path}", f"out={out}", cwd=tmp_path)
    module, record = load_any_module(out, torch.device("cpu"))
    assert record["family"] == "stylegan" and record["imported_from"]["format"].startswith("nvlabs-tf-stylegan")
    _assert_same_networks(module, reference)
    fresh = _stylegan_module(fused=False)
    with torch.no_grad():
        for p in fresh.parameters():
            p.zero_()
    assert initialize_from(fresh, path) == ["G", "D", "G_ema"]
    _assert_same_networks(fresh, reference)


# ---- StyleGAN2 (dnnlib Network v4, G_main / D_stylegan2): legacy.py's table -------------------------

SG2_G_KWARGS = {"num_channels": 3, "resolution": 8, "label_size": 0, "latent_size": 8, "dlatent_size": 8, "mapping_layers": 2, "fmap_base": 32, "fmap_max": 16}


def _stylegan2_module(classes: int = 0):
    from gan_zoo.models.stylegan2.module import StyleGAN2Module

    return _randomize(
        StyleGAN2Module(
            resolution=8,
            num_classes=classes,
            conditional=classes > 0,
            z_dim=8,
            w_dim=8,
            channel_base=64,
            channel_max=16,
            num_fp16_res=0,
            conv_clamp=None,
            mapping={"num_layers": 2, "w_avg_beta": 0.995},
            discriminator={"mbstd_group_size": 2, "mapping_layers": 2},
        )
    )


def _stylegan2_g_networks(G, kwargs: dict) -> tuple[dict, dict]:
    mapping = {
        f"Dense{i}/{p}": (tf_dense(getattr(G.mapping, f"fc{i}").weight) if p == "weight" else arr(getattr(G.mapping, f"fc{i}").bias))
        for i in range(2)
        for p in ("weight", "bias")
    }
    if G.c_dim:  # StyleGAN2-ADA's TF label embedding
        mapping.update({"LabelEmbed/weight": tf_dense(G.mapping.embed.weight), "LabelEmbed/bias": arr(G.mapping.embed.bias)})
    syn: dict[str, np.ndarray] = {}

    def layer(scope, lay, noise=None, rotated=False):
        syn[f"{scope}/weight"] = (tf_rotated_conv if rotated else tf_conv)(lay.weight)
        syn.update(
            {f"{scope}/bias": arr(lay.bias), f"{scope}/mod_weight": tf_dense(lay.affine.weight), f"{scope}/mod_bias": arr(lay.affine.bias) - 1}
        )  # the TF bias is added to a fixed 1
        if noise is not None:
            syn.update({f"noise{noise}": arr(lay.noise_const)[None, None], f"{scope}/noise_strength": arr(lay.noise_strength)})

    b4, b8 = G.synthesis.b4, G.synthesis.b8
    syn["4x4/Const/const"] = arr(b4.const)[None]
    layer("4x4/Conv", b4.conv1, noise=0)
    layer("4x4/ToRGB", b4.torgb)
    layer("8x8/Conv0_up", b8.conv0, noise=1, rotated=True)
    layer("8x8/Conv1", b8.conv1, noise=2)
    layer("8x8/ToRGB", b8.torgb)
    components = {
        "mapping": tf_network(DNNLIB, "G_mapping", "G_mapping", {**kwargs, "dlatent_broadcast": 5}, mapping),
        "synthesis": tf_network(DNNLIB, "G_synthesis", "G_synthesis_stylegan2", kwargs, syn),
    }
    return {"lod": np.float32(0), "dlatent_avg": arr(G.mapping.w_avg)}, components


def _stylegan2_d_variables(D) -> dict[str, np.ndarray]:
    v = {"8x8/Skip/weight": tf_conv(D.b8.skip.weight)}
    for scope, lay in (("8x8/FromRGB", D.b8.fromrgb), ("8x8/Conv0", D.b8.conv0), ("8x8/Conv1_down", D.b8.conv1), ("4x4/Conv", D.b4.conv)):
        v.update({f"{scope}/weight": tf_conv(lay.weight), f"{scope}/bias": arr(lay.bias)})
    dense = [("4x4/Dense0", D.b4.fc), ("Output", D.b4.out)]
    if D.c_dim:
        dense += [("LabelEmbed", D.mapping.embed)] + [(f"Mapping{i}", getattr(D.mapping, f"fc{i}")) for i in range(2)]
    for scope, lay in dense:
        v.update({f"{scope}/weight": tf_dense(lay.weight), f"{scope}/bias": arr(lay.bias)})
    return v


def _write_stylegan2(module, path: Path, *, g_kwargs=None, d_kwargs=None, version=4) -> Path:
    kwargs = {**SG2_G_KWARGS, "label_size": module.G.c_dim, **(g_kwargs or {})}
    nets = {}
    for role, g in (("G", module.G), ("Gs", module.G_ema)):
        variables, components = _stylegan2_g_networks(g, kwargs)
        nets[role] = tf_network(DNNLIB, role, "G_main", kwargs, variables, components, version=version)
    d_kwargs = {**PG_KWARGS, "label_size": module.G.c_dim, "mbstd_group_size": 2, **(d_kwargs or {})}
    d = tf_network(DNNLIB, "D", "D_stylegan2", d_kwargs, _stylegan2_d_variables(module.D), version=version)
    return write_tf_pickle(path, (nets["G"], d, nets["Gs"]))


@pytest.fixture(scope="module")
def stylegan2_file(tmp_path_factory):
    module = _stylegan2_module()
    return module, _write_stylegan2(module, tmp_path_factory.mktemp("sg2") / "stylegan2-ffhq-config-f.pkl")


def test_stylegan2_import_gives_back_the_networks_key_for_key(stylegan2_file):
    reference, path = stylegan2_file
    imported = read_official(path)
    assert imported.family == "stylegan2" and imported.networks == ("G", "D", "G_ema")
    hp = imported.hyper_parameters
    assert (hp["channel_base"], hp["channel_max"], hp["num_fp16_res"], hp["conv_clamp"]) == (64, 16, 0, None)
    assert hp["discriminator"]["architecture"] == "resnet" and hp["discriminator"]["mbstd_num_channels"] == 1
    _assert_same_networks(module_from_imported(imported, path), reference)


def test_stylegan2_conversion_is_legacy_pys_table(stylegan2_file):
    """legacy.py's convert_tf_generator entries, written out against the file's arrays."""
    reference, path = stylegan2_file
    state = read_official(path).state_dict
    top, components = _stylegan2_g_networks(reference.G_ema, SG2_G_KWARGS)
    syn = dict(components["synthesis"].__getstate__()["variables"])
    expected = {
        "mapping.w_avg": top["dlatent_avg"],
        "synthesis.b4.const": syn["4x4/Const/const"][0],
        "synthesis.b4.conv1.weight": syn["4x4/Conv/weight"].transpose(3, 2, 0, 1),
        "synthesis.b4.conv1.affine.bias": syn["4x4/Conv/mod_bias"] + 1,
        "synthesis.b4.conv1.noise_const": syn["noise0"][0, 0],
        "synthesis.b8.conv0.weight": syn["8x8/Conv0_up/weight"][::-1, ::-1].transpose(3, 2, 0, 1),
        "synthesis.b8.conv0.noise_const": syn[f"noise{int(np.log2(8)) * 2 - 5}"][0, 0],
        "synthesis.b8.conv1.noise_const": syn[f"noise{int(np.log2(8)) * 2 - 4}"][0, 0],
        "synthesis.b8.torgb.affine.weight": syn["8x8/ToRGB/mod_weight"].transpose(),
    }
    for key, value in expected.items():
        np.testing.assert_array_equal(state[f"G_ema.{key}"].numpy(), value.astype(np.float32), err_msg=key)
    fir = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64  # the constructor's [1, 3, 3, 1] filter, kept as legacy.py keeps it
    np.testing.assert_allclose(state["G_ema.synthesis.b8.conv0.resample_filter"].numpy(), fir)
    np.testing.assert_allclose(state["D.b8.skip.resample_filter"].numpy(), fir)


def _tf_modulated_layer(v: dict, scope: str, x: np.ndarray, w: np.ndarray, noise: str, up: bool = False) -> np.ndarray:
    """modulated_conv2d_layer + noise + apply_bias_act (lrelu, gain sqrt 2) of networks_stylegan2.py, per sample."""
    s = tf.dense(w, v[f"{scope}/mod_weight"], v[f"{scope}/mod_bias"], 1.0) + 1
    weight = v[f"{scope}/weight"]
    ww = weight[None] * tf.he_scale(weight.shape, 1.0) * s[:, None, None, :, None]
    ww = ww / np.sqrt((ww**2).sum(axis=(1, 2, 3), keepdims=True) + 1e-8)
    conv = tf.upsample_conv_2d if up else tf.conv2d
    y = np.concatenate([conv(x[n : n + 1], ww[n]) for n in range(len(w))])
    y = y + v[noise] * v[f"{scope}/noise_strength"]
    return tf.lrelu(tf.bias(y, v[f"{scope}/bias"])) * SQRT2


def test_stylegan2_mapping_and_layers_match_the_tf_ops(stylegan2_file):
    """The mapping, the 4x4 layer and the up-sampling Conv0_up (whose filter legacy.py rotates) computed
    from the file's arrays with the TF ops equal gan-zoo's layers holding the converted tensors."""
    reference, path = stylegan2_file
    module = module_from_imported(read_official(path), path)
    _, components = _stylegan2_g_networks(reference.G_ema, SG2_G_KWARGS)
    v = dict(components["synthesis"].__getstate__()["variables"])
    mapping = dict(components["mapping"].__getstate__()["variables"])
    z = np.random.RandomState(0).randn(2, 8)
    w = tf.pixel_norm(z)
    for i in range(2):
        w = tf.lrelu(tf.dense(w, mapping[f"Dense{i}/weight"], mapping[f"Dense{i}/bias"], 1.0, lrmul=0.01)) * SQRT2
    synthesis = module.G_ema.synthesis
    with torch.no_grad():
        ws = module.G_ema.mapping(torch.from_numpy(z).float())
        x4 = synthesis.b4.conv1(synthesis.b4.const.unsqueeze(0).repeat(2, 1, 1, 1), ws[:, 0], noise_mode="const")
        x8 = synthesis.b8.conv0(x4, ws[:, 1], noise_mode="const")
    _close(ws[:, 0], w)
    expected4 = _tf_modulated_layer(v, "4x4/Conv", np.tile(v["4x4/Const/const"], (2, 1, 1, 1)), w, "noise0")
    _close(x4, expected4)
    _close(x8, _tf_modulated_layer(v, "8x8/Conv0_up", expected4, w, "noise1", up=True))


def test_conditional_stylegan2_ada_tf_file_loads_key_for_key(tmp_path):
    reference = _stylegan2_module(classes=3)
    d_kwargs = {"mapping_layers": 2, "mapping_lrmul": 0.01}
    imported = read_official(_write_stylegan2(reference, tmp_path / "cond.pkl", d_kwargs=d_kwargs))
    assert imported.networks == ("G", "D", "G_ema") and imported.hyper_parameters["conditional"]
    _assert_same_networks(module_from_imported(imported, tmp_path / "cond.pkl"), reference)
    # StyleGAN2-ADA TF's default D label mapping learns at 0.1; gan-zoo's at 0.01.
    imported = read_official(_write_stylegan2(reference, tmp_path / "lr.pkl", d_kwargs={"mapping_layers": 2}))
    assert imported.networks == ("G", "G_ema") and any("mapping_lrmul=0.1" in note for note in imported.notes)


def test_stylegan2_settings_gan_zoo_lacks_are_named(tmp_path):
    reference = _stylegan2_module()
    with pytest.raises(CheckpointError, match=r"architecture='resnet'.*'skip'"):
        read_official(_write_stylegan2(reference, tmp_path / "g.pkl", g_kwargs={"architecture": "resnet"}))
    with pytest.raises(CheckpointError, match=r"setting 'mystery'.*legacy.py"):
        read_official(_write_stylegan2(reference, tmp_path / "u.pkl", g_kwargs={"mystery": 1}))
    with pytest.raises(CheckpointError, match=r"version 3"):
        read_official(_write_stylegan2(reference, tmp_path / "v.pkl", version=3))
    imported = read_official(_write_stylegan2(reference, tmp_path / "d.pkl", d_kwargs={"architecture": "skip"}))
    assert imported.networks == ("G", "G_ema") and any("architecture='skip'" in note for note in imported.notes)


# ---- files that are not, or not wholly, TF network pickles -------------------------------------------


def test_incomplete_states_other_versions_and_other_builders_are_refused_with_a_sentence(tmp_path):
    from tests.official_tf_files import _CLASSES

    bare = _CLASSES[TFUTIL]({"name": "G", "variables": []})
    with pytest.raises(CheckpointError, match="network state has no 'version'"):
        read_official(write_tf_pickle(tmp_path / "bare.pkl", (bare, bare, bare)))
    old = tf_network(TFUTIL, "G", "G_paper", PG_KWARGS, {}, version=7)
    with pytest.raises(CheckpointError, match=r"state version 7; gan-zoo reads .*\[2\]"):
        read_official(write_tf_pickle(tmp_path / "v7.pkl", (old, old, old)))
    other = tf_network(TFUTIL, "G", "G_mine", PG_KWARGS, {})
    with pytest.raises(CheckpointError, match="built by G_mine; gan-zoo's PGGAN generator is G_paper"):
        read_official(write_tf_pickle(tmp_path / "mine.pkl", (other, other, other)))
    other = tf_network(DNNLIB, "G", "G_something_else", {}, {})
    with pytest.raises(CheckpointError, match="does not recognise"):
        read_official(write_tf_pickle(tmp_path / "other.pkl", (other, other, other)))
