"""What the libraries under `gan-zoo train` print that is noise for its users, silenced while it runs.

* Lightning's tip to install litlogger, printed by every Trainer;
* the deprecation warning of `torch.utils._pytree.LeafSpec` that Lightning's own `_pytree` triggers;
* Lightning's "Found N module(s) in eval mode": G_ema and the metric and loss networks are frozen
  eval-mode modules by design.

Everything else (Lightning's device lines, other warnings, errors) is left as it is.
"""

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# The loggers that Lightning's rank_zero_info writes through (whichever of its packages was imported last).
RANK_ZERO_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")


class _DropTip(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in record.getMessage()


@contextmanager
def quiet_libraries() -> Iterator[None]:
    tip = _DropTip()
    loggers = [logging.getLogger(name) for name in RANK_ZERO_LOGGERS]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated", category=FutureWarning)
        warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode at the start of training")
        for logger in loggers:
            logger.addFilter(tip)
        try:
            yield
        finally:
            for logger in loggers:
                logger.removeFilter(tip)
