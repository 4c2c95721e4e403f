"""Put each figure the paper published beside the same figure of a live run (pure, no Django).

The report shares its keys with ``paper-targets.json`` (docs/analysis-report.md), so the
comparison is a walk over the paper's leaves, looking up the same path in the report.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PAPER_FILE = Path(__file__).resolve().parent / "paper_targets.json"
# Descriptive keys of the paper's blocks that are words, not figures.
TEXT_KEYS = frozenset({"population", "method", "model", "grouping"})


@dataclass(frozen=True)
class Row:
    """One published figure and the live one."""

    section: str
    path: str  # dotted, below the section
    paper: str
    live: str
    difference: float | None  # live - paper, when both are plain numbers


@cache
def paper_figures() -> dict[str, Any]:
    """Return the published figures (a copy of paper-targets.json kept with the code)."""
    data: dict[str, Any] = json.loads(PAPER_FILE.read_text())
    return data


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _format(value: Any, like: Any = None) -> str:
    """Write a live value with as many decimals as the published one."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "–"
        places = _decimals(like) if isinstance(like, (int, float)) else 2
        if isinstance(like, str) and like.startswith("<"):
            return "<.001" if value < 0.001 else f"{value:.3f}".removeprefix("0")
        return f"{value:.{places}f}"
    if isinstance(value, list):
        likes = like if isinstance(like, list) else [None] * len(value)
        return "[" + ", ".join(_format(v, w) for v, w in zip(value, likes, strict=False)) + "]"
    return str(value)


def _walk(paper: Any, live: Any, path: list[str]) -> list[tuple[list[str], Any, Any]]:
    if isinstance(paper, dict):
        out = []
        for key, value in paper.items():
            found = live.get(key) if isinstance(live, dict) else None
            out += _walk(value, found, [*path, key])
        return out
    return [(path, paper, live)]


def compare(report: dict[str, Any], sections: tuple[str, ...] = ("cohort", "results")) -> list[Row]:
    """Return one row per published figure of ``sections``, with the live value beside it."""
    rows = []
    published = paper_figures()
    for section in sections:
        for path, paper, live in _walk(published[section], report.get(section), []):
            if path[-1] in TEXT_KEYS:
                continue
            difference = None
            numbers = (int, float)
            if (
                isinstance(paper, numbers)
                and isinstance(live, numbers)
                and not isinstance(paper, bool)
            ):
                difference = float(live) - float(paper)
            rows.append(
                Row(
                    section=section,
                    path=".".join(path),
                    paper=_format(paper, paper),
                    live=_format(live, paper),
                    difference=difference,
                )
            )
    return rows
