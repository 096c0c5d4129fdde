"""Real and fake images for the metrics, block by block, sharded over DDP ranks.

Global sample indices [0, count) are cut into blocks of `block` samples (independent of the
number of processes); rank r takes blocks r, r + world, ... (`blocks_of_rank`). What a block holds
depends only on its index: reals are dataset items in order; fakes come from
`module.eval_fakes(batch, generator)` with the generator seeded by (seed, block) and the batch made
of real items (their labels, label maps or source images condition the fakes, as every family's
protocol needs): for a data set whose items condition by class label alone, each fake takes the
label of an item drawn uniformly with replacement, as NVIDIA's metrics do (stylegan3
metrics/metric_utils.py `iterate_random_labels`: `dataset.get_label(np.random.randint(len(dataset)))`
per fake); label maps and source images are each used once, in a seeded permutation, cycling.
"""

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from gan_zoo.data.base import MirroredDataset, image_size
from gan_zoo.data.transforms import to_uint8
from gan_zoo.errors import MetricError
from gan_zoo.metrics.distributed import blocks_of_rank
from gan_zoo.metrics.ppl import block_generator


def _loader(dataset: MirroredDataset, blocks: list[list[int]], num_workers: int) -> DataLoader:
    return DataLoader(dataset, batch_sampler=blocks, num_workers=num_workers, generator=torch.Generator().manual_seed(0))


def real_blocks(dataset: MirroredDataset, count: int, block: int, rank: int, world: int, num_workers: int = 0) -> Iterator[tuple[Tensor, dict[str, Tensor]]]:
    """(global indices, batch) for this rank's blocks of the first `count` items (count <= 2N with mirrored items)."""
    blocks = blocks_of_rank(count, block, rank, world)
    for indices, batch in zip(blocks, _loader(dataset, [list(b) for b in blocks], num_workers), strict=True):
        yield torch.tensor(list(indices)), batch


CLASS_DRAWS = (
    "per fake, the label of a dataset item drawn uniformly with replacement, numpy RandomState(seed) (NVIDIA iterate_random_labels);"
    " unconditional models ignore it"
)


def conditions_by_class(dataset: MirroredDataset) -> bool:
    """Whether the data set conditions fakes by class label alone (no label maps, source or reference images)."""
    return "label" in dataset.provides and dataset.provides <= {"image", "label"}


def conditioning_order(dataset: MirroredDataset, seed: int, count: int) -> np.ndarray:
    """The items whose inputs condition fakes 0, 1, ... (index i % len: the permutation cycles)."""
    rng = np.random.RandomState(seed)
    if conditions_by_class(dataset):
        return rng.randint(len(dataset), size=max(count, 1))
    return rng.permutation(len(dataset))


def conditioning_blocks(
    dataset: MirroredDataset, count: int, block: int, rank: int, world: int, seed: int, num_workers: int = 0
) -> Iterator[tuple[int, Tensor, dict[str, Tensor]]]:
    """(block number, global sample indices, real batch that conditions the block's fakes)."""
    order = conditioning_order(dataset, seed, count)
    blocks = blocks_of_rank(count, block, rank, world)
    items = [[int(order[i % len(order)]) for i in b] for b in blocks]
    for indices, batch in zip(blocks, _loader(dataset, items, num_workers), strict=True):
        yield indices.start // block, torch.tensor(list(indices)), batch


def fake_blocks(
    module, dataset: MirroredDataset, count: int, block: int, rank: int, world: int, seed: int, num_workers: int = 0
) -> Iterator[tuple[Tensor, Tensor]]:
    """(global indices, uint8 fakes) for this rank's blocks of `count` generated samples."""
    for number, indices, batch in conditioning_blocks(dataset, count, block, rank, world, seed, num_workers):
        batch = {k: v.to(module.device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        fakes = module.eval_fakes(batch, block_generator(seed, number))
        assert fakes.shape[0] == len(indices), f"eval_fakes returned {fakes.shape[0]} images for a batch of {len(indices)}"
        height, width = image_size(dataset)
        if fakes.shape[-2:] != (height, width):
            raise MetricError(
                f"the model generates {fakes.shape[-1]}x{fakes.shape[-2]} images but the real images are "
                f"{width}x{height}; evaluate on the data set at the model's resolution (data.resolution={fakes.shape[-1]})"
            )
        yield indices, to_uint8(fakes)


def latent_blocks(
    dataset: MirroredDataset, count: int, block: int, rank: int, world: int, seed: int, num_workers: int
) -> Iterator[tuple[int, Tensor, Tensor | None]]:
    """(global block number, sample indices, labels or None) of this rank's blocks of `count` latent
    samples (PPL, linear separability): a labelled data set's labels in the conditioning order."""
    if "label" in dataset.provides:
        return ((n, i, b.get("label")) for n, i, b in conditioning_blocks(dataset, count, block, rank, world, seed, num_workers))
    return ((r.start // block, torch.tensor(list(r)), None) for r in blocks_of_rank(count, block, rank, world))
