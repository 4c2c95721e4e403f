"""Independent pieces of one analysis run side by side, on a few threads of the same process.

The pieces are whole model fits or whole blocks of bootstrap resamples: their arithmetic is
NumPy's and the linear algebra library's, which let go of the interpreter lock, so two threads
use two cores. Each piece is computed exactly as it would be alone, so the results do not
depend on the number of threads.

The number of threads is set for a block of code with ``workers(n)`` (the analysis service
sets it from ``ANALYSIS_THREADS``); outside such a block, and inside a piece already running on
a thread of the pool, everything runs one piece after the other.
"""

from __future__ import annotations

import contextvars
import ctypes
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")

_WORKERS: contextvars.ContextVar[int] = contextvars.ContextVar("analysis_workers", default=1)


@contextmanager
def workers(n: int) -> Iterator[None]:
    """Let ``ordered_map`` calls within the block use up to ``n`` threads."""
    token = _WORKERS.set(max(1, int(n)))
    try:
        yield
    finally:
        _WORKERS.reset(token)


def current_workers() -> int:
    """The threads ``ordered_map`` may use here (1 inside a piece run by the pool)."""
    return _WORKERS.get()


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, where the C library has it (not on macOS or musl)."""
    try:
        return cast(Callable[[int], int], ctypes.CDLL(None).malloc_trim)
    except (AttributeError, OSError):
        return None


_TRIM = _malloc_trim()


def give_back_freed_memory() -> None:
    """Return the allocator's wholly free pages to the system.

    After a piece run on a thread: each thread allocates from an arena of its own, and a block
    freed in one arena is not reused by the others, so without this the freed working sets of
    the pieces would add up in the resident memory (about 100 MB more at the peak of the
    mediation at 100,000 patients, measured with bench/analysis.py). Between the steps of a
    report: what a step freed in the middle of the heap stays resident until then (about 300 MB
    as the mediation begins at 100,000 patients).
    """
    if _TRIM is not None:
        _TRIM(0)


# Below this many rows of data the pieces of a run are short and mostly the interpreter's work
# (small arrays, optimiser bookkeeping): threads then only take turns holding its lock and are
# slower than one. Measured with bench/analysis.py on 2 cores: the trajectory sweep and the
# outcomes' mixed models were slower on two threads at 46,060 rows (3,290 patients), as fast or
# faster at 460,600 (32,900), faster at 1,400,000 (100,000).
LARGE_ROWS = 250_000


def ordered_map(fn: Callable[[T], R], items: Iterable[T], *, rows: int | None = None) -> list[R]:
    """``[fn(item) for item in items]``, the items taken on up to ``current_workers()`` threads.

    ``rows``, when given, is the size of the data the pieces work on: below ``LARGE_ROWS`` they
    run one after the other. Leave it out for pieces large by construction (blocks of a fixed
    number of values).

    Each thread draws its next item from ``items`` itself, one at a time and in turn, when it
    is free: a lazy iterable of large items (blocks of resample counts) has at most one item
    per thread alive, and drawing the items is shared by the threads. The results keep the
    items' order; after an error no new item is drawn, and the error is raised here.
    """
    n = current_workers() if rows is None or rows >= LARGE_ROWS else 1
    if n <= 1:
        return [fn(item) for item in items]
    numbered = enumerate(items)
    lock = threading.Lock()
    results: dict[int, R] = {}
    errors: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        while True:
            with lock:
                if errors or stop.is_set():
                    return
                taken = next(numbered, None)
            if taken is None:
                return
            try:
                results[taken[0]] = fn(taken[1])
                give_back_freed_memory()
            except BaseException as error:
                with lock:
                    errors.append(error)
                return

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="analysis") as pool:
        futures = [pool.submit(work) for _ in range(n)]
        try:
            # The first thread to fail stops the others from drawing, whichever it is.
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future.done():
                    future.result()
        except BaseException:
            # Drawing an item failed, or the caller was interrupted (a task's time limit):
            # the threads finish the pieces they hold and start no other.
            stop.set()
            raise
    if errors:
        raise errors[0]
    return [results[i] for i in range(len(results))]
