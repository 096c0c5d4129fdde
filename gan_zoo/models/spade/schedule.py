"""SPADE's learning-rate schedule (SPECS.md §4.7): constant for `niter`, then linear decay to zero
over `niter_decay`. Counted in kimg, as a pure function of `cur_nimg`, so a resumed run continues it
exactly. (The official code counts epochs and steps once per epoch; epochs x data-set size / 1000
gives the kimg.)"""


def lr_factor(cur_nimg: int, niter_kimg: float, niter_decay_kimg: float) -> float:
    """1 until niter_kimg, then linearly down to 0 at niter_kimg + niter_decay_kimg (0 decay: always 1)."""
    if niter_decay_kimg <= 0:
        return 1.0
    done = cur_nimg / 1000.0 - niter_kimg
    return min(1.0, max(0.0, 1.0 - done / niter_decay_kimg))
