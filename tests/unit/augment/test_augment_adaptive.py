"""AdaptiveAugment: exact p steps, clamping, DDP reduction, resume state, configs, and a tiny run."""

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

from gan_zoo.augment import AdaptiveAugment, AugmentPipe, augment_from_config, build_augment

CONF = Path(__file__).resolve().parents[3] / "conf" / "augment"


@pytest.fixture(autouse=True)
def one_thread():
    # These tensors are tiny: with two threads on a busy machine, thread hand-offs cost 20x the work.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def controller(p=0.0, **kwargs):
    pipe = AugmentPipe.from_preset("bgc", p=p)
    return pipe, AdaptiveAugment(pipe, **kwargs)


def test_p_rises_by_the_exact_step_when_d_is_confident_on_reals():
    pipe, ada = controller(target=0.6, ada_kimg=500, interval=4)
    ada.accumulate(torch.full((32, 1), 3.0))
    assert ada.update(global_batch=32) == 1.0
    step = torch.tensor(32 * 4 / 500_000, dtype=torch.float32)
    assert torch.equal(pipe.p, step) and torch.equal(ada.p, pipe.p)
    assert float(ada.rt) == 1.0 and int(ada.count) == 0 and int(ada.sign_sum) == 0  # sums reset


def test_p_falls_when_d_is_unsure_and_is_clamped_at_zero():
    pipe, ada = controller(p=0.001, ada_kimg=500, interval=4)
    ada.accumulate(-torch.ones(64))
    ada.update(global_batch=64)
    assert torch.equal(pipe.p, torch.tensor(0.001, dtype=torch.float32) - torch.tensor(64 * 4 / 500_000))
    for _ in range(3):
        ada.accumulate(-torch.ones(64))
        ada.update(global_batch=64)
    assert float(pipe.p) == 0.0 and float(ada.rt) == -1.0


def test_rt_is_the_mean_sign_and_interval_steps_scale_the_step():
    pipe, ada = controller(target=0.6, ada_kimg=1, interval=4)
    ada.accumulate(torch.tensor([1.0, 1.0, 1.0, -1.0]))  # r_t = 0.5 < 0.6
    ada.accumulate(torch.tensor([2.0, 0.0]))  # sign 0 counts in the mean
    assert ada.update(global_batch=10, interval_steps=2) == pytest.approx(3 / 6)
    assert float(pipe.p) == 0.0  # fell from 0: clamped
    ada.accumulate(torch.ones(4))
    ada.update(global_batch=10, interval_steps=2)
    assert float(pipe.p) == pytest.approx(10 * 2 / 1000)


def test_nothing_accumulated_means_no_change_and_due_follows_the_interval():
    pipe, ada = controller(p=0.3, interval=4)
    assert ada.update(global_batch=32) is None and float(pipe.p) == pytest.approx(0.3)
    assert [ada.due(s) for s in range(6)] == [True, False, False, False, True, False]


def test_reduce_function_sees_the_stats_of_all_ranks():
    pipe, ada = controller()
    ada.accumulate(-torch.ones(8))  # this rank alone says "not overfitting"
    others = torch.tensor([24, 24])  # the other ranks: 24 positive signs
    seen = []

    def all_reduce(stats):
        seen.append(stats.clone())
        return stats + others

    assert ada.update(global_batch=32, reduce=all_reduce) == pytest.approx(16 / 32)
    assert seen[0].tolist() == [-8, 8] and seen[0].dtype == torch.long


def test_state_survives_a_state_dict_round_trip_inside_a_model():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.augment_pipe, self.ada = controller()

    model = Model()
    model.ada.accumulate(torch.ones(12))
    model.ada.update(global_batch=12)
    model.ada.accumulate(torch.tensor([1.0, -1.0, 1.0]))  # mid-interval sums must survive too
    state = model.state_dict()
    assert set(state) == {"augment_pipe.p", "ada.sign_sum", "ada.count", "ada.rt"}  # p saved once
    restored = Model()
    restored.load_state_dict(torch.load(_roundtrip(state), weights_only=True))
    assert torch.equal(restored.augment_pipe.p, model.augment_pipe.p) and restored.ada.p is restored.augment_pipe.p
    assert int(restored.ada.sign_sum) == 1 and int(restored.ada.count) == 3 and float(restored.ada.rt) == 1.0


def _roundtrip(state):
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return buffer


def test_modes_build_what_they_name_and_refuse_bad_ones():
    assert build_augment("noaug") == (None, None)
    pipe, ada = build_augment("fixed", p=0.2, preset="bgcfnc", overrides={"rotate90": 0})
    assert ada is None and float(pipe.p) == pytest.approx(0.2) and pipe.multipliers["rotate90"] == 0
    pipe, ada = build_augment("ada", ada_kimg=100)
    assert ada.pipe is pipe and ada.ada_kimg == 100 and float(pipe.p) == 0
    with pytest.raises(ValueError, match="noaug, ada, fixed"):
        build_augment("adaptive")
    with pytest.raises(ValueError, match="model.aug.p"):
        build_augment("fixed", p=0.0)


@pytest.mark.parametrize("mode", ["noaug", "ada", "fixed"])
def test_conf_files_instantiate_and_build_through_the_model_path(mode):
    cfg = OmegaConf.load(CONF / f"{mode}.yaml")
    if mode == "fixed":
        cfg.p = 0.3
    assert cfg.mode == mode
    built = instantiate(cfg)
    plain = augment_from_config(OmegaConf.to_container(cfg, resolve=True))  # what a module receives
    assert (built.pipe is None) == (plain.pipe is None) == (mode == "noaug")
    assert (plain.controller is not None) == (mode == "ada")


def test_d_overfitting_a_tiny_set_drives_p_up_by_exact_steps():
    # 8 fixed reals vs fresh noise: D separates them at once, r_t -> 1, so p must rise from 0.
    torch.manual_seed(0)
    reals = torch.nn.functional.interpolate(torch.rand(8, 3, 4, 4) * 2 - 1, size=16, mode="bilinear")
    D = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(16, 16, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(16 * 16, 1))
    opt = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.0, 0.99))
    pipe = AugmentPipe.from_preset("bgc", p=0.0)
    ada = AdaptiveAugment(pipe, target=0.6, ada_kimg=0.2, interval=2)  # fast: 200 images move p by 1
    history = []
    for step in range(80):
        if ada.due(step):
            ada.update(global_batch=8)
            history.append(float(pipe.p))
        fakes = torch.randn(8, 3, 16, 16) * 0.5
        real_logits = D(pipe(reals))
        ada.accumulate(real_logits)
        loss = nn.functional.softplus(-real_logits).mean() + nn.functional.softplus(D(pipe(fakes))).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert history[0] == 0.0 and max(history) > 0.3  # rose by many exact steps
    steps = {round(b - a, 6) for a, b in zip(history, history[1:]) if b > 0 and a > 0}
    assert steps <= {round(8 * 2 / 200, 6), round(-8 * 2 / 200, 6)}
