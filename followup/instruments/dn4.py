"""DN4 neuropathic pain questionnaire (Bouhassira et al., Pain 2005;114:29-36).

Ten yes/no items, seven from the interview and three from the examination; the total is the
number of yes answers, 0..10, and a total of 4 or more suggests neuropathic pain. The cohort does
not ask it for fibromyalgia.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from cohort.vocabulary import DN4_NOT_ASKED_FOR
from followup.instruments import as_integer

MIN, MAX = 0, 10
ITEMS: Final[tuple[int, ...]] = tuple(range(1, 11))
INTERVIEW_ITEMS: Final[tuple[int, ...]] = tuple(range(1, 8))
EXAMINATION_ITEMS: Final[tuple[int, ...]] = (8, 9, 10)
NEUROPATHIC_CUTOFF: Final = 4

FIELD: Final = "dn4"


def is_asked(etiology: str | None) -> bool:
    """Say whether the DN4 is asked for a pain etiology (unknown etiologies count as asked)."""
    return etiology not in DN4_NOT_ASKED_FOR


def validate(value: object, etiology: str | None, *, required: bool = True) -> str | None:
    """Return a message if the DN4 total does not fit the range or the etiology, else None."""
    if not is_asked(etiology):
        if value is None:
            return None
        return f"DN4 is not asked for {etiology}; leave it empty."
    if value is None:
        return "A DN4 total from 0 to 10 is required." if required else None
    number = as_integer(value)
    if number is None or not MIN <= number <= MAX:
        return f"DN4 total must be a whole number from 0 to 10, got {value!r}."
    return None


def is_neuropathic(score: int) -> bool:
    """Say whether a DN4 total reaches the neuropathic cut-off of 4."""
    number = as_integer(score)
    if number is None or not MIN <= number <= MAX:
        raise ValueError(f"DN4 total must be a whole number from 0 to 10, got {score!r}.")
    return number >= NEUROPATHIC_CUTOFF


def score(items: Mapping[int, bool]) -> int:
    """Return the DN4 total from the ten yes/no items; raise ValueError unless all ten are given."""
    problems: list[str] = []
    for item, answer in items.items():
        if not isinstance(item, int) or isinstance(item, bool) or item not in ITEMS:
            problems.append(f"DN4 has items 1 to 10, got item {item!r}.")
        elif not isinstance(answer, bool):
            problems.append(f"DN4 item {item}: answer must be True or False, got {answer!r}.")
    missing = [item for item in ITEMS if item not in items]
    if missing:
        problems.append(f"DN4 items missing: {', '.join(map(str, missing))}.")
    if problems:
        raise ValueError(" ".join(problems))
    return sum(1 for item in ITEMS if items[item])
