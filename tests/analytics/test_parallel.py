"""Independent pieces of a run on threads: same results, order kept, bounded look-ahead."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from analytics.stats import parallel
from analytics.stats.mediation import (
    paper_specification,
    reml,
    resampling,
    within_patient_mediation,
)
from analytics.stats.mediation.resampling import _bootstrap
from analytics.stats.trajectories import sweep_trajectories

from .test_mediation import demo_frame, simulate
from .test_trajectories import MONTHS
from .test_trajectories import simulate as simulate_trajectories


def test_outside_a_block_everything_runs_on_the_calling_thread():
    seen = parallel.ordered_map(lambda _: threading.get_ident(), range(5))
    assert set(seen) == {threading.get_ident()}
    assert parallel.current_workers() == 1


def test_pieces_run_on_the_pool_in_order_and_nested_maps_stay_serial():
    def piece(i: int) -> tuple[int, int, int, list[int]]:
        time.sleep(0.02)  # long enough that a second thread takes the next piece
        inner = parallel.ordered_map(lambda j: threading.get_ident(), range(3))
        return i, threading.get_ident(), parallel.current_workers(), inner

    with parallel.workers(2):
        assert parallel.current_workers() == 2
        out = parallel.ordered_map(piece, range(8))
    assert [i for i, *_ in out] == list(range(8))
    threads = {ident for _, ident, _, _ in out}
    assert len(threads) == 2
    assert threading.get_ident() not in threads
    # Inside a piece the pool is not entered again: one thread, the piece's own.
    assert all(workers == 1 for _, _, workers, _ in out)
    assert all(set(inner) == {ident} for _, ident, _, inner in out)
    assert parallel.current_workers() == 1


def test_a_lazy_iterable_is_drawn_only_as_threads_free_up():
    drawn = done = ahead = 0
    lock = threading.Lock()

    def items():
        nonlocal drawn, ahead
        for i in range(20):
            with lock:
                drawn += 1
                ahead = max(ahead, drawn - done)
            yield i

    def piece(i: int) -> int:
        nonlocal done
        time.sleep(0.005)
        with lock:
            done += 1
        return i * i

    with parallel.workers(3):
        assert parallel.ordered_map(piece, items()) == [i * i for i in range(20)]
    # One item a thread, at most.
    assert 1 < ahead <= 3


def test_an_interrupted_caller_leaves_no_piece_to_start():
    started = []

    def items():
        yield from range(3)
        raise KeyboardInterrupt  # as a time limit would, while the pieces run

    def piece(i: int) -> int:
        started.append(i)
        time.sleep(0.05)
        return i

    with parallel.workers(2), pytest.raises(KeyboardInterrupt):
        parallel.ordered_map(piece, itertools.chain(items(), range(3, 50)))
    assert 3 <= len(started) < 10


def _slow_ident(_: int) -> int:
    time.sleep(0.02)  # long enough that a second thread takes the next piece
    return threading.get_ident()


def test_pieces_of_small_data_run_one_after_the_other():
    with parallel.workers(2):
        small = parallel.ordered_map(
            lambda _: threading.get_ident(), range(4), rows=parallel.LARGE_ROWS - 1
        )
        large = parallel.ordered_map(_slow_ident, range(4), rows=parallel.LARGE_ROWS)
    assert set(small) == {threading.get_ident()}
    assert len(set(large)) == 2
    assert threading.get_ident() not in large


def test_the_first_error_of_a_piece_is_raised_to_the_caller():
    def piece(i: int) -> int:
        if i == 3:
            raise ValueError("piece 3 failed")
        return i

    with parallel.workers(2), pytest.raises(ValueError, match="piece 3 failed"):
        parallel.ordered_map(piece, range(10))


def test_bootstrap_blocks_fitted_on_threads_give_the_serial_draws():
    def fit(counts: np.ndarray) -> tuple[np.ndarray]:
        time.sleep(0.001)
        return (counts @ np.arange(counts.shape[1], dtype=float),)

    serial = _bootstrap(fit, 50, 200, seed=7, block=16)
    with parallel.workers(2):
        threaded = _bootstrap(fit, 50, 200, seed=7, block=16)
    assert np.array_equal(serial[0], threaded[0])
    assert serial[0].shape == (200,)


def test_mediations_are_identical_whatever_the_number_of_threads(monkeypatch):
    # Small blocks: several of them, so that the threads really share the resamples.
    monkeypatch.setattr(resampling, "BOOT_BLOCK", 16)
    frame = simulate(120, seed=8)
    serial = within_patient_mediation(frame, n_boot=150, seed=11)
    paper_serial = paper_specification(demo_frame(), n_boot=60, seed=4)
    with parallel.workers(2):
        threaded = within_patient_mediation(frame, n_boot=150, seed=11)
        paper_threaded = paper_specification(demo_frame(), n_boot=60, seed=4)
    assert json.dumps(serial) == json.dumps(threaded)
    assert json.dumps(paper_serial) == json.dumps(paper_threaded)


def test_the_sweep_is_identical_whatever_the_number_of_threads(monkeypatch):
    monkeypatch.setattr(parallel, "LARGE_ROWS", 0)  # threads whatever the size
    y, _ = simulate_trajectories(200, seed=4, random_intercept=0.8)
    serial = sweep_trajectories(y, MONTHS, (1, 2, 3), (1, 2), n_starts=2, seed=1)
    with parallel.workers(2):
        threaded = sweep_trajectories(y, MONTHS, (1, 2, 3), (1, 2), n_starts=2, seed=1)
    assert [replace(row, seconds=0.0) for row in serial.table] == [
        replace(row, seconds=0.0) for row in threaded.table
    ]
    assert serial.chosen_index == threaded.chosen_index
    for one, other in zip(serial.fits, threaded.fits, strict=True):
        assert np.array_equal(one.posterior, other.posterior, equal_nan=True)


def test_per_patient_statistics_are_identical_whatever_the_number_of_threads(monkeypatch):
    monkeypatch.setattr(reml, "_ROW_BLOCK", 256)  # many blocks, in runs of two,
    monkeypatch.setattr(reml, "_RUN", 2)  # shared by the threads
    rng = np.random.default_rng(3)
    codes = np.repeat(np.arange(900), rng.integers(1, 15, 900))
    columns = [np.ones(codes.size), rng.normal(size=codes.size), rng.random(codes.size) < 0.3]
    y = rng.normal(size=codes.size)
    serial = reml._patient_stats(y, [c.astype(float) for c in columns], codes, 900)
    with parallel.workers(2):
        threaded = reml._patient_stats(y, [c.astype(float) for c in columns], codes, 900)
    assert codes.size > 4 * reml._ROW_BLOCK
    assert np.array_equal(serial.within, threaded.within)
    assert np.array_equal(serial.between, threaded.between)
    assert np.any(serial.within != 0.0)
