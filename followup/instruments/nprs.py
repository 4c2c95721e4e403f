"""Numeric pain rating scale (NPRS): pain intensity from 0 (no pain) to 10 (worst imaginable).

Each call records the mean and the maximum pain intensity; the maximum cannot be below the mean.
"""

from __future__ import annotations

from typing import Final

from followup.instruments import as_integer

MIN, MAX = 0, 10

MEAN_FIELD: Final = "nprs_mean"
MAX_FIELD: Final = "nprs_max"

# Lowest ratings of the moderate and severe bands (the paper's table: <3, 3-6, >=7).
MODERATE_FROM: Final = 3
SEVERE_FROM: Final = 7
BAND_MILD: Final = "<3"
BAND_MODERATE: Final = "3-6"
BAND_SEVERE: Final = ">=7"
BANDS: Final[tuple[str, ...]] = (BAND_MILD, BAND_MODERATE, BAND_SEVERE)


def validate(value: object, *, required: bool = True) -> str | None:
    """Return a message if ``value`` is not a whole number from 0 to 10, else None."""
    if value is None:
        return "A pain rating from 0 to 10 is required." if required else None
    number = as_integer(value)
    if number is None or not MIN <= number <= MAX:
        return f"Pain rating must be a whole number from 0 to 10, got {value!r}."
    return None


def validate_pair(mean: object, maximum: object, *, required: bool = True) -> dict[str, str]:
    """Return the problems of a (mean, maximum) pair as {field name: message}."""
    problems: dict[str, str] = {}
    for field, value in ((MEAN_FIELD, mean), (MAX_FIELD, maximum)):
        message = validate(value, required=required)
        if message is not None:
            problems[field] = message
    if problems:
        return problems
    low, high = as_integer(mean), as_integer(maximum)
    if low is not None and high is not None and high < low:
        problems[MAX_FIELD] = (
            f"Maximum pain ({high}) cannot be lower than mean pain ({low}); check both ratings."
        )
    return problems


def band(value: int | None) -> str | None:
    """Return the intensity band of a rating, or None for a missing rating."""
    if value is None:
        return None
    number = as_integer(value)
    if number is None or not MIN <= number <= MAX:
        raise ValueError(f"Pain rating must be a whole number from 0 to 10, got {value!r}.")
    if number < MODERATE_FROM:
        return BAND_MILD
    if number < SEVERE_FROM:
        return BAND_MODERATE
    return BAND_SEVERE
