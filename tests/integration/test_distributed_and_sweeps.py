"""DDP on two CPU processes equals one process on the same global batch; Hydra multirun sweeps."""

import csv
import json
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

TINY = [
    "experiment=smoke/pggan",
    "model.conditional=true",  # the fakes' classes too are drawn for the global batch and sliced per rank
    "data.resolution=8",
    "data.batch_size=8",
    "model.schedule.lod_training_kimg=0.02",
    "model.schedule.lod_transition_kimg=0.02",
    "model.discriminator.mbstd_group_size=4",
    "total_kimg=0.096",
    "callbacks.samples.every_kimg=null",
    "callbacks.checkpoint.every_kimg=null",
    "logger=csv",
]


def _with_metric(run: Path) -> list[str]:
    # rFID needs no weight file; each run has its own real-statistics cache, so the DDP run shards
    # and reduces the real images too instead of reading the single run's cache.
    return ["callbacks.metrics.names=[rfid16]", "callbacks.metrics.every_kimg=null", f"callbacks.metrics.cache_dir={run}/metric_cache"]


def test_ddp_sim_gives_the_numbers_of_one_process(cli, tmp_path):
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    cli("train", *TINY, *_with_metric(single), "trainer=cpu", f"hydra.run.dir={single}", cwd=tmp_path)
    cli("train", *TINY, *_with_metric(ddp), "trainer=ddp_sim", f"hydra.run.dir={ddp}", cwd=tmp_path)
    a = torch.load(single / "checkpoints/last.ckpt", weights_only=True)
    b = torch.load(ddp / "checkpoints/last.ckpt", weights_only=True)
    assert a["gan_zoo"]["cur_nimg"] == b["gan_zoo"]["cur_nimg"] == 96
    # Same images, same noise, same classes, same groups: the logged losses agree to float rounding (sums
    # over ranks are ordered differently from sums over one batch; after a few steps that is ~1e-5 relative)...
    rows = [list(csv.DictReader((run / "csv/version_0/metrics.csv").open())) for run in (single, ddp)]
    early = [(x, y) for x, y in zip(*rows, strict=True) if float(x["progress/kimg"]) <= 0.081]
    assert len(early) == 2
    for x, y in early:
        for key in ("loss/D_main", "loss/G_main", "loss/D_label", "loss/gradient_penalty", "scores/real", "scores/fake"):
            assert float(x[key]) == pytest.approx(float(y[key]), rel=5e-5, abs=1e-6), key
    # ...and so do the weights, up to what Adam makes of rounding noise in near-zero gradients
    # (g / sqrt(v) is +-1 whatever the size of g: at most a few lr-sized steps).
    differences = {key: (a["state_dict"][key] - b["state_dict"][key]).abs().max().item() for key in a["state_dict"] if a["state_dict"][key].is_floating_point()}
    assert max(differences.values()) < 3 * 0.002
    assert a["state_dict"]["G.blocks.0.conv.weight"].abs().sum() > 0
    # The metrics callback ran inside the 2-process fit: one line (written by rank 0 only), the same
    # samples, and the value of one process up to those last-bit weight differences.
    lines = [[json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()] for run in (single, ddp)]
    assert [len(x) for x in lines] == [1, 1]
    (one,), (two,) = lines
    assert one["metric"] == two["metric"] == "rfid16" and one["kimg"] == two["kimg"]
    assert {k: one["card"][k] for k in ("num_gen", "num_real", "seed")} == {k: two["card"][k] for k in ("num_gen", "num_real", "seed")}
    assert two["values"]["rfid16"] == pytest.approx(one["values"]["rfid16"], rel=2e-2)


@pytest.mark.parametrize("launcher", ["local", "joblib"])
def test_multirun_gives_each_job_its_own_directory(cli, tmp_path, launcher):
    sweep = tmp_path / "sweep"
    cli("train", "-m", *TINY, "trainer=cpu", "seed=1,2", f"launcher={launcher}", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
    assert [p.name for p in jobs] == ["0", "1"]
    weights = [torch.load(job / "checkpoints/last.ckpt", weights_only=True)["state_dict"]["G.blocks.0.conv.weight"] for job in jobs]
    assert not torch.equal(*weights)  # different seeds, different runs
    assert all((job / ".hydra/config.yaml").is_file() for job in jobs)
