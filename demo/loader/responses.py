"""The NPRS, HADS and SF-12 answers of each call, scored by the app's own instruments."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from demo.loader.frames import table, text_or_blank
from demo.loader.writer import RowWriter
from demo.synthetic.frames import SF12_ITEM_REASONS
from followup.instruments import hads, sf12
from followup.models import HadsResponse, NprsResponse, Sf12Response

HADS_COLUMNS = [f"hads_{n}" for n in range(1, 15)]
SF12_COLUMNS = [f"sf12_{item.lower()}" for item in sf12.ITEMS]
QUESTIONNAIRES = ("nprs", "hads", "sf12")


def score_rows(
    answers: np.ndarray, scorer: Callable[[tuple[int | None, ...]], tuple[Any, ...]], width: int
) -> list[np.ndarray]:
    """Score each distinct row of ``answers`` (-1 for missing) once; return one array per score."""
    if not len(answers):
        return [np.empty(0, dtype=object) for _ in range(width)]
    base = int(answers.max()) + 2
    if base ** answers.shape[1] < 2**62:
        # One integer per row: sorting integers is far cheaper than sorting rows.
        key = (answers + 1) @ (base ** np.arange(answers.shape[1], dtype=np.int64))
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        distinct = answers[first]
    else:
        distinct, inverse = np.unique(answers, axis=0, return_inverse=True)
    scored = np.empty((len(distinct), width), dtype=object)
    for i, row in enumerate(distinct.tolist()):
        scored[i] = scorer(tuple(None if v < 0 else v for v in row))
    return list(scored[inverse.ravel()].T)


def _anxiety(answers: tuple[int | None, ...]) -> tuple[int | None]:
    return (hads.score(dict(zip(hads.ANXIETY_ITEMS, answers, strict=True))).anxiety,)


def _depression(answers: tuple[int | None, ...]) -> tuple[int | None]:
    return (hads.score(dict(zip(hads.DEPRESSION_ITEMS, answers, strict=True))).depression,)


def _sf12_scores(answers: tuple[int | None, ...]) -> tuple[float | None, float | None]:
    result = sf12.score(dict(zip(sf12.ITEMS, answers, strict=True)))
    return result.pcs, result.mcs


def _answered(
    calls: pd.DataFrame, name: str, columns: list[str]
) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Return which calls get a row, their answers, and the answers as ints (-1 missing)."""
    reason = calls[f"{name}_missing_reason"].fillna("")
    values = calls[columns]
    rows = (values.notna().any(axis=1) | (reason != "")).to_numpy()
    values = values[rows]
    codes = values.astype("Int64").fillna(-1).to_numpy(dtype=np.int64)
    return rows, values, codes


def insert_responses(
    writer: RowWriter, calls: pd.DataFrame, call_ids: np.ndarray, now: str
) -> dict[str, int]:
    """Insert the NPRS, HADS and SF-12 rows of every call that has values or a reason.

    Only reached calls store reasons: those of calls not made are derived when read.
    """
    made = calls.status.eq("reached")
    calls = calls.assign(
        **{
            f"{name}_missing_reason": calls[f"{name}_missing_reason"].where(made, None)
            for name in QUESTIONNAIRES
        }
    )
    return {
        "nprs": _insert_nprs(writer, calls, call_ids, now),
        "hads": _insert_hads(writer, calls, call_ids, now),
        "sf12": _insert_sf12(writer, calls, call_ids, now),
    }


def _insert_nprs(writer: RowWriter, calls: pd.DataFrame, call_ids: np.ndarray, now: str) -> int:
    reason = calls.nprs_missing_reason.fillna("")
    rows = (calls.nprs_mean.notna() | calls.nprs_max.notna() | (reason != "")).to_numpy()
    return writer.insert(
        NprsResponse,
        table(
            {
                "id": writer.next_id(NprsResponse) + np.arange(rows.sum()),
                "call_id": call_ids[rows],
                "mean": calls.nprs_mean[rows],
                "maximum": calls.nprs_max[rows],
                "missing_reason": text_or_blank(reason[rows]),
                "item_reasons": "{}",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def _insert_hads(writer: RowWriter, calls: pd.DataFrame, call_ids: np.ndarray, now: str) -> int:
    rows, values, codes = _answered(calls, "hads", HADS_COLUMNS)
    items = {f"item_{n}": values[f"hads_{n}"] for n in range(1, 15)}
    # The subscales are scored apart, so each is scored once per distinct set of seven answers.
    (anxiety,) = score_rows(codes[:, [n - 1 for n in hads.ANXIETY_ITEMS]], _anxiety, 1)
    (depression,) = score_rows(codes[:, [n - 1 for n in hads.DEPRESSION_ITEMS]], _depression, 1)
    return writer.insert(
        HadsResponse,
        table(
            {
                "id": writer.next_id(HadsResponse) + np.arange(rows.sum()),
                "call_id": call_ids[rows],
                **items,
                "anxiety": anxiety,
                "depression": depression,
                "missing_reason": text_or_blank(calls.hads_missing_reason[rows]),
                "item_reasons": "{}",
                "created_at": now,
                "updated_at": now,
            }
        ),
    )


def _insert_sf12(writer: RowWriter, calls: pd.DataFrame, call_ids: np.ndarray, now: str) -> int:
    rows, values, codes = _answered(calls, "sf12", SF12_COLUMNS)
    items = {c.removeprefix("sf12_"): values[c] for c in SF12_COLUMNS}
    given = calls.get(SF12_ITEM_REASONS)
    item_reasons = (
        np.array([json.dumps(r) if r else "{}" for r in given[rows]], dtype=object)
        if given is not None
        else "{}"
    )
    pcs, mcs = score_rows(codes, _sf12_scores, 2)
    return writer.insert(
        Sf12Response,
        table(
            {
                "id": writer.next_id(Sf12Response) + np.arange(rows.sum()),
                "call_id": call_ids[rows],
                **items,
                "pcs": pcs,
                "mcs": mcs,
                "missing_reason": text_or_blank(calls.sf12_missing_reason[rows]),
                "item_reasons": item_reasons,
                "created_at": now,
                "updated_at": now,
            }
        ),
    )
