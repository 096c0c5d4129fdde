"""SPADE's learning-rate schedules, both pure functions of `cur_nimg`, so a resumed run continues them
exactly.

* `epoch`, the official one (NVlabs/SPADE `trainers/pix2pix_trainer.py` update_learning_rate, which
  `train.py` calls after every epoch): the initial rate for `niter` epochs; after each later epoch the
  rate drops by lr / niter_decay. Epoch e (counting from 1) therefore runs at
  lr - max(0, e - 1 - niter) * lr / niter_decay: the full rate lasts niter + 1 epochs, and the last
  epoch, niter + niter_decay, runs at lr / niter_decay (1% for niter_decay 100), not 0. An epoch is
  len(dataloader) = floor(N / batch) steps: the official loader drops the last partial batch.
* `kimg_linear`: constant for niter_kimg, then linear to zero over niter_decay_kimg.
"""

LR_SCHEDULES = ("epoch", "kimg_linear")


def epoch_of(cur_nimg: int, batch_size: int, dataset_size: int) -> int:
    """The epoch (counting from 0) that the step starting at `cur_nimg` belongs to."""
    steps_per_epoch = dataset_size // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"an epoch of {dataset_size} images holds no full batch of {batch_size}; the official loader would train nothing")
    return (cur_nimg // batch_size) // steps_per_epoch


def epoch_lr(base_lr: float, epoch: int, niter: int, niter_decay: int) -> float:
    """The official rate during epoch `epoch` (counting from 0), to the bit.

    The official code subtracts lr / niter_decay from the running rate once per finished epoch, so the
    decrement is accumulated the same way here rather than multiplied. Applied to the G and D rates
    separately it gives the official TTUR rates (lr / 2, lr * 2) exactly: halving and doubling commute
    with rounding. After the official last epoch the rate stays at its final update, about 0.
    """
    lr = base_lr
    if niter_decay > 0:
        decrement = base_lr / niter_decay
        for _ in range(min(max(epoch - niter, 0), niter_decay)):
            lr -= decrement
    return max(lr, 0.0)


def lr_factor(cur_nimg: int, niter_kimg: float, niter_decay_kimg: float) -> float:
    """kimg_linear: 1 until niter_kimg, then linearly down to 0 at niter_kimg + niter_decay_kimg (0 decay: always 1)."""
    if niter_decay_kimg <= 0:
        return 1.0
    done = cur_nimg / 1000.0 - niter_kimg
    return min(1.0, max(0.0, 1.0 - done / niter_decay_kimg))
