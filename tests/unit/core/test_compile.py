"""`model.compile` for every family: the smoke presets' networks compile in place, train, and sample
what the uncompiled networks sample.

The backend is `aot_eager`: dynamo and AOTAutograd trace forward and backward as with the default
inductor, without generating code, so a CPU run stays cheap. Each family trains two real steps
through Lightning from step 0, where every phase runs (R1, WGAN-GP and path length too: their
double backward is what AOTAutograd cannot compile). One case per family of the config tree
(conf/model/*.yaml); a family without a case fails `test_every_family_has_a_compile_case`.
Graph breaks per network: benchmarks/compile.md.
"""

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import torch._dynamo
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from torch import Tensor, nn
from torch._C._dynamo.eval_frame import _debug_get_cache_entry_list
from torch._dynamo.utils import counters

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.errors import ConfigError
from gan_zoo.models.base import GANModule, cycled_labels
from gan_zoo.training.build import build_datamodule, build_module, build_trainer

CONF_MODELS = Path(__file__).resolve().parents[3] / "conf" / "model"
SEEDS = [0, 1, 2, 3]


def _latents(module: GANModule, z_dim: int) -> Tensor:
    return module.latents_from_seeds(SEEDS, z_dim)


def _generated(module: GANModule) -> Tensor:
    """G_ema's images for the seeds (the families whose `generate` takes z and class labels)."""
    classes = getattr(module, "c_dim", None)
    labels = cycled_labels(SEEDS, None, getattr(module, "label_size", 0) if classes is None else classes)
    torch.manual_seed(0)  # FastGAN's noise inputs come from the global RNG
    return module.generate(_latents(module, module.G.z_dim), labels)


def _label_map_images(module: GANModule) -> Tensor:
    segmap = torch.arange(32 * 32).reshape(1, 32, 32).expand(len(SEEDS), -1, -1) // 205  # five bands of labels
    return module.generate(segmap, segmap, _latents(module, module.z_dim))


def _translations(module: GANModule) -> Tensor:
    sources = torch.rand(len(SEEDS), 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return module.translate(sources, module.latent_styles(_latents(module, module.latent_dim), torch.tensor(SEEDS) % module.num_domains))


@dataclass(frozen=True)
class CompileCase:
    images: Callable[[GANModule], Tensor]  # G_ema's float images for fixed inputs, through the family's sampling
    overrides: tuple[str, ...] = ()  # beyond experiment=smoke/<family>: what makes every regulariser run


CASES = {
    "pggan": CompileCase(_generated),
    "stylegan": CompileCase(_generated),
    "stylegan2": CompileCase(_generated),
    "stylegan3": CompileCase(_generated),
    "spade": CompileCase(_label_map_images),
    "stargan_v2": CompileCase(_translations),
    "projected_gan": CompileCase(_generated),
    "stylegan_xl": CompileCase(_generated, ("model.loss.pl_start_kimg=0",)),  # path length from the first step
}


@pytest.fixture(autouse=True)
def _fresh_dynamo() -> Iterator[None]:
    # Each test compiles from nothing: no graphs cached by an earlier family, no recompile limit half used
    # (and the growing families' raised limit does not outlive their test).
    torch._dynamo.reset()
    counters.clear()
    with torch._dynamo.config.patch(recompile_limit=torch._dynamo.config.recompile_limit):
        yield


def smoke_config(family: str, tmp_path, *overrides: str) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=[f"experiment=smoke/{family}", *CASES[family].overrides, *overrides, f"paths.output_dir={tmp_path}"])


def forward_was_compiled(network: nn.Module) -> bool:
    """Whether dynamo holds compiled code for the network's forward (its cache is per code object)."""
    return len(_debug_get_cache_entry_list(type(network).forward.__code__)) > 0


def test_every_family_has_a_compile_case():
    assert sorted(CASES) == sorted(p.stem for p in CONF_MODELS.glob("*.yaml"))


@pytest.mark.parametrize("family", sorted(CASES))
def test_compiled_module_trains_two_steps_without_unexpected_graph_breaks(family, tmp_path):
    cfg = smoke_config(family, tmp_path, "model.compile=aot_eager")
    torch.manual_seed(0)
    module = build_module(cfg)
    module.total_nimg = 2 * module.global_batch_size()  # two steps
    trainer = build_trainer(cfg, callbacks=[], logger=False, enable_progress_bar=False)
    trainer.fit(module, datamodule=build_datamodule(cfg))

    assert int(module.step_count) == 2
    for network in module.compiled_networks():
        assert network._compiled_call_impl is not None and forward_was_compiled(network), type(network).__name__
    # The one break left on purpose: the projected discriminator's fading blur (StyleGAN-XL) runs outside its graph.
    assert [reason for reason in counters["graph_break"] if "blur_images" not in reason] == []
    losses = {name: float(value) for name, value in trainer.callback_metrics.items() if name.startswith("loss/")}
    assert {f"loss/{phase.name}" for phase in module.phases()} <= set(losses)  # every phase ran (all do at step 0)
    assert all(math.isfinite(value) for value in losses.values()), losses


@pytest.mark.parametrize("family", sorted(CASES))
def test_compiled_module_samples_what_the_uncompiled_one_does(family, tmp_path):
    modules = {}
    for backend in ("aot_eager", "false"):
        torch.manual_seed(0)
        modules[backend] = build_module(smoke_config(family, tmp_path, f"model.compile={backend}"))
        modules[backend].setup("fit")
    compiled, plain = modules["aot_eager"], modules["false"]
    assert compiled.state_dict().keys() == plain.state_dict().keys()  # compiled in place: the same checkpoints
    torch.testing.assert_close(CASES[family].images(compiled), CASES[family].images(plain))
    sampling_networks = [n for n in compiled.compiled_networks() if any(n is m for m in compiled.G_ema.modules())]
    assert sampling_networks and all(forward_was_compiled(n) for n in sampling_networks)
    assert not counters["graph_break"], list(counters["graph_break"])


@pytest.mark.parametrize("value", ["no_such_backend", "True", 1])
def test_unknown_backend_is_refused_with_the_value_and_the_backends(value):
    with pytest.raises(ConfigError, match=rf"model.compile={value!r}.*aot_eager.*inductor"):
        GANModule(compile=value)


def test_true_means_inductor_and_a_name_its_backend():
    assert GANModule(compile=True).compile_backend == "inductor"
    assert GANModule(compile="aot_eager").compile_backend == "aot_eager"
    assert GANModule(compile=False).compile_backend is None
