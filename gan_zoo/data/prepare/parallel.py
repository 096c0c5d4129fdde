"""Run the encoder over chunks of records in worker processes, results in submission order.

At most `4 x workers` chunks are in flight, so a source that is read faster than it is encoded
(LMDB values, CIFAR arrays) never piles up in memory. Workers ignore SIGINT: Ctrl-C reaches the
main process, which stops submitting, cancels what is queued and lets the writer delete its file.
"""

import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

_task: Callable[[Any], Any] | None = None


def _start_worker(task: Callable[[Any], Any]) -> None:
    global _task
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _task = task


def _run(chunk: Any) -> Any:
    assert _task is not None
    return _task(chunk)


class OrderedPool:
    def __init__(
        self,
        task: Callable[[Any], Any],  # chunk -> result; handed to each worker once, not per chunk
        workers: int,  # processes; 0: run in this process
    ) -> None:
        self.task, self.workers = task, workers
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> "OrderedPool":
        if self.workers > 0:
            # fork on Linux: workers start at once and inherit the opened source (elsewhere it is not safe).
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            self._executor = ProcessPoolExecutor(self.workers, multiprocessing.get_context(method), initializer=_start_worker, initargs=(self.task,))
            # A first task starts every worker now, before the caller starts threads (a progress
            # bar's monitor) that a fork would copy in whatever state they are.
            self._executor.submit(os.getpid)
        return self

    def __exit__(self, kind: type | None, *_: Any) -> None:
        if self._executor is not None:
            # On an error or Ctrl-C: drop what is queued and do not wait for the chunks in progress.
            self._executor.shutdown(wait=kind is None, cancel_futures=True)

    def map(self, chunks: Iterable[Any]) -> Iterator[Any]:
        if self._executor is None:
            yield from (self.task(chunk) for chunk in chunks)
            return
        pending: deque[Future] = deque()
        for chunk in chunks:
            pending.append(self._executor.submit(_run, chunk))
            if len(pending) >= 4 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
