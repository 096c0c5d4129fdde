"""GANDataModule: serves every family's training stream and the metrics' evaluation loader.

The training loader is rebuilt from the module's plan at every (re)load: the module owns the
progress (`cur_nimg`) and the batch size (PGGAN changes it per resolution), and the stream is a
pure function of both (see `gan_zoo.data.sampler`), so the datamodule itself has no state.
"""

from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Subset

from gan_zoo.data.base import MirroredDataset
from gan_zoo.data.errors import DataError
from gan_zoo.data.sampler import StreamBatchSampler


class GANDataModule(L.LightningDataModule):
    def __init__(
        self,
        dataset: Callable[[], MirroredDataset] | MirroredDataset,  # a built dataset, or a factory (hydra `_partial_: true`) called in setup
        resolution: int,  # pixels per side the model expects; the dataset must match
        batch_size: int,  # global images per optimizer step, summed over all devices
        num_workers: int = 2,  # loader worker processes per rank; 0 = load in the training process
        pin_memory: bool | None = None,  # page-locked batches for faster host-to-GPU copies; None = when CUDA is available
        persistent_workers: bool = True,  # keep workers between passes over one loader (only with num_workers > 0)
        mirror: bool = False,  # x-flip augmentation: the stream draws from 2N indices, N..2N-1 flipped
        seed: int = 0,  # selects the training stream's permutations
        eval_batch_size: int = 64,  # images per batch of eval_dataloader
        channels: int | None = None,  # image channels the model is built for; the dataset must match (None: unchecked)
        num_classes: int | None = None,  # classes the model is built for; the dataset's labels must match (None: unchecked)
        aspect_ratio: float = 1.0,  # image width / height (resolution is the width); the dataset must match
        label_nc: int | None = None,  # label-map sets: labels without dontcare; the dataset must match (None: unchecked)
        contain_dontcare_label: bool = False,  # label-map sets: unlabelled pixels get the extra label label_nc (read by the
        #   dataset and model configs through ${data.contain_dontcare_label}; accepted here because the data node is built whole)
        use_instance: bool = False,  # label-map sets: instance maps give the models an edge channel (read as above)
    ) -> None:
        super().__init__()
        self._dataset_source = dataset
        self.dataset: MirroredDataset | None = None  # built by setup()
        self.resolution = resolution
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        self.persistent_workers = persistent_workers and num_workers > 0
        self.mirror = mirror
        self.seed = seed
        self.eval_batch_size = eval_batch_size
        # Declared in the data config so the networks can be built (gan-zoo summary) without the data.
        self.expected_channels = channels
        self.expected_num_classes = num_classes
        self.aspect_ratio = aspect_ratio
        self.label_nc = label_nc

    def setup(self, stage: str | None = None) -> None:
        """Build and check the dataset once; later calls (every Lightning stage) are no-ops."""
        if self.dataset is not None:
            return
        source = self._dataset_source
        dataset = source if isinstance(source, Dataset) else source()
        if dataset.resolution != self.resolution:
            raise DataError(
                f"The dataset {type(dataset).__name__} has resolution {dataset.resolution} but data.resolution is {self.resolution}; set both to the same value"
            )
        if self.expected_channels is not None and dataset.channels != self.expected_channels:
            raise DataError(
                f"The dataset {type(dataset).__name__} has {dataset.channels} channels but data.channels is "
                f"{self.expected_channels}; set data.channels={dataset.channels} or data.dataset.channels={self.expected_channels}"
            )
        if self.expected_num_classes is not None and dataset.num_classes != self.expected_num_classes:
            raise DataError(
                f"The dataset {type(dataset).__name__} has {dataset.num_classes} classes (labels "
                f"{'on' if dataset.num_classes else 'off'}) but data.num_classes is {self.expected_num_classes}; "
                f"set data.num_classes={dataset.num_classes}, or data.dataset.use_labels to match"
            )
        if abs(getattr(dataset, "aspect_ratio", 1.0) - self.aspect_ratio) > 1e-6:
            raise DataError(
                f"The dataset {type(dataset).__name__} has aspect ratio {getattr(dataset, 'aspect_ratio', 1.0)} (width / height) "
                f"but data.aspect_ratio is {self.aspect_ratio}; set both to the same value"
            )
        dataset_labels = getattr(dataset, "label_nc", None)
        if self.label_nc is not None and dataset_labels is not None and dataset_labels != self.label_nc:
            raise DataError(
                f"The dataset {type(dataset).__name__} has {dataset_labels} labels but data.label_nc is {self.label_nc}; set both to the same value"
            )
        self.dataset = dataset

    def _built(self) -> MirroredDataset:
        self.setup()
        assert self.dataset is not None
        return self.dataset

    @property
    def provides(self) -> frozenset[str]:
        """Batch keys the dataset provides (builds the dataset on first use)."""
        return self._built().provides

    @property
    def num_classes(self) -> int:
        """Number of class labels; 0 when unlabelled (builds the dataset on first use)."""
        return self._built().num_classes

    def label_counts(self) -> Tensor:
        """Images per class of the training set (float [num_classes]): conditional models draw their fakes'
        classes from it (GANModule.fake_labels), as the official loops draw them from the data set."""
        dataset = self._built()
        labels = dataset.class_labels()
        if labels is None or not dataset.num_classes:
            raise DataError(f"the data set {type(dataset).__name__} has no class labels; set data.dataset.use_labels=true or train an unconditional model")
        if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < dataset.num_classes:
            raise DataError(
                f"the data set {type(dataset).__name__} has labels in [{int(labels.min())}, {int(labels.max())}], outside its {dataset.num_classes} classes"
            )
        return torch.bincount(labels, minlength=dataset.num_classes).float()

    def _loader(self, dataset: Dataset, **kwargs: Any) -> DataLoader:
        # An explicit generator: drawing the workers' base seed must not consume the global torch
        # RNG, whose state is checkpointed for bit-exact resume.
        return DataLoader(
            dataset,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            generator=torch.Generator().manual_seed(self.seed),
            **kwargs,
        )

    def make_train_loader(self, start_nimg: int, per_rank_batch: int, num_batches: int, rank: int, world_size: int) -> DataLoader:
        """`num_batches` batches of `per_rank_batch` items for `rank`, from stream position `start_nimg`."""
        dataset = self._built()
        sampler = StreamBatchSampler(
            num_items=len(dataset),
            batch_size=per_rank_batch,
            num_batches=num_batches,
            start_nimg=start_nimg,
            seed=self.seed,
            rank=rank,
            world_size=world_size,
            mirror=self.mirror,
            epoch_indices=bool(getattr(dataset, "augments_per_epoch", False)),
        )
        return self._loader(dataset, batch_sampler=sampler)

    def train_dataloader(self) -> DataLoader:
        start_nimg, per_rank_batch, num_batches = self.trainer.lightning_module.plan_batches()
        return self.make_train_loader(start_nimg, per_rank_batch, num_batches, rank=self.trainer.global_rank, world_size=self.trainer.world_size)

    def eval_dataloader(
        self,
        rank: int = 0,  # this process's shard: items rank, rank + world_size, ...
        world_size: int = 1,  # number of shards
        max_items: int | None = None,  # use only the first max_items images; None = all
        batch_size: int | None = None,  # images per batch; None = eval_batch_size
    ) -> DataLoader:
        """The real images in order (no shuffle, no flips), sharded over ranks, for metrics."""
        dataset = self._built()
        count = len(dataset) if max_items is None else min(max_items, len(dataset))
        shard = Subset(dataset, range(rank, count, world_size))
        return self._loader(shard, batch_size=batch_size or self.eval_batch_size, shuffle=False)

    def state_dict(self) -> dict[str, Any]:
        """Nothing: the stream position is the module's `cur_nimg`, checkpointed with the module."""
        return {}
