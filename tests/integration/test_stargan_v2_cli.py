"""StarGAN v2 through the real CLI: a few iterations of smoke/stargan_v2, then `gan-zoo generate`
in its three modes, and `gan-zoo summary` of the paper presets."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli, run_cli_in_process

pytestmark = pytest.mark.slow

SHORT = ["experiment=smoke/stargan_v2", "total_kimg=0.016", "data.dataset.num_images=512", "data.dataset.val_images=256", "callbacks.samples.every_kimg=null"]


def write_images(folder, count: int, colour: tuple[int, int, int]) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.new("RGB", (40, 40), tuple(int(c * (i + 1) / count) for c in colour)).save(folder / f"img{i}.png")


def test_train_then_generate_latent_reference_and_interpolate(tmp_path):
    run = tmp_path / "run"
    run_cli("train", *SHORT, f"hydra.run.dir={run}", cwd=tmp_path)
    ckpt = run / "checkpoints/last.ckpt"
    assert sorted(p.name for p in (run / "samples").iterdir())[0].startswith("reference_kimg")  # the sources x references grid
    write_images(tmp_path / "src", 3, (255, 0, 0))
    write_images(tmp_path / "ref/cross", 2, (0, 255, 0))  # the official layout: the folder names the domain
    write_images(tmp_path / "ref/circle", 1, (0, 0, 255))

    latent = run_cli_in_process("generate", f"ckpt={ckpt}", "mode=latent", f"src={tmp_path / 'src'}", "seeds=[1,2]", "outdir=lat", cwd=tmp_path)
    assert "wrote 13 files" in latent.stdout  # 3 sources x 2 domains x 2 seeds + the grid
    grid = np.asarray(Image.open(tmp_path / "lat/latent.png"))
    assert grid.shape == ((1 + 2 * 2) * 32, 3 * 32, 3)  # sources row + a row per (domain, seed)
    run_cli_in_process("generate", f"ckpt={ckpt}", "mode=latent", f"src={tmp_path / 'src/img0.png'}", "domain=cross", "seeds=2", "outdir=one", cwd=tmp_path)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "one/img0_cross_seed2.png")), np.asarray(Image.open(tmp_path / "lat/img0_cross_seed2.png")))

    run_cli_in_process("generate", f"ckpt={ckpt}", "mode=reference", f"src={tmp_path / 'src'}", f"ref={tmp_path / 'ref'}", "outdir=refs", cwd=tmp_path)
    assert np.asarray(Image.open(tmp_path / "refs/reference.png")).shape == ((1 + 3) * 32, (1 + 3) * 32, 3)
    assert (tmp_path / "refs/img2_ref2_img1.png").is_file()  # reference 2 = ref/cross/img1.png

    run_cli_in_process(
        "generate", f"ckpt={ckpt}", "mode=interpolate", f"src={tmp_path / 'src'}", "domain=1", "seeds=[0,1]", "frames=3", "outdir=walk", cwd=tmp_path
    )
    assert len(list((tmp_path / "walk").glob("frame*.png"))) == 3 and (tmp_path / "walk/interpolation.gif").is_file()

    unknown = run_cli_in_process(
        "generate", f"ckpt={ckpt}", "mode=reference", f"src={tmp_path / 'src'}", f"ref={tmp_path / 'src'}", "outdir=x", cwd=tmp_path, check=False
    )
    assert unknown.returncode == 2 and "pass domain=NAME_OR_INDEX" in unknown.stderr
    bad = run_cli_in_process("generate", f"ckpt={ckpt}", "mode=latent", f"src={tmp_path / 'src'}", "domain=triangle", "outdir=y", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "circle, cross or an index 0..1" in bad.stderr
    images = run_cli_in_process("generate", f"ckpt={ckpt}", "mode=images", cwd=tmp_path, check=False)
    assert images.returncode == 2 and "mode=latent, reference or interpolate" in images.stderr


def test_summary_reports_the_official_counts(tmp_path):
    result = run_cli_in_process("summary", "experiment=paper/stargan_v2_afhq", "format=json", cwd=tmp_path)
    networks = json.loads(result.stdout.strip().splitlines()[-1])["networks"]
    assert {name: c["trainable"] for name, c in networks.items()} == {"G": 33892995, "F": 3259072, "E": 20949760, "D": 20852803}
