"""StreamBatchSampler: one global, infinite, seeded stream of dataset indices, cut into batches.

Position p of the stream (p = 0, 1, 2, ...) maps to `perm_e[p % M]`, where M = N (x2 with mirror),
e = p // M, and perm_e is `torch.randperm(M)` seeded by (seed, e). The global batch k covers the
positions start_nimg + k*B + [0, B), B = batch_size * world_size. The sampler is a pure function of
its arguments, so a run resumed at `start_nimg = cur_nimg` reads exactly the images it would have
read had it never stopped, and no loader state needs to be checkpointed.

With `epoch_indices` the index carries the epoch too (epoch * 2N + index), for datasets that draw a
fresh augmentation per epoch from it (base.MirroredDataset).

Ranks take interleaved positions (rank r: offsets r, r + world_size, ...), not contiguous blocks:
minibatch-stddev groups are strided over the batch, so with interleaving every rank forms exactly
the groups a single process would, and DDP statistics equal single-process ones.
"""

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

_EPOCH_SEED_STRIDE = 1_000_003  # a prime, so (seed, epoch) pairs map to distinct generator seeds


class StreamBatchSampler(Sampler[list[int]]):
    def __init__(
        self,
        num_items: int,  # N distinct images in the dataset
        batch_size: int,  # images per batch on this rank
        num_batches: int,  # batches to yield (len of the sampler)
        start_nimg: int,  # stream position of the first global batch, in images (= cur_nimg)
        seed: int,  # selects the permutations
        rank: int = 0,  # this process's index among world_size
        world_size: int = 1,  # number of processes sharing each global batch
        shuffle: bool = True,  # False = positions map to indices in order (for debugging and evaluation)
        mirror: bool = False,  # draw from [0, 2N): indices >= N are the horizontally flipped images
        epoch_indices: bool = False,  # yield epoch * 2N + index, for datasets that re-draw augmentation per epoch
    ) -> None:
        if num_items < 1 or batch_size < 1 or num_batches < 0 or start_nimg < 0:
            raise ValueError(
                f"need num_items >= 1, batch_size >= 1, num_batches >= 0, start_nimg >= 0; got {num_items}, {batch_size}, {num_batches}, {start_nimg}"
            )
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside [0, world_size={world_size})")
        self.num_items = num_items
        self.batch_size = batch_size
        self.num_batches = num_batches
        self.start_nimg = start_nimg
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle = shuffle
        self.period = num_items * (2 if mirror else 1)  # M: positions per epoch
        self.epoch_indices = epoch_indices
        self._epoch = -1
        self._perm = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return self.num_batches

    def _index(self, position: int) -> int:
        epoch, offset = divmod(position, self.period)
        if self.shuffle:
            if epoch != self._epoch:  # one randperm per epoch, not per item
                generator = torch.Generator().manual_seed(self.seed * _EPOCH_SEED_STRIDE + epoch)
                self._perm = torch.randperm(self.period, generator=generator).numpy()
                self._epoch = epoch
            offset = int(self._perm[offset])
        return epoch * 2 * self.num_items + offset if self.epoch_indices else offset

    def __iter__(self) -> Iterator[list[int]]:
        global_batch = self.batch_size * self.world_size
        for k in range(self.num_batches):
            first = self.start_nimg + k * global_batch + self.rank
            yield [self._index(first + j * self.world_size) for j in range(self.batch_size)]
