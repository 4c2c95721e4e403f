"""The re-analysis runs with the linear algebra library limited to ANALYSIS_BLAS_THREADS threads,
and its independent pieces on ANALYSIS_THREADS threads."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from analytics.services import analysis_threads
from analytics.stats import parallel


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_the_analysis_block_runs_with_the_configured_number_of_blas_threads(settings):
    settings.ANALYSIS_BLAS_THREADS = 1
    with analysis_threads():
        assert _blas_threads() == {1}
    settings.ANALYSIS_BLAS_THREADS = 2
    with analysis_threads():
        assert _blas_threads() == {2}


def test_the_analysis_block_lets_its_pieces_use_the_configured_threads(settings):
    settings.ANALYSIS_THREADS = 3
    with analysis_threads():
        assert parallel.current_workers() == 3
    assert parallel.current_workers() == 1
    settings.ANALYSIS_THREADS = 1
    with analysis_threads():
        assert parallel.current_workers() == 1
