"""Conditional fakes take classes drawn from the training set's labels, not the real batch's labels.

The official loops draw each fake's class independently from the data set: NVlabs/stylegan3
training/training_loop.py (`all_gen_c = [training_set.get_label(np.random.randint(len(training_set)))
...]`, one draw per fake of every phase; stylegan-xl and projected-gan the same) and, for G's loss, the
TF PGGAN / StyleGAN `training_set.get_random_labels_tf`. The reals keep their own labels in D.
"""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from torch import Tensor, nn

from gan_zoo.config_dir import CONFIG_DIR
from gan_zoo.data import GANDataModule
from gan_zoo.data.errors import DataError
from gan_zoo.data.shapes import ShapesDataset
from gan_zoo.models.base import GANModule
from gan_zoo.training.build import build_datamodule, build_module, build_trainer

# The conditional families whose fakes take drawn classes, each with what makes its smoke preset conditional.
CONDITIONAL = {
    "pggan": ("model.conditional=true",),
    "stylegan": ("model.conditional=true",),
    "stylegan2": ("model.conditional=true",),
    "stylegan3": ("model.conditional=true",),
    "projected_gan": ("model.conditional=true",),
    "stylegan_xl": ("model.loss.pl_start_kimg=0",),  # conditional already; path length from the first step
}
TF_FAMILIES = ("pggan", "stylegan")  # official TensorFlow code: D's fakes take the reals' labels


def smoke_config(family: str, tmp_path: Path, *overrides: str) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("train", overrides=[f"experiment=smoke/{family}", *CONDITIONAL[family], *overrides, f"paths.output_dir={tmp_path}"])


def smoke_module(family: str, tmp_path: Path, *overrides: str) -> tuple[GANModule, GANDataModule]:
    cfg = smoke_config(family, tmp_path, *overrides)
    torch.manual_seed(0)
    module = build_module(cfg)
    module.configure_run(total_kimg=1, batch_size=4, identity={})
    return module, build_datamodule(cfg)


def classes_of(c: Tensor) -> set[int]:
    assert c.ndim == 2 and bool(((c == 0) | (c == 1)).all()) and bool((c.sum(1) == 1).all()), "not one-hot"
    return set(c.argmax(1).tolist())


def label_inputs(network: nn.Module, seen: list[Tensor]) -> None:
    """Record the class labels each call of `network` (positional argument 1 or `c=`) receives."""

    def hook(module: nn.Module, args: tuple, kwargs: dict) -> None:
        c = args[1] if len(args) > 1 else kwargs.get("c")
        if isinstance(c, Tensor) and c.is_floating_point():
            seen.append(c.detach())

    network.register_forward_pre_hook(hook, with_kwargs=True)


@pytest.mark.parametrize("family", sorted(CONDITIONAL))
def test_every_phase_gives_its_fakes_drawn_classes_and_the_reals_their_own(family, tmp_path):
    module, datamodule = smoke_module(family, tmp_path)
    num_classes = datamodule.num_classes
    drawn = num_classes - 1
    module.use_label_counts(torch.eye(num_classes)[drawn] * 7)  # every image of the training set is in the last class
    g_labels: list[Tensor] = []
    d_labels: list[Tensor] = []
    label_inputs(module.G.mapping if hasattr(module.G, "mapping") else module.G, g_labels)
    label_inputs(module.D, d_labels)
    resolution = datamodule.resolution
    reals = {"image": torch.rand(4, 3, resolution, resolution) * 2 - 1, "label": torch.zeros(4, dtype=torch.long)}

    for phase in module.phases():  # every phase, regularisers included
        g_labels.clear()
        phase.loss(reals)
        # The TF PGGAN / StyleGAN D losses give the fakes the reals' labels (loss.py: `G.get_output_for(latents,
        # labels, ...)` with the minibatch's labels); their G losses and every phase of the PyTorch loops draw.
        expected = {0} if phase.optimizer == "D" and family in TF_FAMILIES else {drawn}
        if phase.name == "D_reg":  # R1 on the reals: no fakes
            assert not g_labels
        else:
            assert g_labels and set().union(*map(classes_of, g_labels)) == expected, f"{phase.name}: G got the wrong classes"
    if family != "pggan":  # PGGAN's D has an AC-GAN head, no label input
        d_classes = [classes_of(c) for c in d_labels]
        assert {0} in d_classes and (family in TF_FAMILIES or {drawn} in d_classes), "D saw the fakes or the reals with the wrong classes"
        assert all(classes in ({0}, {drawn}) for classes in d_classes)


def test_draws_follow_the_class_frequencies_and_the_global_rng():
    module = GANModule()
    module.use_label_counts(torch.tensor([1.0, 0.0, 3.0]))
    torch.manual_seed(5)
    labels = module.fake_labels(4000, 3)
    counts = labels.sum(0)
    assert counts[1] == 0 and abs(float(counts[2] / counts.sum()) - 0.75) < 0.03
    torch.manual_seed(5)
    torch.testing.assert_close(module.fake_labels(4000, 3), labels)  # a restored RNG draws them again
    assert module.fake_labels(4, 0) is None  # unconditional: no labels, no draws


def test_a_conditional_model_without_a_label_source_says_what_to_do():
    module = GANModule()
    with pytest.raises(RuntimeError, match="use_label_counts"):
        module.fake_labels(4, 3)
    module.use_label_counts(torch.ones(4))
    with pytest.raises(ValueError, match="4 classes but this base model has 3"):
        module.fake_labels(4, 3)
    with pytest.raises(ValueError, match="non-negative"):
        module.use_label_counts(torch.tensor([1.0, -1.0]))


def test_training_reads_the_counts_from_the_data_module(tmp_path):
    cfg = smoke_config("stylegan2", tmp_path, "data.batch_size=4")
    module, datamodule = build_module(cfg), build_datamodule(cfg)
    module.total_nimg = 4  # one step
    build_trainer(cfg, callbacks=[], logger=False, enable_progress_bar=False).fit(module, datamodule=datamodule)
    expected = torch.bincount(datamodule.dataset.class_labels(), minlength=10).float()
    torch.testing.assert_close(module.label_counts, expected)
    assert "label_counts" not in module.state_dict()  # belongs to the data, not to the checkpoint


def test_shapes_labels_are_what_its_items_say_and_an_unlabelled_set_is_refused():
    dataset = ShapesDataset(resolution=16, num_images=20)
    assert dataset.class_labels().tolist() == [int(dataset[i]["label"]) for i in range(20)]
    unlabelled = GANDataModule(dataset=lambda: _Unlabelled(), resolution=16, batch_size=4)
    with pytest.raises(DataError, match="no class labels"):
        unlabelled.label_counts()


class _Unlabelled(ShapesDataset):
    def __init__(self) -> None:
        super().__init__(resolution=16, num_images=8)
        self.provides = frozenset({"image"})
        self.num_classes = 0
