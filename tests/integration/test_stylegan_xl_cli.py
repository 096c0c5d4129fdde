"""StyleGAN-XL through the real CLI: the smoke stem, its 32 px super-resolution stage, and generate;
Projected GAN's generate on its smoke checkpoint."""

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import run_cli, run_cli_in_process

pytestmark = pytest.mark.slow


def _g_ema(ckpt) -> dict[str, torch.Tensor]:
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    return {k.removeprefix("G_ema."): v for k, v in state.items() if k.startswith("G_ema.")}


def test_super_resolution_stage_grows_the_stem_trains_its_head_and_generates(tmp_path, smoke_run):
    stem_ckpt = smoke_run("smoke/stylegan_xl") / "checkpoints/last.ckpt"

    run = tmp_path / "stage32"
    run_cli("train", "experiment=smoke/stylegan_xl", "model.stage=32", f"model.stem_ckpt={stem_ckpt}", f"hydra.run.dir={run}", cwd=tmp_path)
    stage_ckpt = run / "checkpoints/last.ckpt"
    checkpoint = torch.load(stage_ckpt, map_location="cpu", weights_only=True)
    assert checkpoint["gan_zoo"]["cur_nimg"] >= 48 and checkpoint["hyper_parameters"]["stage"] == 32
    assert not any("guidance" in key for key in checkpoint["state_dict"]), "the guidance classifier must stay out of checkpoints"
    assert len(sorted((run / "samples").glob("*.png"))) >= 2
    assert "loss/G_cls" in (run / "csv/version_0/metrics.csv").read_text().splitlines()[0]

    # The stem's mapping and its retained synthesis layers are frozen: the stage's G_ema still holds
    # their weights exactly (the tracked w_avg keeps moving, as in the official stages); the new
    # head layers (and their ToRGB at 32 px) trained.
    stem, stage = _g_ema(stem_ckpt), _g_ema(stage_ckpt)
    retained = [k for k in stem if k in stage and not k.endswith(("magnitude_ema", "w_avg"))]
    assert any(k.startswith("mapping.") for k in retained) and any(k.startswith("synthesis.L0_") for k in retained)
    for key in retained:
        assert torch.equal(stem[key], stage[key]), key
    assert any(k.startswith("synthesis.") and k.endswith("_32_3.weight") for k in stage)

    out = tmp_path / "generated"
    run_cli_in_process("generate", f"ckpt={stage_ckpt}", "seeds=0-3", "class=2", "truncation=0.5", f"outdir={out / 'a'}", cwd=tmp_path)
    run_cli_in_process("generate", f"ckpt={stage_ckpt}", "seeds=[3]", "class=2", "truncation=0.5", f"outdir={out / 'b'}", cwd=tmp_path)
    image = np.asarray(Image.open(out / "a/seed0003.png"))
    assert image.shape == (32, 32, 3) and np.array_equal(image, np.asarray(Image.open(out / "b/seed0003.png")))
    run_cli_in_process("generate", f"ckpt={stage_ckpt}", "mode=interpolate", "seeds=5", "classes=[0,3]", "frames=4", f"outdir={out / 'c'}", cwd=tmp_path)
    frames = [np.asarray(Image.open(out / f"c/frame{i:05d}.png")) for i in range(4)]
    assert (out / "c/interpolation.gif").is_file() and not np.array_equal(frames[0], frames[-1])
    no_class = run_cli_in_process("generate", f"ckpt={stage_ckpt}", "seeds=0", f"outdir={out / 'd'}", cwd=tmp_path, check=False)
    assert no_class.returncode == 2 and "class=" in no_class.stderr


def test_projected_gan_checkpoint_generates_the_same_image_per_seed(tmp_path, smoke_run):
    ckpt = smoke_run("smoke/projected_gan") / "checkpoints/last.ckpt"
    run_cli_in_process("generate", f"ckpt={ckpt}", "seeds=0-2", "outdir=a", cwd=tmp_path)
    run_cli_in_process("generate", f"ckpt={ckpt}", "seeds=[2]", "outdir=b", cwd=tmp_path)
    image = np.asarray(Image.open(tmp_path / "a/seed0002.png"))
    assert image.shape == (32, 32, 3) and np.array_equal(image, np.asarray(Image.open(tmp_path / "b/seed0002.png")))
    truncated = run_cli_in_process("generate", f"ckpt={ckpt}", "seeds=0", "truncation=0.5", "outdir=c", cwd=tmp_path, check=False)
    assert truncated.returncode == 2 and "truncation" in truncated.stderr
