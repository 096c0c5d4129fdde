"""Which real items condition the fakes of a metric: class labels drawn with replacement (NVIDIA's
`iterate_random_labels`), label maps and source images each once in a seeded permutation."""

import numpy as np

from gan_zoo.data.shapes import ShapesDataset
from gan_zoo.metrics import MetricEvaluator, MetricOptions
from gan_zoo.metrics.streams import conditioning_blocks, conditions_by_class
from tests.unit.metrics_support import TinyModule, shapes


def conditioned_items(dataset, count: int, world: int = 1, seed: int = 3) -> list[int]:
    """The class label behind each of `count` fakes, gathered over `world` ranks, by global sample index."""
    by_sample = {}
    for rank in range(world):
        for _, indices, batch in conditioning_blocks(dataset, count, 4, rank, world, seed):
            by_sample.update(zip(indices.tolist(), batch["label"].tolist(), strict=True))
    return [by_sample[i] for i in range(count)]


def test_class_labels_are_those_of_items_drawn_with_replacement_as_nvidia():
    dataset = shapes(12)
    assert conditions_by_class(dataset)
    drawn = np.random.RandomState(3).randint(len(dataset), size=40)  # what np.random.randint per fake gives from seed 3
    expected = [int(dataset[int(i)]["label"]) for i in drawn]
    assert conditioned_items(dataset, 40) == expected
    assert conditioned_items(dataset, 40, world=2) == expected  # the same fakes whatever the number of processes
    assert np.bincount(drawn).max() > 1  # with replacement, not a permutation


def test_label_maps_are_each_used_once_per_cycle():
    dataset = ShapesDataset(resolution=16, num_images=8, with_segmaps=True)
    assert not conditions_by_class(dataset)
    seen = []
    for _, _, batch in conditioning_blocks(dataset, 8, 4, 0, 1, seed=3):
        seen.extend(batch["segmap"])
    assert len({bytes(s.numpy().tobytes()) for s in seen}) == 8


def test_the_metric_card_says_how_fake_classes_are_drawn():
    (rfid,) = MetricEvaluator(["rfid4_full"], MetricOptions(batch_size=2, sample_block=2, use_cache=False)).evaluate(TinyModule(), shapes(4))
    assert "with replacement" in rfid.card["fake_labels"] and "iterate_random_labels" in rfid.card["fake_labels"]
