"""Call schedule, dropout, call outcomes, attempts and reasons for missing instruments.

Dropout and missed calls are missing completely at random: they depend on no outcome, so the
complete-case and LOCF analyses are unbiased for the truth (documented in docs/demo-cohort.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cohort.vocabulary import FOLLOWUP_TIMEPOINTS
from demo.synthetic import params
from followup.schedule import build_schedule

INSTRUMENTS = ("nprs", "hads", "sf12")
K = params.N_TIMEPOINTS
WITHDRAWAL_REASONS = (
    "Withdrew consent",
    "Insufficient pain relief",
    "Adverse effects",
    "Moved away",
    "Too tiring to answer the calls",
)
REASON_LOST = "No answer after three attempts"
REASON_DECEASED = "Death unrelated to ketamine"


@dataclass
class CallPlan:
    """Outcome of every call (n, 14) and the attempts (long arrays)."""

    target: np.ndarray  # datetime64[D]
    status: np.ndarray  # object codes
    call_date: np.ndarray  # datetime64[D], NaT when not reached
    n_attempts: np.ndarray
    missing: dict[str, np.ndarray]  # instrument -> object reasons (None when present)
    drop_tp: np.ndarray  # timepoint index of leaving (K when never)
    drop_kind: np.ndarray  # object: withdrawn / lost / deceased / "" (stays)
    status_date: np.ndarray  # datetime64[D]
    status_reason: np.ndarray  # object or None
    att_patient: np.ndarray
    att_tp: np.ndarray
    att_no: np.ndarray
    att_outcome: np.ndarray
    att_at: np.ndarray  # datetime64[m]


def target_dates(inclusion: np.ndarray) -> np.ndarray:
    """Return target dates (n, 14): BL on inclusion, then ``build_schedule`` of each patient."""
    unique, inverse = np.unique(inclusion, return_inverse=True)
    table = np.empty((unique.size, K), dtype="datetime64[D]")
    for row, day in enumerate(unique.astype(object)):
        calls = build_schedule(day)
        table[row, 0] = np.datetime64(day, "D")
        for j, call in enumerate(calls, start=1):
            table[row, j] = np.datetime64(call.target, "D")
    assert [c.timepoint for c in build_schedule(unique[0].astype(object))] == list(
        FOLLOWUP_TIMEPOINTS
    )
    return table[inverse.ravel()]


def _weighted_choice(rng: np.random.Generator, table: dict[str, float], size: int) -> np.ndarray:
    keys = np.array(list(table), dtype=object)
    p = np.array(list(table.values()), dtype=float)
    return keys[rng.choice(keys.size, size=size, p=p / p.sum())]


def _dropout(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the timepoint each patient leaves at (K when never) and how they leave."""
    cum = np.cumsum(params.DROPOUT_AT)
    drop_tp = 1 + np.searchsorted(cum, rng.random(n), side="right")  # K when never
    kinds = _weighted_choice(rng, params.DROPOUT_KIND, n)
    drop_kind = np.where(drop_tp < K, kinds, "").astype(object)
    return drop_tp, drop_kind


def _call_status(
    rng: np.random.Generator, drop_tp: np.ndarray, drop_kind: np.ndarray
) -> np.ndarray:
    """Return the status of every call (n, K): missed calls, then the leaving patients'."""
    n = drop_tp.size
    tp = np.arange(K)[None, :]
    status = np.full((n, K), "reached", dtype=object)
    missed = rng.random((n, K)) < np.r_[0.0, params.MISSED_CALL][None, :]
    refused = rng.random((n, K)) < params.MISSED_REFUSED
    status[missed & refused] = "refused"
    status[missed & ~refused] = "unreachable"
    at_drop = tp == drop_tp[:, None]
    after = tp > drop_tp[:, None]
    kind_rows = drop_kind[:, None]
    status[at_drop & (kind_rows == "withdrawn")] = "withdrawn"
    status[at_drop & (kind_rows == "lost")] = "unreachable"
    status[at_drop & (kind_rows == "deceased")] = "closed"
    status[after] = "closed"
    status[:, 0] = "reached"
    return status


def _attempt_counts(
    rng: np.random.Generator, status: np.ndarray, drop_tp: np.ndarray, drop_kind: np.ndarray
) -> np.ndarray:
    """Return the number of attempts of every call (n, K); none at baseline (in hospital)."""
    at_drop = np.arange(K)[None, :] == drop_tp[:, None]
    kind_rows = drop_kind[:, None]
    n_att = np.zeros(status.shape, dtype=np.int64)
    reached = status == "reached"
    reached[:, 0] = False  # baseline is in hospital: no call attempt
    n_att[reached] = 1 + rng.choice(3, size=int(reached.sum()), p=params.REACHED_ATTEMPTS)
    unreach = status == "unreachable"
    n_att[unreach] = 1 + rng.choice(3, size=int(unreach.sum()), p=params.UNREACHABLE_ATTEMPTS)
    lost_call = at_drop & (kind_rows == "lost")
    n_att[lost_call] = 3
    short = (status == "refused") | (status == "withdrawn")
    n_att[short] = 1 + (rng.random(int(short.sum())) < 0.3)
    n_att[at_drop & (kind_rows == "deceased")] = 1
    return n_att


@dataclass
class _Attempts:
    """Every attempt as long arrays, in call order, and the day of each call's last attempt."""

    patient: np.ndarray
    tp: np.ndarray
    number: np.ndarray
    outcome: np.ndarray
    at: np.ndarray  # datetime64[m]
    last_day: np.ndarray  # (n, K) datetime64[D], NaT for calls without attempts


def _attempts(
    rng: np.random.Generator, n_att: np.ndarray, status: np.ndarray, target: np.ndarray
) -> _Attempts:
    """Draw the day, time and outcome of every attempt; the last one gives the call's outcome."""
    flat = n_att.ravel()
    call_index = np.repeat(np.arange(flat.size), flat)
    first = np.r_[0, np.cumsum(flat)[:-1]]
    att_no = np.arange(call_index.size) - first[call_index] + 1
    att_patient, att_tp = np.divmod(call_index, K)
    lo, hi = params.FIRST_ATTEMPT_OFFSET_DAYS
    w1 = att_tp == 1
    first_offset = np.where(
        w1, rng.integers(-1, 3, call_index.size), rng.integers(lo, hi + 1, call_index.size)
    )
    step = np.where(att_no == 1, first_offset, rng.integers(1, 4, call_index.size))
    cs = np.cumsum(step)
    start_idx = first[call_index]
    day_offset = cs - cs[start_idx] + step[start_idx]
    att_day = target.ravel()[call_index] + day_offset.astype("timedelta64[D]")
    minutes = rng.integers(9 * 60, 18 * 60, call_index.size).astype("timedelta64[m]")
    att_at = att_day.astype("datetime64[m]") + minutes

    call_status = status.ravel()[call_index]
    is_last = att_no == flat[call_index]
    outcome = _weighted_choice(rng, params.FAILED_OUTCOMES, call_index.size)
    last_outcome = np.select(
        [call_status == "reached", call_status == "refused", call_status == "withdrawn",
         call_status == "closed"],
        ["reached", "refused", "withdrew", "reached"],
        default="",
    ).astype(object)  # fmt: skip
    outcome = np.where(is_last & (last_outcome != ""), last_outcome, outcome).astype(object)

    last_flat = np.full(flat.size, np.datetime64("NaT"), dtype="datetime64[D]")
    last_flat[call_index[is_last]] = att_day[is_last]
    return _Attempts(
        patient=att_patient,
        tp=att_tp,
        number=att_no,
        outcome=outcome,
        at=att_at,
        last_day=last_flat.reshape(status.shape),
    )


def _final_status(
    rng: np.random.Generator,
    drop_tp: np.ndarray,
    drop_kind: np.ndarray,
    last_day: np.ndarray,
    target: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return each patient's status date (leaving, else M12) and the reason for leaving."""
    n = drop_tp.size
    has_drop = drop_tp < K
    rows = np.arange(n)
    drop_col = np.minimum(drop_tp, K - 1)
    m12_day = np.where(np.isnat(last_day[:, -1]), target[:, -1], last_day[:, -1])
    status_date = np.where(has_drop, last_day[rows, drop_col], m12_day)
    reason = np.full(n, None, dtype=object)
    withdrawn = drop_kind == "withdrawn"
    reason[withdrawn] = np.array(WITHDRAWAL_REASONS, dtype=object)[
        rng.integers(0, len(WITHDRAWAL_REASONS), int(withdrawn.sum()))
    ]
    reason[drop_kind == "lost"] = REASON_LOST
    reason[drop_kind == "deceased"] = REASON_DECEASED
    return status_date, reason


def plan_calls(rng: np.random.Generator, inclusion: np.ndarray) -> CallPlan:
    """Draw dropout, the outcome of each call, its attempts and the missing instruments."""
    target = target_dates(inclusion)
    drop_tp, drop_kind = _dropout(rng, inclusion.size)
    status = _call_status(rng, drop_tp, drop_kind)
    n_att = _attempt_counts(rng, status, drop_tp, drop_kind)
    attempts = _attempts(rng, n_att, status, target)
    call_date = np.where(status == "reached", attempts.last_day, np.datetime64("NaT"))
    call_date[:, 0] = target[:, 0]
    missing = _missing_reasons(rng, status, drop_kind, drop_tp)
    status_date, reason = _final_status(rng, drop_tp, drop_kind, attempts.last_day, target)
    return CallPlan(
        target=target,
        status=status,
        call_date=call_date,
        n_attempts=n_att,
        missing=missing,
        drop_tp=drop_tp,
        drop_kind=drop_kind,
        status_date=status_date,
        status_reason=reason,
        att_patient=attempts.patient,
        att_tp=attempts.tp,
        att_no=attempts.number,
        att_outcome=attempts.outcome,
        att_at=attempts.at,
    )


def _missing_reasons(
    rng: np.random.Generator, status: np.ndarray, drop_kind: np.ndarray, drop_tp: np.ndarray
) -> dict[str, np.ndarray]:
    """Return per instrument the reason each value is absent (None when recorded)."""
    n = status.shape[0]
    tp = np.arange(K)[None, :]
    after_loss = (tp > drop_tp[:, None]) & (drop_kind[:, None] == "lost")
    out: dict[str, np.ndarray] = {}
    for instrument in INSTRUMENTS:
        reason = np.full((n, K), None, dtype=object)
        p_missing = np.full(K, params.FOLLOWUP_ITEM_MISSING[instrument])
        p_missing[0] = params.BASELINE_MISSING[instrument]
        item_missing = (status == "reached") & (rng.random((n, K)) < p_missing[None, :])
        not_asked = rng.random((n, K)) < params.MISSING_NOT_ASKED
        reason[item_missing & not_asked] = "not_asked"
        reason[item_missing & ~not_asked] = "refused"
        reason[status == "unreachable"] = "unreachable"
        reason[(status == "refused") | (status == "withdrawn")] = "refused"
        # As followup.instruments.missing.call_reason derives them for calls not made.
        closed = status == "closed"
        reason[closed & (drop_kind[:, None] == "withdrawn")] = "refused"
        reason[closed & (drop_kind[:, None] == "deceased")] = "not_applicable"
        reason[after_loss] = "lost"
        out[instrument] = reason
    return out
