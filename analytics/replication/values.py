"""Reading and writing the figures: numbers, P values, fractions, and their standard errors."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

Z_CRITICAL = 1.959963984540054


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
        return f"{value:.{places}f}"
    if isinstance(value, list):
        likes = like if isinstance(like, list) else [None] * len(value)
        return "[" + ", ".join(_format(v, w) for v, w in zip(value, likes, strict=False)) + "]"
    return str(value)


def _signed(value: float, places: int) -> str:
    """Write a difference with its sign, and a plain 0 when it rounds to nothing."""
    text = f"{value:+.{places}f}"
    return text[1:] if float(text) == 0 else text


def _month(value: Any) -> str:
    """Write a study month as the paper does (2), week 1 as W1."""
    number = _number(value)
    if number is None:
        return "–"
    return "W1" if 0 < number < 1 else f"{number:g}"


_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)")


def _fraction(value: Any) -> tuple[int, int] | None:
    """Read ``"15/52 (28.8%)"`` or ``"140/329"`` as (15, 52)."""
    match = _FRACTION.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _p_number(value: Any) -> float | None:
    """Read a P value written as a number or as ``"<.001"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and value.strip().startswith("<"):
        return float("0" + value.strip()[1:]) / 2
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _get(tree: Any, path: Sequence[str]) -> Any:
    for key in path:
        if not isinstance(tree, Mapping):
            return None
        tree = tree.get(key)
    return tree


# -- standard errors -----------------------------------------------------------------------------
def _count_for_mean(tree: Any, path: Sequence[str], default: float | None) -> float | None:
    """Return the n behind a mean, an SD or a correlation: the nearest ``n`` or ``of`` above."""
    for depth in range(len(path) - 1, -1, -1):
        block = _get(tree, path[:depth])
        if isinstance(block, Mapping):
            n = _number(block.get("n")) or _number(block.get("of"))
            if n:
                return n
    return default


def _denominator(
    tree: Any, path: Sequence[str], section: str, default: float | None
) -> float | None:
    """Return the denominator of a share or a count: ``of``, or an ``n`` that is not a numerator.

    In ``{"n": 249, "pct": 75.7}`` the ``n`` counts the patients of the share; in
    ``{"n": 135, "mean": 5.6, "pct_ge4": 87.4}`` it is the denominator of ``pct_ge4``.
    """
    if section == "cohort" and path and path[0] in ("iv_cumulative_dose_mg", "iv_duration_days"):
        return _number(_get(tree, ["iv_route", "n"]))
    if "top_pct_of_events" in path:
        return _number(_get(tree, [*path[: path.index("top_pct_of_events")], "total_events"]))
    if "groups" in path and "trajectories" in path:
        groups = _get(tree, path[: path.index("groups") + 1])
        if isinstance(groups, Mapping):
            sizes = [_number(g.get("n")) for g in groups.values() if isinstance(g, Mapping)]
            return float(sum(s for s in sizes if s)) or None
    for depth in range(len(path) - 1, -1, -1):
        block = _get(tree, path[:depth])
        if not isinstance(block, Mapping):
            continue
        own_count = depth == len(path) - 1 and path[-1] in ("n", "of")
        if own_count:
            continue
        if _number(block.get("of")):
            return _number(block["of"])
        if "pct" not in block and _number(block.get("n")):
            return _number(block["n"])
    return default


def _share_kind(path: Sequence[str]) -> str:
    """Say whether a leaf is a percentage (``"percent"``), a count out of a denominator
    (``"count"``) or neither (``""``)."""
    key, parent = path[-1], (path[-2] if len(path) > 1 else "")
    if key == "pct" or key.startswith("pct_") or key.endswith("_pct") or "pct" in parent.split("_"):
        return "percent"
    if key in ("n", "of") or parent == "figure2_groups_n":
        return "count"
    return ""


def _share_se(share: float, n: float) -> float:
    share = min(max(share, 0.5 / n), 1 - 0.5 / n)  # a 0% or 100% share still has an error
    return math.sqrt(share * (1 - share) / n)


def _ci_se(ci: Any) -> float | None:
    if isinstance(ci, list) and len(ci) == 2:
        low, high = _number(ci[0]), _number(ci[1])
        if low is not None and high is not None and high >= low:
            return (high - low) / (2 * Z_CRITICAL)
    return None
