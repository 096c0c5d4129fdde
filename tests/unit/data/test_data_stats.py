"""`gan-zoo data stats`: real statistics computed once into the cache that training and `gan-zoo eval` read."""

import pytest

from gan_zoo.data import ImageFolderDataset
from gan_zoo.data.prepare import prepare_dataset
from gan_zoo.metrics import MetricEvaluator, MetricOptions
from tests.unit.data_sources import write_cifar10
from tests.unit.metrics_support import TinyModule, write_inception_weights


@pytest.fixture(scope="module")
def inception(tmp_path_factory):
    return write_inception_weights(tmp_path_factory.mktemp("weights"))


def test_stats_fill_the_cache_that_a_later_evaluation_hits(cli_in_process, inception, tmp_path):
    write_cifar10(tmp_path / "cifar-10-python.tar.gz", per_batch=1)
    zip_path = prepare_dataset(tmp_path / "cifar-10-python.tar.gz", tmp_path / "data" / "cifar10.zip", workers=0, progress=False).dest
    weights, digest = inception
    args = [
        "data",
        "stats",
        "data=cifar10",
        "metrics=[fid50k_full,is10]",
        f"weights.inception={weights}",
        f"weights_sha256.inception={digest}",
        f"cache_dir={tmp_path / 'cache'}",
        "num_workers=0",
        "batch_size=5",
        "device=cpu",
    ]
    env = {"GAN_ZOO_DATA": str(tmp_path / "data")}
    first = cli_in_process(*args, env=env).stdout
    assert "fid50k_full: 5 real images, computed and cached" in first and "is10: no cached real statistics" in first
    assert "fid50k_full: 5 real images, already cached" in cli_in_process(*args, env=env).stdout
    # The training callback and gan-zoo eval run this evaluator on the data set the preset builds.
    options = MetricOptions(weights={"inception": str(weights)}, weights_sha256={"inception": digest}, cache_dir=str(tmp_path / "cache"), batch_size=5)
    dataset = ImageFolderDataset(zip_path, resolution=32, use_labels=True)
    (result,) = MetricEvaluator(["fid2_full"], options).evaluate(TinyModule(resolution=32), dataset)
    assert result.card["real_cache"] == "hit" and result.card["num_real"] == 5


def test_stats_without_a_data_set_say_how_to_choose_one(cli_in_process, tmp_path):
    result = cli_in_process("data", "stats", "metrics=[fid50k_full]", cwd=tmp_path, check=False)
    assert result.returncode == 2 and "no data set chosen: pass data=<name>" in result.stderr


def test_data_command_lists_its_actions_and_refuses_others(cli_in_process, tmp_path):
    assert all(action in cli_in_process("data", "--help", cwd=tmp_path).stdout for action in ("prepare", "check", "stats"))
    unknown = cli_in_process("data", "prepair", cwd=tmp_path, check=False)
    assert unknown.returncode == 2 and "unknown action 'prepair'" in unknown.stderr
    assert "source" in cli_in_process("data", "prepare", "--cfg", "job", cwd=tmp_path).stdout
