"""SF-12 Health Survey, version 1: physical (PCS) and mental (MCS) component summaries.

Source of the algorithm and of every number below: Ware JE, Kosinski M, Keller SD. SF-12: How to
score the SF-12 physical and mental health summary scales. Boston, MA: The Health Institute, New
England Medical Center; 1995 (regression weights and constants from the 1990 US general
population), as published with Ware, Kosinski, Keller, Med Care 1996;34(3):220-233.

Scoring: recode GH1, BP2, VT2 and MH3 so that a higher code means better health; give every
category other than the best one of each item its PCS and MCS weight (the best category is the
reference, weight 0); add the sums to the constants. Scores are norm-based (US mean 50, SD 10).
Any missing item leaves both summaries unscored, as in the published algorithm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from followup.instruments import as_integer

# Order of the items on the form (questions 1, 2a-b, 3a-b, 4a-b, 5, 6a-c, 7).
ITEMS: Final[tuple[str, ...]] = (
    "GH1",
    "PF02",
    "PF04",
    "RP2",
    "RP3",
    "RE2",
    "RE3",
    "BP2",
    "MH3",
    "VT2",
    "MH4",
    "SF2",
)

# Highest response code of each item; codes start at 1 as numbered on the form.
RANGES: Final[Mapping[str, int]] = {
    "GH1": 5,
    "PF02": 3,
    "PF04": 3,
    "RP2": 2,
    "RP3": 2,
    "RE2": 2,
    "RE3": 2,
    "BP2": 5,
    "MH3": 6,
    "VT2": 6,
    "MH4": 6,
    "SF2": 5,
}

# On the form these four items number their best answer 1; the weights expect it last.
REVERSED_ITEMS: Final[frozenset[str]] = frozenset({"GH1", "BP2", "VT2", "MH3"})

PCS_CONSTANT: Final = 56.57706
MCS_CONSTANT: Final = 60.75781

# Weights of the recoded categories 1, 2, ..., max - 1 (worst first); the best category weighs 0.
PCS_WEIGHTS: Final[Mapping[str, tuple[float, ...]]] = {
    "GH1": (-8.37399, -5.56461, -3.02396, -1.31872),
    "PF02": (-7.23216, -3.45555),
    "PF04": (-6.24397, -2.73557),
    "RP2": (-4.61617,),
    "RP3": (-5.51747,),
    "RE2": (3.04365,),
    "RE3": (2.32091,),
    "BP2": (-11.25544, -8.38063, -6.50522, -3.80130),
    "MH3": (3.46638, 2.90426, 2.37241, 1.36689, 0.66514),
    "VT2": (-2.44706, -2.02168, -1.61850, -1.14387, -0.42251),
    "MH4": (4.61446, 3.41593, 2.34247, 1.28044, 0.41188),
    "SF2": (-0.33682, -0.94342, -0.18043, 0.11038),
}
MCS_WEIGHTS: Final[Mapping[str, tuple[float, ...]]] = {
    "GH1": (-1.71175, -0.16891, 0.03482, -0.06064),
    "PF02": (3.93115, 1.86840),
    "PF04": (2.68282, 1.43103),
    "RP2": (1.44060,),
    "RP3": (1.66968,),
    "RE2": (-6.82672,),
    "RE3": (-5.69921,),
    "BP2": (1.48619, 1.76691, 1.49384, 0.90384),
    "MH3": (-10.19085, -7.92717, -6.31121, -4.09842, -1.94949),
    "VT2": (-6.02409, -4.88962, -3.29805, -1.65178, -0.92057),
    "MH4": (-16.15395, -10.77911, -8.09914, -4.59055, -1.95934),
    "SF2": (-6.29724, -8.26066, -5.63286, -3.13896),
}

# The weights have five decimals; rounding the sums there removes float noise and nothing else.
_DECIMALS: Final = 5


@dataclass(frozen=True)
class Sf12Score:
    """Physical and mental component summaries, None when any item is missing."""

    pcs: float | None
    mcs: float | None


def field_name(item: str) -> str:
    """Return the form and API field name of an item, e.g. ``sf12_gh1``."""
    return f"sf12_{item.lower()}"


def _item_problem(item: object, value: object) -> str | None:
    """Return what is wrong with one (item, answer) pair, or None."""
    if item not in RANGES:
        return f"SF-12 has no item {item!r}; expected one of {', '.join(ITEMS)}."
    if value is None:
        return None
    top = RANGES[str(item)]
    number = as_integer(value)
    if number is None or not 1 <= number <= top:
        return f"SF-12 item {item}: answer must be an integer from 1 to {top}, got {value!r}."
    return None


def validate_answers(answers: Mapping[str, object]) -> dict[str, str]:
    """Return every problem in the answers as {field name: message}; empty if all is well.

    Missing items (None or absent) are not problems here: they make the summaries None.
    """
    problems: dict[str, str] = {}
    for item, value in answers.items():
        message = _item_problem(item, value)
        if message is not None:
            problems[field_name(str(item))] = message
    return problems


def recode(item: str, code: int) -> int:
    """Return the category used by the weights: 1 is the worst answer, RANGES[item] the best."""
    return RANGES[item] + 1 - code if item in REVERSED_ITEMS else code


def score(answers: Mapping[str, int | None]) -> Sf12Score:
    """Score PCS and MCS from the form codes; raise ValueError on any invalid item or answer."""
    problems = validate_answers(answers)
    if problems:
        raise ValueError(" ".join(problems.values()))
    codes = {item: as_integer(answers.get(item)) for item in ITEMS}
    pcs = PCS_CONSTANT
    mcs = MCS_CONSTANT
    for item, code in codes.items():
        if code is None:
            return Sf12Score(pcs=None, mcs=None)
        category = recode(item, code)
        if category < RANGES[item]:
            pcs += PCS_WEIGHTS[item][category - 1]
            mcs += MCS_WEIGHTS[item][category - 1]
    return Sf12Score(pcs=round(pcs, _DECIMALS), mcs=round(mcs, _DECIMALS))
