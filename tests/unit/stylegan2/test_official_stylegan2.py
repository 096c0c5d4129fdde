"""NVlabs PyTorch StyleGAN2 pickles (stylegan2-ada-pytorch / stylegan3 snapshots) in gan-zoo.

The files are written here in the official structure (persistence records with the official class
names, init kwargs and parameter/buffer names) from a gan-zoo module with random weights; importing
them must give back exactly those networks, and `gan-zoo generate` must write the images NVlabs'
`gen_images.py` computes from them (z = RandomState(seed).randn, G_ema, uint8 by x*127.5+128).
"""

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.official.load import load_any_module, module_from_imported, read_official
from gan_zoo.training.init_weights import initialize_from
from tests.conftest import run_cli_in_process
from tests.official_files import easy, persistent_module, write_pickle

# A stand-in for the module source a real pickle carries (read as text, never run): the markers
# the reader uses to tell stylegan3's networks_stylegan2.py apart, and code that must not run.
MODULE_SRC = "class SynthesisBlock: pass\n# fused_modconv_default\nopen('EXECUTED', 'w')\n"

G_KWARGS = {
    "z_dim": 32,
    "c_dim": 0,
    "w_dim": 32,
    "img_resolution": 16,
    "img_channels": 3,
    "mapping_kwargs": {"num_layers": 2},
    "synthesis_kwargs": {"channel_base": 512, "channel_max": 64, "num_fp16_res": 0, "conv_clamp": 256},
}
D_KWARGS = {
    "c_dim": 0,
    "img_resolution": 16,
    "img_channels": 3,
    "architecture": "resnet",
    "channel_base": 512,
    "channel_max": 64,
    "num_fp16_res": 0,
    "conv_clamp": 256,
    "block_kwargs": {},
    "mapping_kwargs": {},
    "epilogue_kwargs": {"mbstd_group_size": 4},
}

# Official names (stylegan3 `training/networks_stylegan2.py`) that the file must carry.
OFFICIAL_G_KEYS = [
    "mapping.fc0.weight",
    "mapping.fc1.bias",
    "mapping.w_avg",
    "synthesis.b4.const",
    "synthesis.b4.resample_filter",
    "synthesis.b8.conv0.weight",
    "synthesis.b8.conv0.noise_const",
    "synthesis.b8.conv0.resample_filter",
    "synthesis.b16.torgb.affine.weight",
    "synthesis.b16.conv1.noise_strength",
]
OFFICIAL_D_KEYS = ["b16.fromrgb.weight", "b16.skip.weight", "b16.resample_filter", "b8.conv1.weight", "b4.conv.weight", "b4.fc.weight", "b4.out.bias"]


def _reference_module():
    from gan_zoo.models.stylegan2.module import StyleGAN2Module

    torch.manual_seed(0)
    module = StyleGAN2Module(
        resolution=16, z_dim=32, w_dim=32, channel_base=512, channel_max=64, num_fp16_res=0, mapping={"num_layers": 2, "w_avg_beta": 0.998}
    )
    with torch.no_grad():  # trained-looking values where a fresh network has constants
        for net in (module.G, module.G_ema):
            for name, p in net.named_parameters():
                if name.endswith("noise_strength"):
                    p.fill_(0.3)
            net.mapping.w_avg.normal_()
    return module.eval()


def _write_official(module, path, *, g_kwargs=G_KWARGS, with_d=True):
    data = {
        "G": persistent_module(module.G, "Generator", MODULE_SRC, g_kwargs),
        "G_ema": persistent_module(module.G_ema, "Generator", MODULE_SRC, g_kwargs),
        "augment_pipe": None,
        "training_set_kwargs": easy({"path": "~/datasets/ffhq.zip", "resolution": 16}),
    }
    if with_d:
        data["D"] = persistent_module(module.D, "Discriminator", MODULE_SRC, D_KWARGS)
    return write_pickle(path, data)


@pytest.fixture(scope="module")
def official_file(tmp_path_factory):
    module = _reference_module()
    return module, _write_official(module, tmp_path_factory.mktemp("official") / "network-snapshot-000100.pkl")


def test_file_carries_the_official_names(official_file):
    _, path = official_file
    imported = read_official(path)
    for key in OFFICIAL_G_KEYS:
        assert f"G_ema.{key}" in imported.state_dict and f"G.{key}" in imported.state_dict, key
    for key in OFFICIAL_D_KEYS:
        assert f"D.{key}" in imported.state_dict, key
    assert list(imported.state_dict["G_ema.synthesis.b8.conv0.resample_filter"].shape) == [4, 4]


def test_import_reads_architecture_and_loads_every_network_key_for_key(official_file, tmp_path):
    reference, path = official_file
    imported = read_official(path)
    assert imported.family == "stylegan2"
    hp = imported.hyper_parameters
    assert (hp["resolution"], hp["z_dim"], hp["channel_base"], hp["channel_max"], hp["conv_clamp"]) == (16, 32, 512, 64, 256)
    assert hp["mapping"]["num_layers"] == 2 and hp["discriminator"]["architecture"] == "resnet"
    module = module_from_imported(imported, path)
    for name in ("G", "D", "G_ema"):
        ours, theirs = getattr(module, name).state_dict(), getattr(reference, name).state_dict()
        assert set(ours) == set(theirs)
        for key in ours:
            torch.testing.assert_close(ours[key], theirs[key], rtol=0, atol=0)
    assert not (tmp_path / "EXECUTED").exists() and not __import__("pathlib").Path("EXECUTED").exists()


def test_generate_from_the_pickle_writes_gen_images_output(official_file, tmp_path):
    reference, path = official_file
    run_cli_in_process("generate", f"ckpt={path}", "seeds=[0,1]", "truncation=1", "noise_mode=const", "outdir=out", cwd=tmp_path)
    for seed in (0, 1):
        z = torch.from_numpy(np.random.RandomState(seed).randn(1, 32))
        with torch.no_grad():
            img = reference.G_ema(z.float(), None, truncation_psi=1.0, noise_mode="const")
        expected = (img.permute(0, 2, 3, 1) * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].numpy()
        written = np.asarray(Image.open(next((tmp_path / "out").glob(f"*{seed:04d}*.png"))))
        assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1


def test_import_command_writes_a_checkpoint_everything_loads(official_file, tmp_path):
    reference, path = official_file
    out = tmp_path / "ffhq.ckpt"
    run_cli_in_process("import", f"src={path}", f"out={out}", cwd=tmp_path)
    module, record = load_any_module(out, torch.device("cpu"))
    assert record["family"] == "stylegan2" and record["experiment"] == f"import:{path.name}"
    z = torch.randn(2, 32)
    with torch.no_grad():
        torch.testing.assert_close(module.G_ema(z, noise_mode="const"), reference.G_ema(z, noise_mode="const"), rtol=0, atol=0)
    again = run_cli_in_process("import", f"src={path}", f"out={out}", cwd=tmp_path, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr and "overwrite=true" in again.stderr


def test_init_ckpt_copies_networks_and_starts_progress_fresh(official_file):
    from gan_zoo.models.stylegan2.module import StyleGAN2Module

    reference, path = official_file
    torch.manual_seed(1)
    module = StyleGAN2Module(resolution=16, z_dim=32, w_dim=32, channel_base=512, channel_max=64, num_fp16_res=0, mapping={"num_layers": 2})
    assert initialize_from(module, path) == ["G", "D", "G_ema"]
    for name in ("G", "D", "G_ema"):
        for key, value in getattr(reference, name).state_dict().items():
            torch.testing.assert_close(getattr(module, name).state_dict()[key], value, rtol=0, atol=0)
    assert int(module.cur_nimg) == 0 and float(module.pl_mean) == 0.0


def test_init_ckpt_of_another_resolution_is_refused_with_a_sentence(official_file):
    from gan_zoo.models.stylegan2.module import StyleGAN2Module

    _, path = official_file
    module = StyleGAN2Module(resolution=32, z_dim=32, w_dim=32, channel_base=512, channel_max=64, num_fp16_res=0, mapping={"num_layers": 2})
    with pytest.raises(ConfigError, match="resolution is 16, this run's 32"):
        initialize_from(module, path)


def test_unsupported_architecture_is_named(tmp_path):
    reference = _reference_module()
    kwargs = {**G_KWARGS, "synthesis_kwargs": {**G_KWARGS["synthesis_kwargs"], "architecture": "resnet"}}
    path = _write_official(reference, tmp_path / "resnet_g.pkl", g_kwargs=kwargs)
    with pytest.raises(CheckpointError, match="G architecture 'resnet'"):
        read_official(path)


def test_foreign_pickle_is_refused_with_what_gan_zoo_reads(tmp_path):
    path = write_pickle(tmp_path / "other.pkl", {"weights": [1, 2, 3]})
    with pytest.raises(CheckpointError, match="does not recognise"):
        read_official(path)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="neither a gan-zoo checkpoint nor an official network file"):
        read_official(text)


def test_eval_measures_the_pickle_and_records_its_hash(official_file, tmp_path):
    import hashlib
    import json
    import math

    from tests.unit.metrics_support import write_inception_weights

    _, path = official_file
    weights, digest = write_inception_weights(tmp_path)
    common = [
        f"ckpt={path}",
        f"++weights.inception={weights}",
        f"++weights_sha256.inception={digest}",
        f"cache_dir={tmp_path / 'cache'}",
        "batch_size=8",
        "num_workers=0",
        "sample_block=8",
        "metrics=[fid8]",
    ]
    no_data = run_cli_in_process("eval", *common, cwd=tmp_path, check=False)
    assert no_data.returncode == 2 and "pass data=<name>" in no_data.stderr and "16 px" in no_data.stderr
    run_cli_in_process("eval", *common, "data=shapes", "data.resolution=16", f"output={tmp_path / 'm.jsonl'}", cwd=tmp_path)
    line = json.loads((tmp_path / "m.jsonl").read_text().splitlines()[0])
    assert line["metric"] == "fid8" and math.isfinite(line["value"]) and line["family"] == "stylegan2"
    assert line["checkpoint_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
