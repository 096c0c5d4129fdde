"""clovaai/stargan-v2 checkpoints in gan-zoo.

The files are written here as the official solver writes them (`core/checkpoint.py` CheckpointIO:
torch.save of {'generator', 'mapping_network', 'style_encoder'} state dicts in `{step:06d}_nets_ema.ckpt`,
plus 'discriminator' in `_nets.ckpt`, plus 'fan' in both for face models; the released files were
written by PyTorch 1.4, before the zip format) from a small gan-zoo StarGAN v2 module. Importing must
give back exactly those networks, and `gan-zoo generate` must write what the official
`core/utils.py` translate_using_latent (psi 1) and translate_using_reference write for the same
sources, references and z: images loaded as `core/data_loader.py` get_test_loader does (ToTensor,
Normalize 0.5), the EMA networks batched over the sources, and `save_image`'s quantisation
((x + 1) / 2 clamped, then x * 255 + 0.5 to uint8), at most 1/255 apart.
"""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.utils import make_grid

from gan_zoo.errors import CheckpointError, ConfigError
from gan_zoo.models.stargan_v2.fan import FAN
from gan_zoo.models.stargan_v2.landmarks import FanFaceMasker, fan_state_dict
from gan_zoo.models.stargan_v2.module import StarGANv2Module
from gan_zoo.official.load import load_any_module, module_from_imported, read_official
from gan_zoo.training.init_weights import initialize_from
from tests.conftest import run_cli_in_process

SOURCE = {"resolution": 32, "num_domains": 3, "latent_dim": 4, "style_dim": 8, "max_conv_dim": 32, "channel_base": 256, "mapping_hidden": 16}
FACE_SOURCE = {**SOURCE, "num_domains": 2, "w_hpf": 1.0}
STEP = 100000
DOMAINS = ("cat", "dog", "wild")  # the released AFHQ model's domain folders, in sorted order


def source_module(**settings) -> StarGANv2Module:
    """Random weights; the EMA networks (default init) differ from the trained ones (He init), as in the
    official solver, so the tests can tell which file part went where."""
    torch.manual_seed(0)
    return StarGANv2Module(**settings).eval()


def _state(net: torch.nn.Module, prefixed: bool) -> dict[str, torch.Tensor]:
    return {("module." if prefixed else "") + k: v for k, v in net.state_dict().items()}


def write_official(module: StarGANv2Module, folder: Path, nets: bool = True, ema: bool = True, prefixed: bool = False, fan: FAN | None = None) -> Path:
    """`{STEP}_nets.ckpt` and/or `{STEP}_nets_ema.ckpt` as CheckpointIO.save writes them, in the pre-1.6 torch
    format of the released files; `prefixed`: saved from the DataParallel wrappers ('module.' keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = {"fan": _state(fan, prefixed)} if fan is not None else {}
    if nets:
        content = {"generator": module.G, "mapping_network": module.F, "style_encoder": module.E, "discriminator": module.D}
        torch.save({**{k: _state(v, prefixed) for k, v in content.items()}, **extra}, folder / f"{STEP:06d}_nets.ckpt", _use_new_zipfile_serialization=False)
    if ema:
        content = {"generator": module.G_ema, "mapping_network": module.F_ema, "style_encoder": module.E_ema}
        torch.save(
            {**{k: _state(v, prefixed) for k, v in content.items()}, **extra}, folder / f"{STEP:06d}_nets_ema.ckpt", _use_new_zipfile_serialization=False
        )
    return folder / f"{STEP:06d}_nets_ema.ckpt"


def assert_same(ours: torch.nn.Module, theirs: torch.nn.Module) -> None:
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key


def write_images(folder: Path, names: tuple[str, ...], seed: int, size: int = 32) -> list[Path]:
    """One smooth random image per name, in `folder/<name>/<name>.png` (the official assets' layout)."""
    rng = np.random.default_rng(seed)
    files = []
    for name in names:
        (folder / name).mkdir(parents=True, exist_ok=True)
        coarse = Image.fromarray(rng.integers(0, 256, size=(4, 4, 3)).astype(np.uint8))
        coarse.resize((size, size), Image.BICUBIC).save(folder / name / f"{name}.png")
        files.append(folder / name / f"{name}.png")
    return files


def official_load(files: list[Path]) -> torch.Tensor:
    """get_test_loader's transform at the model's size: ToTensor, then Normalize(mean 0.5, std 0.5)."""
    images = [torch.from_numpy(np.asarray(Image.open(f).convert("RGB")).copy()).permute(2, 0, 1).float() / 255 for f in files]
    return (torch.stack(images) - 0.5) / 0.5


def official_save(images: torch.Tensor, ncol: int) -> np.ndarray:
    """core/utils.py save_image: denormalize ((x + 1) / 2, clamped), torchvision save_image (x * 255 + 0.5, clamped, uint8)."""
    grid = make_grid(((images + 1) / 2).clamp(0, 1), nrow=ncol, padding=0)
    return grid.mul(255).add(0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()


def read_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def assert_within_one_level(written: np.ndarray, expected: np.ndarray) -> None:
    assert written.shape == expected.shape
    assert np.abs(written.astype(int) - expected.astype(int)).max() <= 1


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A module and its `_nets_ema.ckpt` alone, as the authors released their two models."""
    module = source_module(**SOURCE)
    return module, write_official(module, tmp_path_factory.mktemp("afhq") / "checkpoints" / "afhq", nets=False)


def test_a_released_nets_ema_file_imports_key_for_key(released):
    source, path = released
    imported = read_official(path)
    assert imported.family == "stargan_v2" and imported.networks == ("G", "F", "E", "G_ema", "F_ema", "E_ema")
    assert imported.hyper_parameters == {**SOURCE, "num_channels": 3, "downsamplings": None, "w_hpf": 0.0}
    assert any("moving averages only" in note and "D is freshly initialised" in note for note in imported.notes)
    assert any("do not store domain names" in note and "cat, dog, wild" in note for note in imported.notes)
    module = module_from_imported(imported, path)
    for ours, theirs in (
        (module.G_ema, source.G_ema),
        (module.F_ema, source.F_ema),
        (module.E_ema, source.E_ema),
        (module.G, source.G_ema),
        (module.F, source.F_ema),
        (module.E, source.E_ema),
    ):
        assert_same(ours, theirs)
    x, z, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.randn(2, 4), torch.tensor([2, 0])
    with torch.no_grad():
        assert torch.equal(module.translate(x, module.latent_styles(z, y)), source.G_ema(x, source.F_ema(z, y)))
        assert torch.equal(module.translate(x, module.reference_styles(x.flip(0), y)), source.G_ema(x, source.E_ema(x.flip(0), y)))


def test_the_two_files_of_a_step_are_one_checkpoint(tmp_path):
    source = source_module(**SOURCE)
    folder = tmp_path / "checkpoints"
    write_official(source, folder)
    for given in ("_nets.ckpt", "_nets_ema.ckpt"):
        imported = read_official(folder / f"{STEP:06d}{given}")
        assert imported.networks == ("G", "F", "E", "D", "G_ema", "F_ema", "E_ema")
        assert "100000_nets.ckpt" in imported.source_format and "100000_nets_ema.ckpt" in imported.source_format
        module = module_from_imported(imported, folder)
        for name in ("G", "F", "E", "D", "G_ema", "F_ema", "E_ema"):
            assert_same(getattr(module, name), getattr(source, name))
    (folder / f"{STEP:06d}_nets.ckpt").write_bytes(b"PK\x03\x04 cut short")  # a neighbour still being written
    imported = read_official(folder / f"{STEP:06d}_nets_ema.ckpt")
    assert imported.networks == ("G", "F", "E", "G_ema", "F_ema", "E_ema")
    assert any("100000_nets.ckpt beside it cannot be read" in note for note in imported.notes)
    write_official(source, folder)
    (folder / f"{STEP:06d}_nets_ema.ckpt").unlink()
    imported = read_official(folder / f"{STEP:06d}_nets.ckpt")
    assert any("G_ema, F_ema and E_ema are copies of the training networks" in note for note in imported.notes)
    module = module_from_imported(imported, folder)
    assert_same(module.G_ema, source.G) and assert_same(module.D, source.D)


def test_files_saved_from_the_dataparallel_wrappers_load_without_the_prefix(tmp_path):
    source = source_module(**SOURCE)
    path = write_official(source, tmp_path, prefixed=True)
    imported = read_official(path)
    assert any("'module.' prefix" in note for note in imported.notes)
    module = module_from_imported(imported, path)
    assert_same(module.E_ema, source.E_ema) and assert_same(module.D, source.D)
    weights = torch.zeros(2)  # a face model's FAN, saved from its wrapper too, is read the same way
    assert fan_state_dict({"fan": {"module.l0.weight": weights}}, path) == {"l0.weight": weights}


def test_generate_writes_the_official_latent_and_reference_grids(released, tmp_path):
    source, path = released
    src = write_images(tmp_path / "src", ("cat", "dog"), seed=1)
    write_images(tmp_path / "ref", DOMAINS, seed=2)
    seeds = [0, 5]
    run_cli_in_process("generate", f"ckpt={path}", "mode=latent", f"src={tmp_path / 'src'}", "seeds=[0,5]", "outdir=out_lat", cwd=tmp_path)
    reference = run_cli_in_process(
        "generate", f"ckpt={path}", "mode=reference", f"src={tmp_path / 'src'}", f"ref={tmp_path / 'ref'}", "outdir=out_ref", cwd=tmp_path
    )
    assert "reference folders cat, dog, wild are domains 0..2 in sorted order" in reference.stderr

    x_src, n = official_load(src), len(src)
    x_ref = official_load(sorted((tmp_path / "ref").rglob("*.png")))
    with torch.no_grad():
        # translate_using_latent: the sources, then per domain and z a row G(x_src, F(z, y)), z shared by the row
        rows = [x_src]
        for y in range(3):
            for seed in seeds:
                z = torch.from_numpy(np.random.RandomState(seed).randn(1, 4)).float().repeat(n, 1)  # gan-zoo's z of the seed
                rows.append(source.G_ema(x_src, source.F_ema(z, torch.full((n,), y))))
        assert_within_one_level(read_png(tmp_path / "out_lat" / "latent.png"), official_save(torch.cat(rows), n))
        # translate_using_reference: a white corner and the sources, then per reference: it, then G(x_src, E(ref))
        styles = source.E_ema(x_ref, torch.arange(3))
        rows = [torch.ones(1, 3, 32, 32), x_src]
        for i in range(3):
            rows += [x_ref[i : i + 1], source.G_ema(x_src, styles[i : i + 1].repeat(n, 1))]
        assert_within_one_level(read_png(tmp_path / "out_ref" / "reference.png"), official_save(torch.cat(rows), n + 1))
    assert (tmp_path / "out_lat" / "cat_2_seed5.png").is_file() and (tmp_path / "out_ref" / "dog_ref1_dog.png").is_file()


def test_domain_names_are_given_once_and_kept_by_import(released, tmp_path):
    source, path = released
    write_images(tmp_path / "src", ("one",), seed=3)
    names = "+overrides.domain_names=[cat,dog,wild]"
    run_cli_in_process("generate", f"ckpt={path}", "mode=latent", f"src={tmp_path / 'src'}", "domain=wild", "seeds=[1]", names, "outdir=direct", cwd=tmp_path)
    run_cli_in_process("import", f"src={path}", "out=afhq.ckpt", names, cwd=tmp_path)
    module, record = load_any_module(tmp_path / "afhq.ckpt", torch.device("cpu"))
    assert module.domain_names == list(DOMAINS) and record["domain_names"] == list(DOMAINS)
    assert record["imported_from"]["networks"] == ["G", "F", "E", "G_ema", "F_ema", "E_ema"]
    run_cli_in_process("generate", "ckpt=afhq.ckpt", "mode=latent", f"src={tmp_path / 'src'}", "domain=wild", "seeds=[1]", "outdir=imported", cwd=tmp_path)
    assert np.array_equal(read_png(tmp_path / "direct" / "one_wild_seed1.png"), read_png(tmp_path / "imported" / "one_wild_seed1.png"))
    unnamed = run_cli_in_process("generate", f"ckpt={path}", "mode=latent", f"src={tmp_path / 'src'}", "domain=dog", "outdir=x", cwd=tmp_path, check=False)
    assert unnamed.returncode != 0 and "domain=dog is not a domain of this model; use an index 0..2" in unnamed.stderr
    with pytest.raises(CheckpointError, match=r"domain_names=\['cat', 'dog'\]: the model has 3 domains"):
        read_official(path, {"domain_names": ["cat", "dog"]})
    with pytest.raises(CheckpointError, match="overrides w_hpf are not settings .* the architecture comes from the tensors"):
        read_official(path, {"w_hpf": 1})


def test_init_ckpt_takes_the_official_files(tmp_path):
    source = source_module(**SOURCE)
    path = write_official(source, tmp_path, nets=False)
    fresh = StarGANv2Module(**SOURCE)
    assert initialize_from(fresh, path) == ["G", "F", "E", "G_ema", "F_ema", "E_ema"]  # D: this run's initialisation
    assert_same(fresh.G, source.G_ema)
    write_official(source, tmp_path)
    assert initialize_from(fresh, path) == ["G", "F", "E", "D", "G_ema", "F_ema", "E_ema"]
    assert_same(fresh.G, source.G) and assert_same(fresh.D, source.D) and assert_same(fresh.F_ema, source.F_ema)


def test_foreign_and_incomplete_files_are_refused_with_what_they_are(released, tmp_path):
    source, path = released
    torch.save({"generator": {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0]}]}}, tmp_path / "100000_optims.ckpt")
    with pytest.raises(CheckpointError, match=r"holds optimizer states \(an official \*_optims.ckpt\), not networks; pass the \*_nets_ema.ckpt"):
        read_official(tmp_path / "100000_optims.ckpt")
    torch.save({"state_dict": FAN().state_dict()}, tmp_path / "wing.ckpt")
    refused = run_cli_in_process("import", f"src={tmp_path / 'wing.ckpt'}", "out=x.ckpt", cwd=tmp_path, check=False)
    assert refused.returncode != 0
    assert "is the FAN landmark network of StarGAN v2's face models (wing.ckpt), not a generator" in refused.stderr
    assert "model.fan_path=" in refused.stderr and not (tmp_path / "x.ckpt").exists()
    stored = torch.load(path, weights_only=True)
    torch.save({k: v for k, v in stored.items() if k != "style_encoder"}, tmp_path / "partial.ckpt")
    with pytest.raises(CheckpointError, match="holds generator, mapping_network but no style_encoder state dict"):
        read_official(tmp_path / "partial.ckpt")
    other = StarGANv2Module(**{**SOURCE, "num_domains": 2})
    torch.save({**stored, "style_encoder": other.E_ema.state_dict()}, tmp_path / "mixed.ckpt")
    with pytest.raises(CheckpointError, match="its mapping network has 3 domain heads but its style encoder 2"):
        read_official(tmp_path / "mixed.ckpt")
    torch.save({"generator": {"fc.weight": torch.zeros(1)}}, tmp_path / "foreign.ckpt")
    with pytest.raises(CheckpointError, match="holding generator that gan-zoo does not recognise.*clovaai-stargan-v2"):
        read_official(tmp_path / "foreign.ckpt")


def random_fan() -> FAN:
    fan = FAN()
    for module in fan.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    return fan.eval()


def test_a_face_model_reads_the_fan_its_file_holds(tmp_path):
    source, fan = source_module(**FACE_SOURCE), random_fan()
    path = write_official(source, tmp_path / "celeba_hq", nets=False, fan=fan)
    imported = read_official(path)
    assert imported.hyper_parameters["w_hpf"] == 1.0 and imported.hyper_parameters["fan_path"] == str(path)
    assert any("its face masks come from the FAN the file keeps under 'fan'" in note for note in imported.notes)
    module, _ = load_any_module(path, torch.device("cpu"))
    x, z, y = torch.rand(1, 3, 32, 32) * 2 - 1, torch.randn(1, 4), torch.tensor([1])
    with torch.no_grad():
        expected = source.G_ema(x, source.F_ema(z, y), FanFaceMasker(fan)(x))
        assert torch.equal(module.translate(x, module.latent_styles(z, y)), expected)


def test_a_face_model_without_its_fan_asks_for_wing_ckpt(tmp_path):
    source = source_module(**FACE_SOURCE)
    bare = write_official(source, tmp_path / "bare", nets=False)
    imported = read_official(bare)
    assert imported.hyper_parameters["fan_path"] is None and any("need +overrides.fan_path=" in note for note in imported.notes)
    module, _ = load_any_module(bare, torch.device("cpu"))
    x, z, y = torch.rand(1, 3, 32, 32) * 2 - 1, torch.randn(1, 4), torch.tensor([1])
    with pytest.raises(ConfigError, match=r"\+overrides.fan_path=/path/to/wing.ckpt with an official checkpoint file"):
        module.translate(x, module.latent_styles(z, y))
    module, _ = load_any_module(bare, torch.device("cpu"), {"fan_path": str(tmp_path / "wing.ckpt")})
    assert module.fan_path == str(tmp_path / "wing.ckpt")  # read when first needed, as model.fan_path (test_stargan_v2_fan)
