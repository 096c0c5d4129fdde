"""Parity with torch-fidelity 0.4.0 and torchmetrics 1.9.0 on the same images and the same weights file.

The file is a random Inception in the torch-fidelity state-dict format (the reference weights cannot
be downloaded here), loaded by all three. Documented protocol differences, and how each test
accounts for them:
* covariance: gan-zoo's StyleGAN protocol divides by N (NVIDIA), torch-fidelity/torchmetrics by N-1:
  the parity runs use ddof=1;
* resize: torchmetrics defaults to antialias=True (not TF1); with antialias=False its extractor is
  torch-fidelity's, so torchmetrics is given torch-fidelity's features and compared on the statistics;
* uint8 input: gan-zoo rounds [-1,1] floats like NVIDIA; here every implementation gets the same uint8;
* BatchNorm folding in gan-zoo's network changes features by ~1e-6 relative;
* KID subsets: torch-fidelity draws them with RandomState(seed), fake then real, as gan-zoo does;
  torchmetrics uses torch.randperm, so it is compared with subsets as large as the sets (order-free);
* IS: torch-fidelity shuffles before splitting unless samples_shuffle=False; torchmetrics always
  shuffles, so it is compared with one split (order-free). Both use logits without the fc bias.
"""

import numpy as np
import pytest
import torch
from torch import nn

from gan_zoo.features.extractors import InceptionFeatures
from gan_zoo.metrics.frechet import frechet_distance_to_features, mean_cov
from gan_zoo.metrics.inception_score import inception_score
from gan_zoo.metrics.kid import kernel_inception_distance
from tests.unit.metrics_support import write_inception_weights

N = 10  # images per set: enough for non-trivial statistics, few enough for a CPU test


def _images(seed: int, shift: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(N, 3, 4, 4, generator=g) * 200 + shift
    smooth = torch.nn.functional.interpolate(coarse, size=16, mode="bilinear", align_corners=False)
    return (smooth + torch.randn(N, 3, 16, 16, generator=g) * 10).clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # restored below: the worker's later tests compare values computed on one thread
    path, digest = write_inception_weights(tmp_path_factory.mktemp("weights"))
    reals, fakes = _images(0, 0), _images(1, 30)
    ours = InceptionFeatures(path, digest)
    theirs = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(path))
    spatial = []  # sFID's layer, TF mixed_6/conv = torch-fidelity's Mixed_6d.branch1x1 (first 7 channels)
    theirs.Mixed_6d.branch1x1.register_forward_hook(lambda module, args, output: spatial.append(output[:, :7].flatten(1)))
    with torch.no_grad():
        features = {
            "ours": {name: ours(images, ("pool3", "logits_unbiased", "spatial")) for name, images in (("real", reals), ("fake", fakes))},
            "tf": {name: dict(zip(("pool3", "logits_unbiased"), theirs(images), strict=True)) for name, images in (("real", reals), ("fake", fakes))},
        }
    features["tf"]["real"]["spatial"], features["tf"]["fake"]["spatial"] = spatial
    torch.set_num_threads(threads)
    return {"path": path, "reals": reals, "fakes": fakes, "features": features}


def test_inception_features_match_torch_fidelity(setup):
    assert setup["features"]["ours"]["real"]["spatial"].shape == (N, 7 * 17 * 17)
    for side in ("real", "fake"):
        ours, theirs = setup["features"]["ours"][side], setup["features"]["tf"][side]
        for layer in ("pool3", "logits_unbiased", "spatial"):
            scale = theirs[layer].abs().max()
            assert (ours[layer] - theirs[layer]).abs().max() <= 1e-5 * scale


def test_fid_matches_torch_fidelity(setup):
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    tf = setup["features"]["tf"]
    reference = fid_statistics_to_metric(fid_features_to_statistics(tf["fake"]["pool3"]), fid_features_to_statistics(tf["real"]["pool3"]), verbose=False)[
        "frechet_inception_distance"
    ]
    ours = setup["features"]["ours"]
    mu, sigma = mean_cov(ours["real"]["pool3"], ddof=1)
    assert frechet_distance_to_features(ours["fake"]["pool3"], mu, sigma, ddof=1) == pytest.approx(reference, rel=1e-4)
    # The StyleGAN protocol (population covariance) differs, as documented, by a visible amount at N=10.
    mu0, sigma0 = mean_cov(ours["real"]["pool3"], ddof=0)
    assert frechet_distance_to_features(ours["fake"]["pool3"], mu0, sigma0, ddof=0) != pytest.approx(reference, rel=1e-3)


class _Given(nn.Module):
    """A torchmetrics 'feature extractor' that passes precomputed features through."""

    def __init__(self, num_features: int = 2048) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def test_fid_matches_torchmetrics(setup):
    from torchmetrics.image.fid import FrechetInceptionDistance

    # torchmetrics' own extractor is torch-fidelity's (compared above, with antialias=False for the
    # TF1 resize); its features are passed through so that this test adds only the statistics, on the
    # first 256 dimensions: its eigvals of a 2048² matrix alone would take minutes on a busy 2-core CPU.
    dims = 256
    tf = setup["features"]["tf"]
    fid = FrechetInceptionDistance(feature=_Given(dims))
    fid.update(tf["real"]["pool3"][:, :dims], real=True)
    fid.update(tf["fake"]["pool3"][:, :dims], real=False)
    reference = float(fid.compute())
    ours = setup["features"]["ours"]
    mu, sigma = mean_cov(ours["real"]["pool3"][:, :dims], ddof=1)
    assert frechet_distance_to_features(ours["fake"]["pool3"][:, :dims], mu, sigma, ddof=1) == pytest.approx(reference, rel=1e-4)


def test_kid_matches_torch_fidelity_and_torchmetrics(setup):
    from torch_fidelity.metric_kid import kid_features_to_metric
    from torchmetrics.image.kid import KernelInceptionDistance

    tf, ours = setup["features"]["tf"], setup["features"]["ours"]
    reference = kid_features_to_metric(tf["fake"]["pool3"], tf["real"]["pool3"], kid_subsets=7, kid_subset_size=6, rng_seed=2020, verbose=False)
    mean, std = kernel_inception_distance(ours["fake"]["pool3"], ours["real"]["pool3"], num_subsets=7, max_subset_size=6, seed=2020)
    assert mean == pytest.approx(reference["kernel_inception_distance_mean"], rel=1e-4)
    assert std == pytest.approx(reference["kernel_inception_distance_std"], rel=1e-3)
    kid = KernelInceptionDistance(feature=_Given(), subsets=2, subset_size=N)
    kid.update(tf["real"]["pool3"], real=True)
    kid.update(tf["fake"]["pool3"], real=False)
    full, _ = kernel_inception_distance(ours["fake"]["pool3"], ours["real"]["pool3"], num_subsets=2, max_subset_size=N)
    assert full == pytest.approx(float(kid.compute()[0]), rel=1e-4)


def test_inception_score_matches_torch_fidelity_and_torchmetrics(setup):
    from torch_fidelity.metric_isc import isc_features_to_metric
    from torchmetrics.image.inception import InceptionScore

    tf = setup["features"]["tf"]["fake"]["logits_unbiased"]
    ours = setup["features"]["ours"]["fake"]["logits_unbiased"]
    reference = isc_features_to_metric(tf, splits=2, shuffle=False)
    mean, std = inception_score(ours, splits=2)
    assert mean == pytest.approx(reference["inception_score_mean"], rel=1e-4)
    assert std == pytest.approx(reference["inception_score_std"], rel=1e-3, abs=1e-6)
    metric = InceptionScore(feature=_Given(), splits=1)
    metric.update(tf.double())
    assert inception_score(ours, splits=1)[0] == pytest.approx(float(metric.compute()[0]), rel=1e-4)
    assert np.isfinite(mean)
