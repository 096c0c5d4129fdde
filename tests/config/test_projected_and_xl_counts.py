"""The Projected GAN and StyleGAN-XL presets build the official networks: their parameter counts as
`gan-zoo summary` reports them, in-process and on the meta device (shapes only, no weight files).

The expected counts were computed by building the official networks with their `train.py` kwargs:
autonomousvision/projected-gan `pg_modules/networks_fastgan.py` Generator (`--cfg fastgan|fastgan_lite`) and
`pg_modules/discriminator.py` ProjectedDiscriminator(diffaug=True, backbone_kwargs=dict(cout=64, expand=True,
proj_type=2, num_discs=4, separable=False, cond=0)); autonomousvision/stylegan-xl
`training/networks_stylegan3_resetting.py` Generator (16² stem: `--cfg=stylegan3-t --syn_layers 10`, cbase and
cmax doubled to 65536/1024) and one SuperresGenerator(head_layers=7, up_factor=2) per stage (pokemon: the README's
small-data stem, `--cbase 16384 --cmax 256 --syn_layers 7`, unconditional), and
`pg_modules/discriminator.py` ProjectedDiscriminator(backbones=[deit_base_distilled_patch16_224,
tf_efficientnet_lite0], backbone_kwargs=dict(cout=64, expand=True, proj_type=2, num_discs=4, cond=1))."""

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.summary import summarize

# Trainable parameters: frozen feature networks, random projections and (in super-resolution
# stages) the frozen stem layers are not counted.
TRAINABLE = {
    "paper/projected_gan_fastgan_lite256": {"G": 79_354_307, "D": 10_331_328},
    "paper/projected_gan_fastgan256": {"G": 105_684_175, "D": 10_331_328},
    "paper/stylegan_xl_imagenet16": {"G": 101_883_463, "D": 27_515_776},
}

# G in total per ImageNet stage (stem + grown heads, 7 layers per stage), and the small-data stem.
G_TOTAL = {
    "paper/stylegan_xl_imagenet16": 101_883_463,
    "paper/stylegan_xl_imagenet32": 151_701_063,
    "paper/stylegan_xl_imagenet64": 201_518_663,
    "paper/stylegan_xl_imagenet128": 225_850_243,
    "paper/stylegan_xl_imagenet256": 233_375_910,
    "paper/stylegan_xl_imagenet512": 235_471_137,
    "paper/stylegan_xl_imagenet1024": 236_106_655,
    "paper/stylegan_xl_pokemon": 19_501_575,
}


def summary_of(preset: str) -> dict[str, dict[str, int]]:
    """What `gan-zoo summary experiment=<preset>` counts, without a subprocess."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("summary", overrides=[f"experiment={preset}"])
    with torch.device("meta"):  # also the fallback build stays allocation-free
        return summarize(cfg)["networks"]


@pytest.mark.parametrize("preset", sorted(TRAINABLE))
def test_presets_build_the_official_trainable_counts(preset: str) -> None:
    networks = summary_of(preset)
    assert {name: counts["trainable"] for name, counts in networks.items()} == TRAINABLE[preset]


@pytest.mark.parametrize("preset", sorted(G_TOTAL))
def test_stylegan_xl_stage_presets_build_the_official_generator_totals(preset: str) -> None:
    networks = summary_of(preset)
    assert networks["G"]["total"] == G_TOTAL[preset]
    if preset.endswith("imagenet16"):  # a conditional stem trains whole
        assert networks["G"]["trainable"] == networks["G"]["total"]
    elif preset.endswith("pokemon"):  # unconditional: all but the unused (frozen) class embedding [1000, 320]
        assert networks["G"]["trainable"] == networks["G"]["total"] - 320_000
    else:  # a super-resolution stage trains its head only
        assert 0 < networks["G"]["trainable"] < networks["G"]["total"]
        assert networks["D"]["trainable"] == TRAINABLE["paper/stylegan_xl_imagenet16"]["D"]  # a fresh D per stage
