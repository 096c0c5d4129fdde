"""GANModule mechanics: EMA schedules, lazy regularisation, RNG capture, per-rank random numbers."""

import random

import numpy as np
import pytest
import torch

from gan_zoo.models.base import GANModule, _capture_rng_states, _restore_rng_states, lazy_regularization_adam_kwargs


def test_lazy_regularization_rescales_lr_and_betas():
    kwargs = lazy_regularization_adam_kwargs(0.002, (0.0, 0.99), 16)
    assert kwargs["lr"] == pytest.approx(0.002 * 16 / 17)
    assert kwargs["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    assert lazy_regularization_adam_kwargs(0.002, (0.0, 0.99), None) == {"lr": 0.002, "betas": (0.0, 0.99)}


def test_ema_beta_half_life_with_rampup():
    module = GANModule(ema={"half_life_kimg": 10, "rampup": 0.05})
    module.cur_nimg.fill_(100_000)
    # ema_nimg = min(10000, 100000 * 0.05 = 5000) -> beta = 0.5 ** (32 / 5000)
    assert module.ema_beta(32) == pytest.approx(0.5 ** (32 / 5000))
    module.cur_nimg.fill_(1_000_000)
    assert module.ema_beta(32) == pytest.approx(0.5 ** (32 / 10_000))
    assert GANModule(ema={"beta": 0.999}).ema_beta(32) == 0.999


def test_update_ema_lerps_parameters_and_copies_buffers():
    module = GANModule(ema={"beta": 0.75})
    module.G = torch.nn.BatchNorm1d(2)
    module.init_ema()
    with torch.no_grad():
        module.G.weight.fill_(2.0)
        module.G.running_mean.fill_(5.0)
    module.update_ema(8)
    assert torch.allclose(module.G_ema.weight, torch.full((2,), 0.75 * 1.0 + 0.25 * 2.0))
    assert torch.equal(module.G_ema.running_mean, module.G.running_mean)
    assert not any(p.requires_grad for p in module.G_ema.parameters())


def test_rng_states_round_trip_through_a_weights_only_checkpoint(tmp_path):
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    states = _capture_rng_states()
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.save({"rng": states}, tmp_path / "x.ckpt")
    loaded = torch.load(tmp_path / "x.ckpt", weights_only=True)["rng"]
    torch.rand(10), np.random.rand(10), random.random()
    _restore_rng_states(loaded)
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_per_rank_noise_is_the_interleaved_slice_of_the_global_draw(monkeypatch):
    module = GANModule()
    torch.manual_seed(0)
    full = torch.randn(8, 3)
    for rank in (0, 1):
        monkeypatch.setattr(GANModule, "world_size", property(lambda self: 2))
        monkeypatch.setattr(GANModule, "rank", property(lambda self, r=rank: r))
        torch.manual_seed(0)
        assert torch.equal(module.global_randn(4, 3), full[rank::2])


def test_plan_covers_the_remaining_images_in_whole_batches():
    module = GANModule()
    module.configure_run(total_kimg=1.0, batch_size=48, identity={})
    module.cur_nimg.fill_(96)
    assert module.plan_batches() == (96, 48, 19)  # ceil(904 / 48)
