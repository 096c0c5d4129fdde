"""`gan-zoo generate` through the real CLI on the checkpoints of the PGGAN and StyleGAN2 smoke runs."""

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli, run_cli_in_process

pytestmark = pytest.mark.slow


def test_generate_from_any_directory_is_deterministic_and_refuses_other_families(tmp_path, smoke_run):
    ckpt = smoke_run("smoke/pggan") / "checkpoints/last.ckpt"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = run_cli("generate", f"ckpt={ckpt}", "seeds=0-3", "outdir=a", cwd=elsewhere)
    assert "wrote 5 files" in first.stdout
    run_cli_in_process("generate", f"ckpt={ckpt}", "seeds=[2,3]", "outdir=b", cwd=elsewhere)
    for seed in (2, 3):  # same seed, same image, whatever the other seeds of the call
        a = np.asarray(Image.open(elsewhere / f"a/seed{seed:04d}.png"))
        assert a.shape == (32, 32, 3) and np.array_equal(a, np.asarray(Image.open(elsewhere / f"b/seed{seed:04d}.png")))
    assert (elsewhere / "a/grid.png").is_file()

    again = run_cli_in_process("generate", f"ckpt={ckpt}", "seeds=0-3", "outdir=a", cwd=elsewhere, check=False)
    assert again.returncode == 2 and "overwrite=true" in again.stderr
    other = run_cli_in_process("generate", f"ckpt={ckpt}", "family=stylegan2", cwd=elsewhere, check=False)
    assert other.returncode == 2 and "'pggan' checkpoint" in other.stderr and "'stylegan2' family" in other.stderr
    mixing = run_cli_in_process("generate", f"ckpt={ckpt}", "mode=style_mixing", cwd=elsewhere, check=False)
    assert mixing.returncode == 2 and "StyleGAN-family" in mixing.stderr and "'pggan'" in mixing.stderr
    missing = run_cli_in_process("generate", f"ckpt={tmp_path / 'nope.ckpt'}", cwd=elsewhere, check=False)
    assert missing.returncode == 2 and "nope.ckpt does not exist" in missing.stderr and "run directory" in missing.stderr
    unknown = run_cli_in_process("generate", f"ckpt={ckpt}", "family=stylegan4", cwd=elsewhere, check=False)
    assert unknown.returncode == 2 and "family=stylegan4 is not a gan-zoo family" in unknown.stderr and "pggan" in unknown.stderr
    no_run = run_cli_in_process("generate", "ckpt=last", cwd=elsewhere, check=False)
    assert no_run.returncode == 2 and "ckpt=last names the newest checkpoint of the run in the current directory" in no_run.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["a", "b"]
    # A run directory, or ckpt=last inside it, means the run's newest checkpoint (last.ckpt).
    run_dir = ckpt.parent.parent
    run_cli_in_process("generate", f"ckpt={run_dir}", "seeds=[2]", f"outdir={elsewhere / 'c'}", cwd=elsewhere)
    run_cli_in_process("generate", "ckpt=last", "seeds=[2]", f"outdir={elsewhere / 'd'}", cwd=run_dir)
    for out in ("c", "d"):
        assert np.array_equal(np.asarray(Image.open(elsewhere / out / "seed0002.png")), np.asarray(Image.open(elsewhere / "a/seed0002.png")))


def test_generate_style_mixing_and_w_interpolation_on_a_stylegan2_checkpoint(tmp_path, smoke_run):
    ckpt = smoke_run("smoke/stylegan2") / "checkpoints/last.ckpt"
    run_cli_in_process("generate", f"ckpt={ckpt}", "seeds=[4,7]", "truncation=0.7", "noise_mode=random", "outdir=a", cwd=tmp_path)
    run_cli_in_process("generate", f"ckpt={ckpt}", "seeds=7", "truncation=0.7", "noise_mode=random", "outdir=b", cwd=tmp_path)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a/seed0007.png")), np.asarray(Image.open(tmp_path / "b/seed0007.png")))
    run_cli_in_process("generate", f"ckpt={ckpt}", "mode=style_mixing", "rows=[1,2]", "cols=[3,4,5]", "styles=0-3", "outdir=m", cwd=tmp_path)
    resolution = np.asarray(Image.open(tmp_path / "m/r1-c3.png")).shape[0]
    assert np.asarray(Image.open(tmp_path / "m/style_mixing.png")).shape[:2] == (3 * resolution, 4 * resolution)
    run_cli_in_process("generate", f"ckpt={ckpt}", "mode=interpolate", "seeds=[0,1]", "frames=4", "space=w", "outdir=i", cwd=tmp_path)
    assert len(list((tmp_path / "i").glob("frame*.png"))) == 4 and (tmp_path / "i/interpolation.gif").is_file()
