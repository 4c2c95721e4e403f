"""Item answers behind the latent totals: HADS items and SF-12 response codes.

HADS: a subscale total S (0..21) becomes 7 item scores 0..3 summing to S by choosing S of the
21 (item, level) slots in a weighted random order, so that some items are endorsed more often.

SF-12: PCS and MCS are additive in the item categories, so the scorer in
``followup.instruments.sf12`` is probed once per category to get each category's contribution.
Every one of the 3,888,000 possible answer sets is then scored at once and binned on a 0.5-point
(PCS, MCS) grid; each cell keeps the few most coherent answer sets (smallest spread of the item
answers within the physical and within the mental items). A target (PCS, MCS) picks one of the
answer sets of its cell, or of the nearest non-empty cell, so the scored summaries match the
targets to within a quarter of a point or so.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from followup.instruments import sf12

# Relative propensity of each item to be endorsed (anxiety items 1, 3, ..., 13; depression items
# 2, 4, ..., 14); an assumption for realism, with no effect on the totals.
ANXIETY_ITEM_WEIGHTS = (1.2, 1.0, 1.3, 1.0, 0.7, 1.1, 0.6)
DEPRESSION_ITEM_WEIGHTS = (1.0, 0.8, 0.7, 1.4, 0.9, 1.0, 1.1)

PHYSICAL_ITEMS = ("GH1", "PF02", "PF04", "RP2", "RP3", "BP2")
MENTAL_ITEMS = ("RE2", "RE3", "MH3", "VT2", "MH4", "SF2")
GRID_STEP = 0.5
CELL_KEEP = 8


def split_hads(
    rng: np.random.Generator, totals: np.ndarray, weights: tuple[float, ...]
) -> np.ndarray:
    """Return item scores (m, 7) in 0..3 whose rows sum to ``totals`` (m,) in 0..21."""
    m = totals.size
    slot_weight = np.repeat(np.asarray(weights, dtype=np.float32), 3)
    keys = rng.exponential(size=(m, 21)).astype(np.float32) / slot_weight
    ordered = np.sort(keys, axis=1)
    k = np.clip(totals, 0, 21).astype(np.int64)
    threshold = ordered[np.arange(m), np.maximum(k - 1, 0)]
    chosen = (keys <= threshold[:, None]) & (k > 0)[:, None]
    return chosen.reshape(m, 7, 3).sum(axis=2).astype(np.int64)


def _contributions() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float, float]:
    """Probe the scorer: per item, the PCS and MCS contribution of each code (1-based)."""
    base: dict[str, int | None] = dict.fromkeys(sf12.ITEMS, 1)
    ref = sf12.score(base)
    assert ref.pcs is not None
    assert ref.mcs is not None
    pcs_w: dict[str, np.ndarray] = {}
    mcs_w: dict[str, np.ndarray] = {}
    for item in sf12.ITEMS:
        p, q = [], []
        for code in range(1, sf12.RANGES[item] + 1):
            s = sf12.score({**base, item: code})
            assert s.pcs is not None
            assert s.mcs is not None
            p.append(s.pcs - ref.pcs)
            q.append(s.mcs - ref.mcs)
        pcs_w[item], mcs_w[item] = np.array(p), np.array(q)
    return pcs_w, mcs_w, float(ref.pcs), float(ref.mcs)


def _block(items: tuple[str, ...], pcs_w: dict[str, np.ndarray], mcs_w: dict[str, np.ndarray]):
    """All answer sets of a block: codes (c, len(items)), PCS and MCS parts, and spread."""
    codes = np.array(
        list(itertools.product(*(range(1, sf12.RANGES[i] + 1) for i in items))), dtype=np.int8
    )
    pcs = sum(pcs_w[item][codes[:, j] - 1] for j, item in enumerate(items))
    mcs = sum(mcs_w[item][codes[:, j] - 1] for j, item in enumerate(items))
    health = np.column_stack(
        [
            (np.array([sf12.recode(item, int(c)) for c in codes[:, j]]) - 1)
            / (sf12.RANGES[item] - 1)
            for j, item in enumerate(items)
        ]
    )
    return codes, np.asarray(pcs), np.asarray(mcs), health.var(axis=1)


@dataclass(frozen=True)
class Sf12Table:
    """Answer sets binned on the (PCS, MCS) grid."""

    phys_codes: np.ndarray
    ment_codes: np.ndarray
    n_ment: int
    pcs_lo: float
    mcs_lo: float
    shape: tuple[int, int]
    nearest: np.ndarray  # cell -> nearest non-empty cell
    start: np.ndarray  # cell -> first position in members
    count: np.ndarray  # cell -> number of members kept
    members: np.ndarray  # combined answer-set indices


@functools.lru_cache(maxsize=1)
def sf12_table() -> Sf12Table:
    """Build (once) the binned table of SF-12 answer sets from the project's scorer."""
    pcs_w, mcs_w, pcs_ref, mcs_ref = _contributions()
    phys, p_pcs, p_mcs, p_var = _block(PHYSICAL_ITEMS, pcs_w, mcs_w)
    ment, m_pcs, m_mcs, m_var = _block(MENTAL_ITEMS, pcs_w, mcs_w)
    pcs = (pcs_ref + p_pcs[:, None] + m_pcs[None, :]).ravel()
    mcs = (mcs_ref + p_mcs[:, None] + m_mcs[None, :]).ravel()
    spread = (p_var[:, None] + m_var[None, :]).ravel()
    _check_additivity(phys, ment, pcs, mcs)
    pcs_lo = np.floor(pcs.min()) - 1
    mcs_lo = np.floor(mcs.min()) - 1
    rows = int(np.ceil((pcs.max() + 1 - pcs_lo) / GRID_STEP)) + 1
    cols = int(np.ceil((mcs.max() + 1 - mcs_lo) / GRID_STEP)) + 1
    cell = ((pcs - pcs_lo) // GRID_STEP).astype(np.int64) * cols + (
        (mcs - mcs_lo) // GRID_STEP
    ).astype(np.int64)
    order = np.lexsort((spread, cell))
    sorted_cells = cell[order]
    first = np.searchsorted(sorted_cells, sorted_cells, side="left")
    keep = (np.arange(order.size) - first) < CELL_KEEP
    members = order[keep].astype(np.int64)
    kept_cells = sorted_cells[keep]
    count = np.bincount(kept_cells, minlength=rows * cols)
    start = np.r_[0, np.cumsum(count)[:-1]]
    empty = (count == 0).reshape(rows, cols)
    _, (ri, ci) = ndimage.distance_transform_edt(empty, return_indices=True)
    nearest = (ri * cols + ci).ravel()
    return Sf12Table(
        phys_codes=phys,
        ment_codes=ment,
        n_ment=ment.shape[0],
        pcs_lo=float(pcs_lo),
        mcs_lo=float(mcs_lo),
        shape=(rows, cols),
        nearest=nearest,
        start=start,
        count=count,
        members=members,
    )


def _check_additivity(phys: np.ndarray, ment: np.ndarray, pcs: np.ndarray, mcs: np.ndarray) -> None:
    """Compare a few table entries with the scorer itself; the table needs additive scoring."""
    n_ment = ment.shape[0]
    for index in (0, 1234567, 2718281, pcs.size - 1):
        codes = np.r_[phys[index // n_ment], ment[index % n_ment]]
        answers = dict(zip(PHYSICAL_ITEMS + MENTAL_ITEMS, (int(c) for c in codes), strict=True))
        s = sf12.score(answers)
        if (
            s.pcs is None
            or s.mcs is None
            or abs(s.pcs - pcs[index]) + abs(s.mcs - mcs[index]) > 1e-3
        ):
            raise RuntimeError("SF-12 scoring is not additive in the item categories")


def sf12_answers(
    rng: np.random.Generator, pcs: np.ndarray, mcs: np.ndarray
) -> dict[str, np.ndarray]:
    """Return SF-12 codes (1-based, keyed by item) whose scored PCS/MCS approximate the targets."""
    table = sf12_table()
    rows, cols = table.shape
    r = np.clip(((pcs - table.pcs_lo) // GRID_STEP).astype(np.int64), 0, rows - 1)
    c = np.clip(((mcs - table.mcs_lo) // GRID_STEP).astype(np.int64), 0, cols - 1)
    cell = table.nearest[r * cols + c]
    pick = table.start[cell] + (rng.random(pcs.size) * table.count[cell]).astype(np.int64)
    combo = table.members[pick]
    phys = table.phys_codes[combo // table.n_ment]
    ment = table.ment_codes[combo % table.n_ment]
    out = {item: phys[:, j].astype(np.int64) for j, item in enumerate(PHYSICAL_ITEMS)}
    out.update({item: ment[:, j].astype(np.int64) for j, item in enumerate(MENTAL_ITEMS)})
    return out


def sf12_scores(answers: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Score PCS and MCS of many answer sets at once (same numbers as ``sf12.score``)."""
    pcs_w, mcs_w, pcs_ref, mcs_ref = _contributions_cached()
    pcs = pcs_ref + sum(pcs_w[item][answers[item] - 1] for item in sf12.ITEMS)
    mcs = mcs_ref + sum(mcs_w[item][answers[item] - 1] for item in sf12.ITEMS)
    return np.asarray(pcs, dtype=float), np.asarray(mcs, dtype=float)


@functools.lru_cache(maxsize=1)
def _contributions_cached() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float, float]:
    return _contributions()
