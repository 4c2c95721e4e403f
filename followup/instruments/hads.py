"""Hospital Anxiety and Depression Scale (HADS; Zigmond & Snaith 1983).

Fourteen items scored 0..3 after keying: the odd items make the anxiety subscale, the even items
the depression subscale, each 0..21. Bands follow the usual cut-offs: 0-7 normal, 8-10
borderline, 11-21 abnormal. One missing item per subscale is prorated from the six others; two or
more leave the subscale unscored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from followup.instruments import as_integer

ITEMS: Final[tuple[int, ...]] = tuple(range(1, 15))
ANXIETY_ITEMS: Final[tuple[int, ...]] = (1, 3, 5, 7, 9, 11, 13)
DEPRESSION_ITEMS: Final[tuple[int, ...]] = (2, 4, 6, 8, 10, 12, 14)
ITEM_MIN, ITEM_MAX = 0, 3
SUBSCALE_MAX: Final = 21

# On the printed form these items list the most severe option first, so the top option scores 3;
# the others list the least severe first. The order mostly follows the wording (symptom items
# start with the severe option, positively worded items with the mild one), except item 6 (positive,
# severe first) and item 9 (symptom, mild first): those two are the usual keying errors.
DESCENDING_ITEMS: Final[frozenset[int]] = frozenset({1, 3, 5, 6, 8, 10, 11, 13})

# Upper bounds (inclusive) of the normal and borderline bands of a subscale total.
NORMAL_MAX: Final = 7
BORDERLINE_MAX: Final = 10
BAND_NORMAL: Final = "<=7"
BAND_BORDERLINE: Final = "8-10"
BAND_ABNORMAL: Final = ">=11"
BANDS: Final[tuple[str, ...]] = (BAND_NORMAL, BAND_BORDERLINE, BAND_ABNORMAL)


@dataclass(frozen=True)
class HadsScore:
    """Subscale totals (None when unscorable) and their bands."""

    anxiety: int | None
    depression: int | None
    anxiety_band: str | None
    depression_band: str | None


def field_name(item: object) -> str:
    """Return the form and API field name of an item, e.g. ``hads_3``."""
    return f"hads_{item}"


def band(score: int | None) -> str | None:
    """Return the band of a subscale total, or None for a missing total."""
    if score is None:
        return None
    value = as_integer(score)
    if value is None or not 0 <= value <= SUBSCALE_MAX:
        raise ValueError(f"HADS subscale total must be an integer from 0 to 21, got {score!r}.")
    if value <= NORMAL_MAX:
        return BAND_NORMAL
    if value <= BORDERLINE_MAX:
        return BAND_BORDERLINE
    return BAND_ABNORMAL


def _is_item(item: object) -> bool:
    """Say whether ``item`` is an item number 1..14 (an int, not a bool or a float)."""
    return isinstance(item, int) and not isinstance(item, bool) and item in ITEMS


def key_item(item: int, option_position: int) -> int:
    """Convert the position of the ticked option (0 = top of the list) to the item score."""
    if not _is_item(item):
        raise ValueError(f"HADS has items 1 to 14, got item {item!r}.")
    position = as_integer(option_position)
    if position is None or not ITEM_MIN <= position <= ITEM_MAX:
        raise ValueError(
            f"HADS item {item}: option position must be 0 (top) to 3 (bottom), "
            f"got {option_position!r}."
        )
    return ITEM_MAX - position if item in DESCENDING_ITEMS else position


def _item_problem(item: object, value: object) -> str | None:
    """Return what is wrong with one (item, answer) pair, or None."""
    if not _is_item(item):
        return f"HADS has items 1 to 14, got item {item!r}."
    if value is None:
        return None
    number = as_integer(value)
    if number is None or not ITEM_MIN <= number <= ITEM_MAX:
        return f"HADS item {item}: answer must be an integer from 0 to 3, got {value!r}."
    return None


def validate_answers(answers: Mapping[int, object]) -> dict[str, str]:
    """Return every problem in the answers as {field name: message}; empty if all is well.

    Missing items (None or absent) are not problems: scoring handles them.
    """
    problems: dict[str, str] = {}
    for item, value in answers.items():
        message = _item_problem(item, value)
        if message is not None:
            problems[field_name(item)] = message
    return problems


def _subscale(answers: Mapping[int, object], items: Iterable[int]) -> int | None:
    """Return the subscale total, prorating one missing item, or None if two or more miss."""
    given = [as_integer(answers.get(item)) for item in items]
    scores = [value for value in given if value is not None]
    missing = len(given) - len(scores)
    total = sum(scores)
    if missing == 0:
        return total
    if missing == 1:
        # total x 7/6 rounded half up, in integers so that 10.5 gives 11 without float surprises.
        return (7 * total + 3) // 6
    return None


def score(answers: Mapping[int, int | None]) -> HadsScore:
    """Score the HADS from keyed item scores; raise ValueError on any invalid item or answer."""
    problems = validate_answers(answers)
    if problems:
        raise ValueError(" ".join(problems.values()))
    anxiety = _subscale(answers, ANXIETY_ITEMS)
    depression = _subscale(answers, DEPRESSION_ITEMS)
    return HadsScore(
        anxiety=anxiety,
        depression=depression,
        anxiety_band=band(anxiety),
        depression_band=band(depression),
    )
