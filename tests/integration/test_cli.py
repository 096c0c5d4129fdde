"""The CLI as users call it: help, --cfg, list, summary, a smoke run's output contract, errors."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image

pytestmark = pytest.mark.slow

SMOKE_EXPERIMENTS = sorted(
    str(p.relative_to(Path(__file__).resolve().parents[2] / "conf/experiment").with_suffix(""))
    for p in (Path(__file__).resolve().parents[2] / "conf/experiment/smoke").glob("*.yaml")
)

# Official trainable parameter counts, from the layer code of tkarras/progressive_growing_of_gans `networks.py`
# G_paper/D_paper (every LOD's ToRGB/FromRGB included); the paper (Karras et al. 2018, Appendix A, Table 2)
# gives 23.1M for each at 1024².
OFFICIAL_COUNTS = {
    "paper/pggan_celebahq1024": {"G": 23079115, "D": 23087249},
    "paper/pggan_cifar10": {"G": 20719628, "D": 20726785},
}


def test_dispatcher_help_and_unknown_subcommand(cli):
    out = cli("--help").stdout
    assert "train" in out and "summary" in out and "list" in out
    bad = cli("trian", check=False)
    assert bad.returncode == 2 and "unknown subcommand 'trian'" in bad.stderr


def test_subcommands_take_help_and_cfg_job(cli_in_process, tmp_path):
    cli = cli_in_process
    assert "gan-zoo train" in cli("train", "--help", cwd=tmp_path).stdout
    job = cli("train", "experiment=smoke/pggan", "--cfg", "job", cwd=tmp_path).stdout
    assert "total_kimg: 7" in job and "_target_: gan_zoo.models.pggan.module.PGGANModule" in job
    assert not (tmp_path / "outputs").exists()
    missing = cli("train", "data=shapes", cwd=tmp_path, check=False)
    assert missing.returncode != 0 and "model" in missing.stderr and "pggan" in missing.stderr


HELP_COMMANDS = [["train"], ["summary"], ["eval"], ["generate"], ["import"], ["list"], ["data", "prepare"], ["data", "check"], ["data", "stats"]]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=" ".join)
def test_help_header_names_the_command(cli_in_process, tmp_path, command):
    """Hydra's --help header names the app; without hydra.help.app_name it is the Python module (data_command)."""
    out = cli_in_process(*command, "--help", cwd=tmp_path).stdout
    assert out.startswith(f"gan-zoo {' '.join(command)} is powered by Hydra."), out.splitlines()[0]


def test_list_names_models_data_experiments_metrics(cli_in_process, tmp_path):
    out = cli_in_process("list", cwd=tmp_path).stdout
    for expected in (
        "models:",
        "pggan",
        "data:",
        "shapes",
        "digits",
        "ffhq",
        "experiments:",
        "smoke/pggan",
        "paper/pggan_celebahq1024",
        "metrics:",
        "official formats",
        "nvlabs-pytorch-stylegan2",
        "nvlabs-spade",
    ):
        assert expected in out
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("preset", sorted(OFFICIAL_COUNTS))
def test_summary_matches_official_parameter_counts_without_data(cli_in_process, tmp_path, preset):
    result = cli_in_process("summary", f"experiment={preset}", "format=json", cwd=tmp_path, env={"GAN_ZOO_DATA": str(tmp_path / "nothing")})
    counts = json.loads(result.stdout.strip().splitlines()[-1])["networks"]
    assert {name: c["trainable"] for name, c in counts.items()} == OFFICIAL_COUNTS[preset]
    assert "trainable" in result.stdout.splitlines()[1]


@pytest.mark.parametrize("experiment", SMOKE_EXPERIMENTS)
def test_smoke_experiment_writes_the_output_contract(smoke_run, experiment):
    run = smoke_run(experiment)
    resolved = OmegaConf.load(run / ".hydra/config.yaml")
    checkpoint = torch.load(run / "checkpoints/last.ckpt", weights_only=True)
    assert checkpoint["gan_zoo"]["cur_nimg"] >= resolved.total_kimg * 1000
    assert checkpoint["gan_zoo"]["experiment"] == experiment
    assert len(list((run / "checkpoints").glob("kimg*.ckpt"))) >= 1
    grids = sorted((run / "samples").glob("*.png"))
    assert len(grids) >= 3
    final = np.asarray(Image.open(grids[-1]), dtype=np.float32)
    assert final.shape[0] >= resolved.data.resolution and final.std() > 10, "the last sample grid is blank"
    assert {"step", "progress/kimg"} <= set((run / "csv/version_0/metrics.csv").read_text().splitlines()[0].split(","))


def test_missing_data_is_one_line_error_saying_how_to_prepare(cli_in_process, tmp_path):
    result = cli_in_process(
        "train",
        "model=pggan",
        "data=ffhq",
        "trainer=cpu",
        f"hydra.run.dir={tmp_path / 'run'}",
        env={"GAN_ZOO_DATA": str(tmp_path / "data")},
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(tmp_path / "data" / "ffhq") in result.stderr and "ffhq-dataset" in result.stderr


def test_model_resolution_that_does_not_match_data_is_refused(cli_in_process, tmp_path):
    result = cli_in_process("train", "experiment=smoke/pggan", "model.resolution=64", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, check=False)
    assert result.returncode == 2 and "model.resolution=64" in result.stderr and "data.resolution=32" in result.stderr


@pytest.mark.parametrize("experiment", SMOKE_EXPERIMENTS)
def test_every_family_trains_under_bf16_autocast_on_cpu(experiment, cli_in_process, tmp_path):
    # trainer.precision=bf16-mixed: the convolutions run in bfloat16 (on CPUs with AMX or AVX-512 BF16
    # several times faster), the weights, optimizer states, running averages (w_avg, ADA's p, the
    # path-length mean) and losses of the penalties stay float32.
    run = tmp_path / "run"
    overrides = ["trainer.precision=bf16-mixed", "total_kimg=0.016", "callbacks.samples.every_kimg=null", f"hydra.run.dir={run}"]
    cli_in_process("train", f"experiment={experiment}", *overrides, cwd=tmp_path)
    state = torch.load(run / "checkpoints/last.ckpt", weights_only=True)["state_dict"]
    floats = {k: v for k, v in state.items() if v.is_floating_point()}
    assert floats and all(v.dtype == torch.float32 for v in floats.values())
    assert all(torch.isfinite(v).all() for v in floats.values())
