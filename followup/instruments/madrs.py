"""Montgomery-Asberg Depression Rating Scale (MADRS; Montgomery & Asberg, Br J Psychiatry 1979).

Ten clinician-rated items, each scored 0..6 (the defined steps 0, 2, 4, 6 and the steps between
them), summed to a total of 0..60.

Missing items: the total is computed only when all ten items are rated. The original publication
gives no proration rule; the rules found in trial protocols (e.g. prorating when one or two items
are missing) are each sponsor's choice, not part of the scale. The MADRS is a rater's interview in
which every item is asked, so a blank item is a data error to query, and a missing total is then
left to the analysis (the mixed model uses every visit that has one) rather than filled in here.

Severity bands: Snaith RP, Harrop FM, Newby DA, Teale C. Grade scores of the Montgomery-Asberg
Depression and the Clinical Anxiety Scales. Br J Psychiatry 1986;148:599-601: 0-6 symptom absent,
7-19 mild, 20-34 moderate, 35-60 severe. (Muller et al., J Affect Disord 2000;60:137-140 also put
severe at 35 or more; Muller et al., J Affect Disord 2003;77:255-260 found 31 separated moderate
from severe best against the CGI. Snaith's grades are kept as the conventional ones.)

Response is a reduction of at least 50% from baseline; remission is a total of 10 or less (the
definitions of the Lan et al. 2022 trial). Both are computed in integers, so 50% exactly counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from followup.instruments import as_integer

ITEMS: Final[tuple[int, ...]] = tuple(range(1, 11))
ITEM_MIN, ITEM_MAX = 0, 6
TOTAL_MAX: Final = 60

# Upper bounds (inclusive) of the absent, mild and moderate bands (Snaith et al. 1986).
ABSENT_MAX: Final = 6
MILD_MAX: Final = 19
MODERATE_MAX: Final = 34
BAND_ABSENT: Final = "0-6"
BAND_MILD: Final = "7-19"
BAND_MODERATE: Final = "20-34"
BAND_SEVERE: Final = ">=35"
BANDS: Final[tuple[str, ...]] = (BAND_ABSENT, BAND_MILD, BAND_MODERATE, BAND_SEVERE)

# Response: the total falls by at least this percentage of the baseline total.
RESPONSE_REDUCTION_PCT: Final = 50
# Remission: the total is at most this.
REMISSION_MAX: Final = 10


@dataclass(frozen=True)
class MadrsScore:
    """The total (None unless all ten items are rated) and its severity band."""

    total: int | None
    band: str | None


def field_name(item: object) -> str:
    """Return the form and API field name of an item, e.g. ``madrs_3``."""
    return f"madrs_{item}"


def _is_item(item: object) -> bool:
    """Say whether ``item`` is an item number 1..10 (an int, not a bool or a float)."""
    return isinstance(item, int) and not isinstance(item, bool) and item in ITEMS


def _item_problem(item: object, value: object) -> str | None:
    """Return what is wrong with one (item, rating) pair, or None (a blank is no problem)."""
    if not _is_item(item):
        return f"MADRS has items 1 to 10, got item {item!r}."
    if value is None:
        return None
    number = as_integer(value)
    if number is None or not ITEM_MIN <= number <= ITEM_MAX:
        return f"MADRS item {item}: rating must be a whole number from 0 to 6, got {value!r}."
    return None


def validate_answers(answers: Mapping[int, object], *, required: bool = False) -> dict[str, str]:
    """Return every problem in the ratings as {field name: message}; empty if all is well.

    Missing items (None or absent) are problems only when ``required``; otherwise they leave the
    total unscored.
    """
    problems: dict[str, str] = {}
    for item, value in answers.items():
        message = _item_problem(item, value)
        if message is not None:
            problems[field_name(item)] = message
    if required:
        for item in ITEMS:
            if answers.get(item) is None:
                problems[field_name(item)] = f"MADRS item {item}: a rating from 0 to 6 is required."
    return problems


def _checked_total(total: object, name: str = "MADRS total") -> int:
    """Return ``total`` as an int, or raise ValueError unless it is a whole number 0..60."""
    number = as_integer(total)
    if number is None or not 0 <= number <= TOTAL_MAX:
        raise ValueError(f"{name} must be a whole number from 0 to 60, got {total!r}.")
    return number


def band(total: int | None) -> str | None:
    """Return the severity band of a total, or None for a missing total."""
    if total is None:
        return None
    value = _checked_total(total)
    if value <= ABSENT_MAX:
        return BAND_ABSENT
    if value <= MILD_MAX:
        return BAND_MILD
    if value <= MODERATE_MAX:
        return BAND_MODERATE
    return BAND_SEVERE


def total(answers: Mapping[int, int | None]) -> int | None:
    """Return the sum of the ten ratings, None if any is missing; ValueError on an invalid one."""
    problems = validate_answers(answers)
    if problems:
        raise ValueError(" ".join(problems.values()))
    ratings = [as_integer(answers.get(item)) for item in ITEMS]
    if any(rating is None for rating in ratings):
        return None
    return sum(rating for rating in ratings if rating is not None)


def score(answers: Mapping[int, int | None]) -> MadrsScore:
    """Score the MADRS from the ten item ratings; raise ValueError on any invalid item or rating."""
    value = total(answers)
    return MadrsScore(total=value, band=band(value))


def percent_change(baseline_total: int | None, total: int | None) -> float | None:
    """Return the change from baseline in percent of baseline (negative = improvement).

    None when either total is missing or the baseline is 0 (no change can be expressed as a
    share of nothing).
    """
    if baseline_total is None or total is None:
        return None
    base, now = _checked_total(baseline_total, "Baseline total"), _checked_total(total)
    if base == 0:
        return None
    return 100.0 * (now - base) / base


def response(baseline_total: int | None, total: int | None) -> bool | None:
    """Say whether the total fell by at least 50% from baseline.

    None when either total is missing or the baseline is 0: a reduction from 0 is undefined, and
    a patient without symptoms at baseline is neither a responder nor a non-responder.
    """
    if baseline_total is None or total is None:
        return None
    base, now = _checked_total(baseline_total, "Baseline total"), _checked_total(total)
    if base == 0:
        return None
    # (base - now) / base >= pct / 100, kept in integers so that exactly 50% counts.
    return 100 * (base - now) >= RESPONSE_REDUCTION_PCT * base


def remission(total: int | None) -> bool | None:
    """Say whether a total is at or below the remission threshold of 10; None when missing."""
    if total is None:
        return None
    return _checked_total(total) <= REMISSION_MAX
