"""NaN / inf gradients are handled as each family's official loop handles them, before every optimizer step.

NVlabs/stylegan3 training/training_loop.py (and stylegan-xl, projected-gan): `misc.nan_to_num(flat, nan=0,
posinf=1e5, neginf=-1e5)` on the phase's gradients. TF PGGAN (tfutil.py) and StyleGAN
(dnnlib/tflib/optimizer.py): `tf.cond(grad_ok, apply_gradients, no_op)`, no update at all. SPADE and
StarGAN v2 step on whatever the backward gave.
"""

import importlib
import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from torch import Tensor

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.models.base import GANModule
from gan_zoo.training.build import build_datamodule, build_module

CONF_MODELS = Path(__file__).resolve().parents[3] / "conf" / "model"
POLICIES = {
    "pggan": "skip_step",
    "stylegan": "skip_step",
    "stylegan2": "nan_to_num",
    "stylegan3": "nan_to_num",
    "stylegan_xl": "nan_to_num",
    "projected_gan": "nan_to_num",
    "spade": None,
    "stargan_v2": None,
}


def smoke(family: str, tmp_path: Path) -> tuple[GANModule, dict[str, Tensor]]:
    """The smoke preset's module, seeded, ready for `training_step` outside Lightning, and its first batch."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment=smoke/{family}", "data.batch_size=4", f"paths.output_dir={tmp_path}"])
    torch.manual_seed(0)
    module = build_module(cfg)
    module.configure_run(total_kimg=1, batch_size=4, identity={})
    datamodule = build_datamodule(cfg)
    if datamodule.num_classes:
        module.use_label_counts(datamodule.label_counts())
    optimizers = module.configure_optimizers()
    for optimizer in optimizers:
        optimizer.optimizer = optimizer  # what Lightning's wrapper exposes (the growing families reset Adam through it)
    module.trainer = SimpleNamespace(optimizers=optimizers, world_size=1, global_rank=0)
    module.optimizers = lambda: optimizers
    module.manual_backward = lambda loss: loss.backward()
    module.log_step = lambda: None
    start, per_rank, _ = module.plan_batches()
    batch = next(iter(datamodule.make_train_loader(start, per_rank, 1, rank=0, world_size=1)))
    return module, batch


def with_gradients(network: torch.nn.Module, first_three: tuple[float, float, float]) -> None:
    """Every gradient of every trainable parameter of `network` gets `first_three` as its first (up to) three
    elements (whichever parameters the step uses: a growing network's first layers wait for their resolution)."""

    def replace(grad: Tensor | None) -> Tensor | None:
        if grad is None:  # a branch of the graph that does not reach this parameter
            return None
        flat = grad.flatten().clone()
        n = min(3, flat.numel())
        flat[:n] = torch.tensor(first_three[:n], dtype=grad.dtype)
        return flat.reshape(grad.shape)

    for parameter in network.parameters():
        if parameter.requires_grad:
            parameter.register_hook(replace)


def test_every_family_states_its_official_policy():
    assert sorted(POLICIES) == sorted(p.stem for p in CONF_MODELS.glob("*.yaml"))
    for family, policy in POLICIES.items():
        module = importlib.import_module(f"gan_zoo.models.{family}.module")
        (cls,) = {c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, GANModule) and c.family == family}
        assert cls.nonfinite_gradients == policy, family


@pytest.mark.parametrize("family", ["stylegan2", "stylegan_xl", "projected_gan"])
def test_nan_and_inf_gradients_step_as_0_and_1e5(family, tmp_path):
    """A step with NaN, +inf, -inf in a gradient equals, bit for bit, the step with 0, 1e5, -1e5 there."""
    results = []
    for values in ((float("nan"), float("inf"), float("-inf")), (0.0, 1e5, -1e5)):
        module, batch = smoke(family, tmp_path)
        with_gradients(module.G, values)
        with_gradients(module.D, values)
        torch.manual_seed(1)
        module.training_step(batch, 0)
        results.append({k: v.clone() for k, v in module.state_dict().items()})
    bad, sanitised = results
    assert all(torch.isfinite(v).all() for v in bad.values() if v.is_floating_point())
    for key, value in sanitised.items():
        assert torch.equal(bad[key], value), key


@pytest.mark.parametrize("family", ["pggan", "stylegan"])
def test_a_nonfinite_gradient_skips_that_optimizer_step_and_nothing_else(family, tmp_path):
    module, batch = smoke(family, tmp_path)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with_gradients(module.D, (float("nan"), 1.0, 1.0))
    records = {}
    module.record = lambda name, value: records.__setitem__(name, value.detach().float().mean())
    module.training_step(batch, 0)

    after = module.state_dict()
    moved = [k for k in before if k.startswith("D.") and not torch.equal(after[k], before[k])]
    assert not moved, f"D moved on a NaN gradient: {moved}"
    assert not module.trainer.optimizers[1].state, "Adam's moments of D moved"
    assert any(not torch.equal(after[k], before[k]) for k in before if k.startswith("G.") and after[k].is_floating_point())
    assert float(records["overflow/D"]) == 1.0 and float(records["overflow/G"]) == 0.0


def test_finite_gradients_step_as_without_a_policy(tmp_path):
    """The policy is a no-op on finite gradients: StyleGAN2's step equals the step without one, bit for bit."""
    results = []
    for policy in ("nan_to_num", None):
        module, batch = smoke("stylegan2", tmp_path)
        module.nonfinite_gradients = policy
        torch.manual_seed(1)
        module.training_step(batch, 0)
        results.append(module.state_dict())
    for key, value in results[1].items():
        assert torch.equal(results[0][key], value), key
