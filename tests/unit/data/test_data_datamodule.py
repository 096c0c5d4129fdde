"""GANDataModule: loaders that reproduce the sampler's stream without touching the global RNG."""

from functools import partial
from types import SimpleNamespace

import pytest
import torch

from gan_zoo.data import DataError, GANDataModule, ShapesDataset, StreamBatchSampler


def _datamodule(**kwargs: object) -> GANDataModule:
    defaults = dict(dataset=partial(ShapesDataset, resolution=16, num_images=40), resolution=16, batch_size=8, mirror=True)
    datamodule = GANDataModule(**{**defaults, **kwargs})
    datamodule.setup("fit")
    return datamodule


def test_train_loader_batches_are_the_sampler_indices_with_0_or_2_workers() -> None:
    runs = {}
    for workers in (0, 2):
        loader = _datamodule(num_workers=workers).make_train_loader(start_nimg=12, per_rank_batch=6, num_batches=10, rank=0, world_size=1)
        runs[workers] = list(loader)
    dataset = ShapesDataset(resolution=16, num_images=40)
    sampler = StreamBatchSampler(num_items=40, batch_size=6, num_batches=10, start_nimg=12, seed=0, mirror=True)
    assert len(runs[0]) == len(runs[2]) == 10
    for serial, parallel, indices in zip(runs[0], runs[2], sampler):
        assert torch.equal(serial["image"], parallel["image"]) and torch.equal(serial["label"], parallel["label"])
        assert torch.equal(serial["image"], torch.stack([dataset[i]["image"] for i in indices]))


@pytest.mark.parametrize("workers", [0, 2])
def test_iterating_the_loaders_leaves_the_global_rng_untouched(workers: int) -> None:
    datamodule = _datamodule(num_workers=workers)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    list(datamodule.make_train_loader(start_nimg=0, per_rank_batch=4, num_batches=3, rank=0, world_size=1))
    list(datamodule.eval_dataloader(max_items=10))
    assert torch.equal(torch.get_rng_state(), before)


def test_rank_loaders_reassemble_the_single_process_batch() -> None:
    datamodule = _datamodule(num_workers=0)
    single = list(datamodule.make_train_loader(start_nimg=0, per_rank_batch=8, num_batches=3, rank=0, world_size=1))
    ranks = [list(datamodule.make_train_loader(start_nimg=0, per_rank_batch=4, num_batches=3, rank=r, world_size=2)) for r in (0, 1)]
    for k, batch in enumerate(single):
        interleaved = torch.stack([ranks[0][k]["image"], ranks[1][k]["image"]], dim=1).flatten(0, 1)
        assert torch.equal(interleaved, batch["image"])


def test_train_dataloader_follows_the_modules_plan_and_the_trainers_rank() -> None:
    datamodule = _datamodule(num_workers=0)
    module = SimpleNamespace(plan_batches=lambda: (20, 4, 2))
    datamodule.trainer = SimpleNamespace(lightning_module=module, global_rank=1, world_size=2)
    sampler = datamodule.train_dataloader().batch_sampler
    assert (sampler.start_nimg, sampler.batch_size, sampler.num_batches, sampler.rank, sampler.world_size) == (20, 4, 2, 1, 2)
    assert sampler.period == 80  # mirror doubles the stream: 2 x 40 images


def test_eval_loader_shards_the_first_items_in_order_without_flips() -> None:
    datamodule = _datamodule(num_workers=0, eval_batch_size=3)
    dataset = datamodule.dataset
    shards = [torch.cat([b["image"] for b in datamodule.eval_dataloader(rank=r, world_size=3, max_items=10)]) for r in range(3)]
    assert [len(shard) for shard in shards] == [4, 3, 3]
    for r, shard in enumerate(shards):
        assert torch.equal(shard, torch.stack([dataset[i]["image"] for i in range(r, 10, 3)]))
    assert len(list(datamodule.eval_dataloader())) == -(-40 // 3)
    assert len(next(iter(datamodule.eval_dataloader(batch_size=16)))["image"]) == 16


def test_setup_builds_once_and_accepts_a_built_dataset() -> None:
    calls = []

    def factory() -> ShapesDataset:
        calls.append(1)
        return ShapesDataset(resolution=16, num_images=3)

    datamodule = GANDataModule(dataset=factory, resolution=16, batch_size=4)
    assert datamodule.num_classes == 4 and datamodule.provides == {"image", "label"}  # builds on demand
    datamodule.setup("fit")
    datamodule.setup("validate")
    assert len(calls) == 1
    built = ShapesDataset(resolution=16, num_images=3)
    other = GANDataModule(dataset=built, resolution=16, batch_size=4)
    other.setup("fit")
    assert other.dataset is built and other.state_dict() == {}


def test_resolution_mismatch_between_dataset_and_config() -> None:
    datamodule = GANDataModule(dataset=partial(ShapesDataset, resolution=16), resolution=32, batch_size=4)
    with pytest.raises(DataError, match="ShapesDataset has resolution 16 but data.resolution is 32"):
        datamodule.setup("fit")
