"""The patient-cluster bootstrap: resample counts in blocks, intervals, proportions mediated."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import cast

import numpy as np
from scipy import stats

from analytics.stats.parallel import current_workers, ordered_map

from .models import _Z975, _num
from .reml import inverse_permutation

# Resamples drawn and fitted per block: memory grows with the block, not with n_boot (1,000
# resamples of 100,000 patients are 800 MB of counts). A block holds about BOOT_CELLS patient
# counts (32 MB as floats); fewer, larger blocks are faster, so small cohorts take their
# resamples in one block, or in two a thread when the run has threads. BOOT_BLOCK, when set,
# fixes the number of resamples per block. Resample r is the same whatever the block size: the
# generator's stream is consumed in the same order.
BOOT_CELLS = 1 << 22
BOOT_BLOCK = 0


def _resample_blocks(
    n: int, n_boot: int, seed: int, block: int = 0, order: np.ndarray | None = None
) -> Iterator[np.ndarray]:
    """Yield the patient counts of the resamples, ``block`` rows at a time (shape ``(r, n)``).

    With ``order`` (a permutation of the patients), column ``j`` counts patient ``order[j]``:
    the counts come as ``counts[:, order]`` would give them, without that block-sized copy.
    The block size is set here, by the caller's threads (the blocks are drawn on the pool's).
    """
    if not block:
        # On threads, two blocks a thread at least: fits of unequal length even out.
        threads = current_workers()
        shared = max(1, -(-n_boot // (2 * threads))) if threads > 1 else max(n_boot, 1)
        block = BOOT_BLOCK or min(max(16, BOOT_CELLS // max(n, 1)), shared)
    return _drawn_blocks(n, n_boot, seed, block, order)


def _drawn_blocks(
    n: int, n_boot: int, seed: int, block: int, order: np.ndarray | None
) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    rank = None if order is None else inverse_permutation(order)
    for start in range(0, n_boot, block):
        rows = min(block, n_boot - start)
        counts = np.empty((rows, n))
        for r in range(rows):
            # A resample at a time (the same stream as a block drawn at once): no other
            # block-sized array.
            drawn = rng.integers(0, n, size=n)
            counts[r] = np.bincount(drawn if rank is None else rank[drawn], minlength=n)
        yield counts


def _resample_counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """All resamples at once (for tests and small n; the analysis goes block by block)."""
    return np.vstack(list(_resample_blocks(n, n_boot, seed))) if n_boot else np.zeros((0, n))


def _bootstrap(
    fit: Callable[[np.ndarray], tuple[np.ndarray, ...]],
    n: int,
    n_boot: int,
    seed: int,
    block: int = 0,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """Apply ``fit`` to each block of resample counts; join its outputs (one row per resample).

    The blocks are fitted side by side when the run allows threads (analytics.stats.parallel):
    each block's fit is the same whichever thread computes it. ``order``: as
    ``_resample_blocks``.
    """
    parts = ordered_map(fit, _resample_blocks(n, n_boot, seed, block, order))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _proportion(indirect: np.ndarray | float, direct: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(indirect / (np.asarray(indirect) + direct), dtype=float)


def _intervals(estimate: float, draws: np.ndarray) -> dict[str, object]:
    """Percentile and bias-corrected 95% intervals of bootstrap ``draws``."""
    draws = draws[np.isfinite(draws)]
    if draws.size == 0 or not math.isfinite(estimate):
        return {"percentile_ci95": [None, None], "bias_corrected_ci95": [None, None], "n_boot": 0}
    pct = np.quantile(draws, [0.025, 0.975])
    below = (np.sum(draws < estimate) + 0.5 * np.sum(draws == estimate)) / draws.size
    z0 = stats.norm.ppf(np.clip(below, 0.5 / draws.size, 1.0 - 0.5 / draws.size))
    levels = stats.norm.cdf(2.0 * z0 + np.array([-_Z975, _Z975]))
    bc = np.quantile(draws, levels)
    return {
        "percentile_ci95": [_num(pct[0]), _num(pct[1])],
        "bias_corrected_ci95": [_num(bc[0]), _num(bc[1])],
        "bootstrap_se": _num(float(np.std(draws, ddof=1))) if draws.size > 1 else None,
        "n_boot": int(draws.size),
    }


RATIO_WITHHELD = (
    "no interval: the 95% CI of the total effect covers 0, so the denominator of "
    "a*b / (a*b + c') can be 0 and the ratio's bootstrap distribution has no usable spread"
)


def _ratio_intervals(
    estimate: float, draws: np.ndarray, total: Mapping[str, object]
) -> dict[str, object]:
    """Intervals of a proportion mediated, withheld when the total effect may be zero."""
    low, high = cast(list[float | None], total.get("percentile_ci95", [None, None]))
    if low is None or high is None or low <= 0.0 <= high:
        return {
            "percentile_ci95": [None, None],
            "bias_corrected_ci95": [None, None],
            "n_boot": int(np.isfinite(draws).sum()),
            "withheld": RATIO_WITHHELD,
        }
    return _intervals(estimate, draws)
