"""Every option of every config group composes, and the objects it names can be built."""

import importlib
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.models.base import GANModule
from gan_zoo.models.projected_gan.backbones import BACKBONES
from gan_zoo.registry import list_models
from gan_zoo.training.build import build_module, build_trainer

CONF = Path(CONFIG_DIR)
BASE = ["model=pggan", "data=shapes", "paths.output_dir=/tmp/gan-zoo-compose"]


def options(group: str) -> list[str]:
    return sorted(str(p.relative_to(CONF / group).with_suffix("")) for p in (CONF / group).rglob("*.yaml"))


def compose_train(overrides: list[str], hydra_config: bool = False):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=hydra_config)


GROUP_OPTIONS = [(group, option) for group in ("model", "data", "trainer", "callbacks", "logger", "debug", "paths") for option in options(group)]


@pytest.mark.parametrize(("group", "option"), GROUP_OPTIONS, ids=[f"{g}={o}" for g, o in GROUP_OPTIONS])
def test_every_group_option_composes_and_resolves(group, option):
    cfg = compose_train([*BASE, f"{group}={option}"])
    cfg.paths.output_dir = "/tmp/gan-zoo-compose"
    OmegaConf.to_container(cfg, resolve=True)


@pytest.mark.parametrize("experiment", options("experiment"))
def test_every_experiment_composes_and_builds_its_data_module(experiment):
    cfg = compose_train([f"experiment={experiment}", "paths.output_dir=/tmp/gan-zoo-compose"])
    OmegaConf.to_container(cfg, resolve=True)
    datamodule = instantiate(cfg.data, _convert_="all")
    assert datamodule.resolution == cfg.data.resolution


@pytest.mark.parametrize("demo", [o for o in options("experiment") if o.startswith("demo/")])
def test_a_demo_preset_trains_the_family_it_is_named_after(demo):
    """README "Demos" runs `experiment=demo/<family>`: the preset must build that family's module."""
    cfg = compose_train([f"experiment={demo}", "paths.output_dir=/tmp/gan-zoo-compose"])
    module = build_module(cfg)
    assert module.family == demo.removeprefix("demo/")


@pytest.mark.parametrize("launcher", options("launcher"))
def test_every_launcher_overrides_hydras_launcher(launcher):
    cfg = compose_train([*BASE, f"launcher={launcher}"], hydra_config=True)
    expected = {"local": "BasicLauncher", "joblib": "JoblibLauncher", "slurm": "SlurmLauncher"}[launcher]
    assert cfg.hydra.launcher._target_.endswith(expected)


@pytest.mark.parametrize("trainer", options("trainer"))
def test_trainer_configs_build_a_trainer_or_need_gpus(trainer):
    cfg = compose_train([*BASE, f"trainer={trainer}"])
    cfg.trainer.default_root_dir = "/tmp/gan-zoo-compose"
    if cfg.trainer.accelerator == "gpu":
        pytest.skip("needs a GPU to build")
    trainer_obj = build_trainer(cfg, logger=False)
    assert trainer_obj.max_epochs == -1


@pytest.mark.parametrize("logger", [o for o in options("logger")])
def test_logger_configs_build(logger, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = compose_train([*BASE, f"logger={logger}"])
    for entry in (cfg.logger or {}).values():
        entry.save_dir = str(tmp_path)
        instantiate(entry)


@pytest.mark.parametrize("family", list_models())
def test_a_model_config_names_its_family_class_and_folder(family):
    """conf/model/<family>.yaml is the registry: its `_target_` is a GANModule in gan_zoo/models/<family>/."""
    module_class = get_class(OmegaConf.load(CONF / "model" / f"{family}.yaml")._target_)
    assert issubclass(module_class, GANModule)
    assert module_class.__module__.startswith(f"gan_zoo.models.{family}.") and module_class.family == family
    if module_class.generate_module is not None:
        assert callable(importlib.import_module(module_class.generate_module).run)


def test_every_yaml_knob_of_model_configs_has_a_comment():
    for path in (CONF / "model").glob("*.yaml"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if ":" in stripped and not stripped.startswith("#") and not stripped.endswith(":") and "${" not in stripped:
                key = stripped.split(":")[0]
                if key != "_target_":
                    assert "#" in line, f"{path.name}: '{stripped}' has no comment"


BACKBONE_WEIGHTS = [
    ("paper/projected_gan_fastgan_lite256", "model.backbone_weights", ["tf_efficientnet_lite0"]),
    ("paper/stylegan_xl_imagenet16", "model.discriminator.backbone_weights", sorted(BACKBONES)),
]


@pytest.mark.parametrize(("experiment", "key", "names"), BACKBONE_WEIGHTS, ids=[b[0] for b in BACKBONE_WEIGHTS])
def test_backbone_weights_take_a_file_per_backbone_without_a_plus(experiment, key, names):
    """README: `model.backbone_weights.<name>=PATH`. Every backbone the family can use is declared (null:
    the cache lookup), so the override composes as written; a key Hydra does not know would need `+`."""
    cfg = compose_train([f"experiment={experiment}", "paths.output_dir=/tmp/gan-zoo-compose"])
    assert sorted(OmegaConf.select(cfg, key)) == sorted(names)
    assert all(OmegaConf.select(cfg, f"{key}.{name}") is None for name in names)
    for name in names:
        cfg = compose_train([f"experiment={experiment}", f"{key}.{name}=/weights/model.safetensors", "paths.output_dir=/tmp/gan-zoo-compose"])
        assert OmegaConf.select(cfg, f"{key}.{name}") == "/weights/model.safetensors"
