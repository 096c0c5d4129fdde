"""NVlabs/SPADE checkpoint folders in gan-zoo.

The folders are written here as the official trainer writes them (`util/util.py` save_network: the
plain state dicts `{epoch}_net_G.pth`, `_D`, `_E` saved with torch.save; `options/base_options.py`
save_options: opt.txt) from a gan-zoo SPADE module with random weights and moved batch-norm
statistics. Importing must give back exactly those networks, and `gan-zoo generate` must write what
the official `test.py` writes for the same label maps: one-hot by scatter_ (+ instance edges), G in
eval mode, `util.tensor2im`'s `(x + 1) / 2 * 255` cast to uint8 (gan-zoo rounds where it floors: at
most 1/255 apart).
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.errors import CheckpointError
from gan_zoo.models.spade.module import SPADEModule
from gan_zoo.official.load import load_any_module, module_from_imported, read_official, source_sha256
from gan_zoo.official.spade_options import read_options_file
from gan_zoo.training.init_weights import initialize_from
from tests.conftest import run_cli_in_process

INIT_GAIN = 1.0  # xavier gain (--init_variance): the default 0.02 makes random networks' images a flat grey
LABEL_NC = 5  # + dontcare + instance edges = 7 semantic channels
SOURCE = {
    "resolution": 32,
    "label_nc": LABEL_NC,
    "contain_dontcare_label": True,
    "use_instance": True,
    "ngf": 4,
    "ndf": 4,
    "n_layers_D": 2,
    "spade_hidden": 8,
    "lambda_vgg": 0.0,
}
VAE_SOURCE = {
    "resolution": 256,
    "label_nc": 3,
    "contain_dontcare_label": False,
    "use_instance": False,
    "ngf": 2,
    "ndf_E": 2,
    "ndf": 2,
    "n_layers_D": 2,
    "spade_hidden": 4,
    "use_vae": True,
    "z_dim": 256,
    "lambda_vgg": 0.0,
}

# Options as the official train.py records them for those networks (a few of the ~80 lines it writes).
OPTIONS = {
    "D_steps_per_G": 1,
    "aspect_ratio": 1.0,
    "batchSize": 2,
    "beta1": 0.0,
    "beta2": 0.9,
    "checkpoints_dir": "./checkpoints",
    "contain_dontcare_label": True,
    "crop_size": 32,
    "dataroot": "./datasets/coco_stuff/",
    "dataset_mode": "coco",
    "gan_mode": "hinge",
    "gpu_ids": "0",
    "init_type": "xavier",
    "init_variance": INIT_GAIN,
    "label_nc": LABEL_NC,
    "lambda_feat": 10.0,
    "lambda_kld": 0.05,
    "lambda_vgg": 10.0,
    "load_size": 32,
    "lr": 0.0002,
    "max_dataset_size": 9223372036854775807,
    "n_layers_D": 2,
    "name": "mini",
    "ndf": 4,
    "nef": 16,
    "netD": "multiscale",
    "netD_subarch": "n_layer",
    "netG": "spade",
    "ngf": 4,
    "niter": 50,
    "niter_decay": 0,
    "no_TTUR": False,
    "no_ganFeat_loss": False,
    "no_instance": False,
    "no_vgg_loss": True,
    "norm_D": "spectralinstance",
    "norm_E": "spectralinstance",
    "norm_G": "spectralspadesyncbatch3x3",
    "num_D": 2,
    "num_upsampling_layers": "normal",
    "output_nc": 3,
    "preprocess_mode": "resize_and_crop",
    "use_vae": False,
    "which_epoch": "latest",
    "z_dim": 256,
}
VAE_OPTIONS = {
    **OPTIONS,
    "dataset_mode": "ade20k",
    "label_nc": 3,
    "contain_dontcare_label": False,
    "no_instance": True,
    "crop_size": 256,
    "ngf": 2,
    "ndf": 2,
    "use_vae": True,
}
DEFAULTS_SHOWN = {"label_nc": 182, "crop_size": 512, "ngf": 64, "ndf": 64, "n_layers_D": 4, "batchSize": 1}  # `[default: ...]` comments


def write_opt_txt(path: Path, options: dict) -> None:
    """opt.txt as base_options.py save_options writes it."""
    lines = []
    for key, value in sorted(options.items()):
        comment = f"\t[default: {DEFAULTS_SHOWN[key]}]" if key in DEFAULTS_SHOWN and DEFAULTS_SHOWN[key] != value else ""
        lines.append(f"{key:>25}: {str(value):<30}{comment}\n")
    path.write_text("".join(lines))


def source_module(**settings) -> SPADEModule:
    """Random weights after a few train-mode passes: batch-norm running statistics and spectral-norm
    vectors away from their initial values (eval mode reads them), as in any saved checkpoint."""
    torch.manual_seed(0)
    module = SPADEModule(**settings, init_gain=INIT_GAIN).train()
    height, width = module.image_size
    with torch.no_grad():
        for step in range(3):
            seg = torch.zeros(2, module.G.semantic_nc, height, width).bernoulli_(0.3) * (1 + step)
            z = torch.randn(2, module.z_dim) if module.E is not None else None
            image = module.G(seg, z)
            module.D(torch.cat([seg, image], 1))
            if module.E is not None:
                module.E(image)
    return module.eval()


def write_folder(module: SPADEModule, folder: Path, options: dict | None, epoch: str = "latest", legacy: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("G", "D", "E"):
        network = getattr(module, name)
        if network is not None:
            torch.save(network.state_dict(), folder / f"{epoch}_net_{name}.pth", _use_new_zipfile_serialization=not legacy)
    if options is not None:
        write_opt_txt(folder / "opt.txt", options)
    return folder


def blocky_labels(rng: np.random.Generator, high: int, extra: tuple[int, ...] = (), size: int = 32) -> np.ndarray:
    coarse = rng.integers(0, high, size=(size // 4, size // 4))
    for i, value in enumerate(extra):
        coarse[i, -1] = value
    return np.kron(coarse, np.ones((4, 4), dtype=np.int64)).astype(np.uint8)


def official_edges(instance: torch.Tensor) -> torch.Tensor:
    """models/pix2pix_model.py get_edges, for [N, 1, H, W] instance ids."""
    t = instance
    edge = torch.zeros(t.shape, dtype=torch.bool)
    edge[:, :, :, 1:] |= t[:, :, :, 1:] != t[:, :, :, :-1]
    edge[:, :, :, :-1] |= t[:, :, :, 1:] != t[:, :, :, :-1]
    edge[:, :, 1:, :] |= t[:, :, 1:, :] != t[:, :, :-1, :]
    edge[:, :, :-1, :] |= t[:, :, 1:, :] != t[:, :, :-1, :]
    return edge.float()


def official_semantics(raw: np.ndarray, num_channels: int, instance: np.ndarray | None) -> torch.Tensor:
    """preprocess_input after data/pix2pix_dataset.py: file value 255 -> label_nc, every value is its channel."""
    label = torch.from_numpy(raw.astype(np.int64))
    label[label == 255] = LABEL_NC
    semantics = torch.zeros(1, num_channels, *raw.shape).scatter_(1, label[None, None], 1.0)
    if instance is not None:
        semantics = torch.cat([semantics, official_edges(torch.from_numpy(instance.astype(np.int64))[None, None])], 1)
    return semantics


def tensor2im(x: torch.Tensor) -> np.ndarray:
    """util/util.py tensor2im: (x + 1) / 2 * 255, clip, astype(uint8) (rounds down)."""
    return np.clip((x.permute(1, 2, 0).numpy() + 1) / 2.0 * 255.0, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def official_folder(tmp_path_factory):
    module = source_module(**SOURCE)
    return module, write_folder(module, tmp_path_factory.mktemp("spade") / "checkpoints" / "mini", OPTIONS)


def test_opt_txt_is_read_as_save_options_and_print_options_write_it(tmp_path):
    write_opt_txt(tmp_path / "opt.txt", {"label_nc": 5, "dataroot": "/data/x y", "no_instance": True, "instance_dir": ""})
    printed = "----------------- Options ---------------\n" + (tmp_path / "opt.txt").read_text() + "----------------- End -------------------\n"
    (tmp_path / "printed.txt").write_text(printed)
    for name in ("opt.txt", "printed.txt"):
        assert read_options_file(tmp_path / name) == {"label_nc": "5", "dataroot": "/data/x y", "no_instance": "True", "instance_dir": ""}


def test_folder_imports_every_network_key_for_key(official_folder):
    source, folder = official_folder
    imported = read_official(folder)
    assert imported.family == "spade" and imported.networks == ("G", "G_ema", "D")
    hp = imported.hyper_parameters
    assert (hp["resolution"], hp["label_nc"], hp["contain_dontcare_label"], hp["use_instance"], hp["ngf"], hp["ndf"]) == (32, 5, True, True, 4, 4)
    assert (hp["n_layers_D"], hp["spade_hidden"], hp["param_free_norm"], hp["spectral"], hp["lambda_vgg"]) == (2, 8, "syncbatch", True, 0.0)
    assert (hp["label_shift"], hp["dontcare_values"], hp["ema"], hp["init_gain"]) == (0, [LABEL_NC, 255], {"beta": 0.0}, INIT_GAIN)
    module = module_from_imported(imported, folder)
    for ours, theirs in ((module.G, source.G), (module.G_ema, source.G), (module.D, source.D)):
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for key, value in theirs.state_dict().items():
            torch.testing.assert_close(ours.state_dict()[key], value, rtol=0, atol=0)
    segmap = torch.from_numpy(blocky_labels(np.random.default_rng(0), LABEL_NC + 1).astype(np.int64))[None]
    with torch.no_grad():
        expected = source.G(source.semantics({"segmap": segmap, "instance": segmap}))
    torch.testing.assert_close(module.generate(segmap, segmap), expected, rtol=0, atol=0)


def test_generate_writes_what_the_official_test_writes(official_folder, tmp_path):
    source, folder = official_folder
    rng = np.random.default_rng(1)
    (tmp_path / "val_label").mkdir()
    (tmp_path / "val_inst").mkdir()
    raws = {}
    for i in range(2):
        raws[i] = (blocky_labels(rng, LABEL_NC, extra=(255, LABEL_NC)), blocky_labels(rng, 3))
        Image.fromarray(raws[i][0]).save(tmp_path / "val_label" / f"{i:012d}.png")  # COCO-Stuff layout: *_label/ and *_inst/
        Image.fromarray(raws[i][1]).save(tmp_path / "val_inst" / f"{i:012d}.png")
    run_cli_in_process("generate", f"ckpt={folder}", f"labels={tmp_path / 'val_label'}", cwd=tmp_path)
    out = folder.parent.parent / "generated" / "mini" / "labels"  # beside checkpoints/, as for a gan-zoo run
    for i, (raw, instance) in raws.items():
        with torch.no_grad():
            x = source.G(official_semantics(raw, LABEL_NC + 1, instance))[0]
        written = np.asarray(Image.open(out / f"{i:012d}.png")).astype(int)
        assert np.abs(written - tensor2im(x).astype(int)).max() <= 1
        assert np.array_equal(written, (x.permute(1, 2, 0) * 127.5 + 128).clamp(0, 255).to(torch.uint8).numpy())  # gan-zoo's rounding


def test_the_g_file_and_pre_1_6_torch_files_are_read_with_their_folder(tmp_path):
    source = source_module(**SOURCE)
    folder = write_folder(source, tmp_path / "mini", OPTIONS, epoch="10", legacy=True)
    imported = read_official(folder / "10_net_G.pth")
    assert imported.networks == ("G", "G_ema", "D") and "epoch 10" in imported.source_format
    module = module_from_imported(imported, folder)
    torch.testing.assert_close(module.D.state_dict()["discriminator_1.model0.0.weight"], source.D.discriminator_1.model0[0].weight, rtol=0, atol=0)
    with pytest.raises(CheckpointError, match=r"has no latest_net_G.pth; pass \+overrides.which_epoch= one of 10"):
        read_official(folder)
    assert read_official(folder, {"which_epoch": 10}).networks == ("G", "G_ema", "D")
    with pytest.raises(CheckpointError, match="is the discriminator of a SPADE checkpoint folder"):
        read_official(folder / "10_net_D.pth")


def test_vae_folder_generates_the_official_style_path(tmp_path):
    source = source_module(**VAE_SOURCE)
    folder = write_folder(source, tmp_path / "checkpoints" / "vae", VAE_OPTIONS)
    imported = read_official(folder)
    assert imported.networks == ("G", "G_ema", "D", "E") and imported.hyper_parameters["ndf_E"] == 2
    rng = np.random.default_rng(2)
    raw = blocky_labels(rng, 3, size=256)
    Image.fromarray(raw).save(tmp_path / "label.png")
    Image.fromarray(rng.integers(0, 256, size=(256, 256, 3)).astype(np.uint8)).save(tmp_path / "photo.png")
    run_cli_in_process(
        "generate", f"ckpt={folder}", f"labels={tmp_path / 'label.png'}", f"style={tmp_path / 'photo.png'}", "seeds=[0]", "outdir=out", cwd=tmp_path
    )
    photo = torch.from_numpy(np.array(Image.open(tmp_path / "photo.png"))).permute(2, 0, 1)[None].float() / 255 * 2 - 1
    with torch.no_grad():  # pix2pix_model.py generate_fake: encode the test image, mu + eps * std, eps fixed per seed here
        mu, logvar = source.E(photo)
        z = torch.from_numpy(np.random.RandomState(0).randn(1, 256)).float() * torch.exp(0.5 * logvar) + mu
        x = source.G(official_semantics(raw, 3, None), z)[0]
    written = np.asarray(Image.open(tmp_path / "out" / "label_seed0000.png")).astype(int)
    assert np.abs(written - tensor2im(x).astype(int)).max() <= 1
    fresh = SPADEModule(**VAE_SOURCE)
    assert initialize_from(fresh, folder) == ["G", "D", "E", "G_ema"]  # fine-tuning a VAE keeps its encoder
    for key, value in source.E.state_dict().items():
        torch.testing.assert_close(fresh.E.state_dict()[key], value, rtol=0, atol=0)
    (folder / "latest_net_E.pth").unlink()
    with pytest.raises(CheckpointError, match="use_vae model but its encoder file latest_net_E.pth is missing"):
        read_official(folder)


def test_a_folder_without_opt_txt_names_the_overrides_to_pass(official_folder, tmp_path):
    source, folder = official_folder
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(folder / "latest_net_G.pth", bare)
    with pytest.raises(
        CheckpointError,
        match=r"has no opt.txt .* ngf=4, use_vae=False, norm_G=spectralspadesyncbatch3x3 and 7 semantic "
        r"channels; pass what it does not: \+overrides.dataset_mode=",
    ):
        read_official(bare)
    with pytest.raises(CheckpointError, match="takes 7 semantic channels but the options say label_nc=182"):
        read_official(bare, {"dataset_mode": "coco"})
    imported = read_official(bare / "latest_net_G.pth", {"dataset_mode": "coco", "label_nc": LABEL_NC, "crop_size": 32})
    assert imported.networks == ("G", "G_ema") and any("D is freshly initialised" in note for note in imported.notes)
    module = module_from_imported(imported, bare)
    torch.testing.assert_close(module.G_ema.state_dict()["conv_img.weight"], source.G.conv_img.weight, rtol=0, atol=0)


def test_settings_gan_zoo_lacks_or_the_weights_contradict_are_named(official_folder, tmp_path):
    source, _ = official_folder
    cases = [
        ({"ngf": 8}, "opt.txt says ngf=8 but the generator's tensors were built with ngf=4"),
        ({"netG": "pix2pixhd"}, "netG='pix2pixhd': gan-zoo reads SPADE generators"),
        ({"norm_D": "spectralbatch"}, "norm_D='spectralbatch': gan-zoo's SPADE uses 'spectralinstance'"),
        ({"dataset_mode": "lsun"}, "dataset_mode='lsun': gan-zoo knows the official data sets coco, ade20k"),
    ]
    for i, (change, message) in enumerate(cases):
        folder = write_folder(source, tmp_path / f"case{i}", {**OPTIONS, **change})
        with pytest.raises(CheckpointError, match=message):
            read_official(folder)
    with pytest.raises(CheckpointError, match="overrides lr_G are not SPADE options gan-zoo reads"):
        read_official(tmp_path / "case0", {"lr_G": 1.0})


def test_a_foreign_folder_is_refused_with_what_it_holds(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="is a folder holding notes.txt that gan-zoo does not recognise.*nvlabs-spade"):
        read_official(tmp_path)


def test_import_command_and_init_ckpt_take_the_folder(official_folder, tmp_path):
    source, folder = official_folder
    out = tmp_path / "mini.ckpt"
    run_cli_in_process("import", f"src={folder}", f"out={out}", cwd=tmp_path)
    module, record = load_any_module(out, torch.device("cpu"))
    assert record["family"] == "spade" and record["imported_from"]["networks"] == ["G", "G_ema", "D"]
    torch.testing.assert_close(
        module.G.state_dict()["head_0.norm_0.param_free_norm.running_var"], source.G.head_0.norm_0.param_free_norm.running_var, rtol=0, atol=0
    )
    fresh = SPADEModule(**SOURCE)
    assert initialize_from(fresh, folder) == ["G", "D", "G_ema"]
    torch.testing.assert_close(
        fresh.D.state_dict()["discriminator_0.model1.0.0.weight_orig"], source.D.state_dict()["discriminator_0.model1.0.0.weight_orig"], rtol=0, atol=0
    )


def test_a_folder_is_identified_by_the_hashes_of_its_files(official_folder, tmp_path):
    # `gan-zoo eval` records the checkpoint's SHA-256 with every value; for a folder, over its files.
    _, folder = official_folder
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert source_sha256(copy) == source_sha256(folder)
    (copy / "opt.txt").write_text((copy / "opt.txt").read_text() + "\n")
    assert source_sha256(copy) != source_sha256(folder)
