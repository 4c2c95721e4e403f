"""Short-form McGill Pain Questionnaire (SF-MPQ; Melzack R, Pain 1987;30:191-197).

Fifteen pain descriptors, each rated 0 (none), 1 (mild), 2 (moderate) or 3 (severe): descriptors
1-11 make the sensory index (0..33), 12-15 the affective index (0..12), and all fifteen the total
pain rating index (0..45). Two overall intensity measures come with them: a 100 mm visual
analogue scale (VAS, recorded to the nearest millimetre, 0..100) and the present pain intensity
(PPI) of the long-form MPQ, coded 0 (no pain) to 5 (the worst of its six levels).

The descriptor words and the PPI level words are the questionnaire's wording (copyright
R. Melzack, distributed under licence), so, as for the HADS and the SF-12, the code carries
numbered neutral labels only (``followup.instruments.items``) and the wording is data.

Missing answers: the paper gives no proration rule. Every descriptor has its own explicit "none"
box, so a blank is not a zero: an index with any blank descriptor is left unscored, and the total
needs both indices. The VAS and the PPI are single answers, scored or missing on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from followup.instruments import as_integer

DESCRIPTORS: Final[tuple[int, ...]] = tuple(range(1, 16))
SENSORY: Final[tuple[int, ...]] = tuple(range(1, 12))
AFFECTIVE: Final[tuple[int, ...]] = (12, 13, 14, 15)
DESCRIPTOR_MIN, DESCRIPTOR_MAX = 0, 3
SENSORY_MAX: Final = 33
AFFECTIVE_MAX: Final = 12
TOTAL_MAX: Final = 45
VAS_MIN, VAS_MAX = 0, 100
PPI_MIN, PPI_MAX = 0, 5

VAS_FIELD: Final = "sf_mpq_vas"
PPI_FIELD: Final = "sf_mpq_ppi"

# Baseline pain groups of the Lan et al. 2022 analysis.
PAIN_NONE: Final = "none"
PAIN_MILD: Final = "mild"
PAIN_SEVERE: Final = "severe"
PAIN_GROUPS: Final[tuple[str, ...]] = (PAIN_NONE, PAIN_MILD, PAIN_SEVERE)


@dataclass(frozen=True)
class SfMpqScore:
    """The three descriptor scores (None when unscorable), the VAS and the PPI (None if blank)."""

    sensory: int | None
    affective: int | None
    total: int | None
    vas: int | None
    ppi: int | None


def field_name(descriptor: object) -> str:
    """Return the form and API field name of a descriptor, e.g. ``sf_mpq_3``."""
    return f"sf_mpq_{descriptor}"


def _is_descriptor(descriptor: object) -> bool:
    """Say whether ``descriptor`` is a number 1..15 (an int, not a bool or a float)."""
    return (
        isinstance(descriptor, int)
        and not isinstance(descriptor, bool)
        and descriptor in DESCRIPTORS
    )


def _range_problem(name: str, value: object, low: int, high: int, required: bool) -> str | None:
    """Return a message unless ``value`` is a whole number from low to high (or allowed blank)."""
    if value is None:
        return f"{name}: a value from {low} to {high} is required." if required else None
    number = as_integer(value)
    if number is None or not low <= number <= high:
        return f"{name} must be a whole number from {low} to {high}, got {value!r}."
    return None


def validate(
    descriptors: Mapping[int, object],
    vas: object = None,
    ppi: object = None,
    *,
    required: bool = False,
) -> dict[str, str]:
    """Return every problem of the answers as {field name: message}; empty if all is well.

    Blank answers (None or absent descriptors) are problems only when ``required``; otherwise
    they leave their scores unscored.
    """
    problems: dict[str, str] = {}
    for descriptor, value in descriptors.items():
        if not _is_descriptor(descriptor):
            problems[field_name(descriptor)] = (
                f"SF-MPQ has descriptors 1 to 15, got descriptor {descriptor!r}."
            )
            continue
        message = _range_problem(
            f"SF-MPQ descriptor {descriptor}", value, DESCRIPTOR_MIN, DESCRIPTOR_MAX, False
        )
        if message is not None:
            problems[field_name(descriptor)] = message
    if required:
        for descriptor in DESCRIPTORS:
            if descriptors.get(descriptor) is None:
                problems[field_name(descriptor)] = (
                    f"SF-MPQ descriptor {descriptor}: a rating from 0 to 3 is required."
                )
    for field, name, value, low, high in (
        (VAS_FIELD, "SF-MPQ VAS (mm)", vas, VAS_MIN, VAS_MAX),
        (PPI_FIELD, "SF-MPQ present pain intensity", ppi, PPI_MIN, PPI_MAX),
    ):
        message = _range_problem(name, value, low, high, required)
        if message is not None:
            problems[field] = message
    return problems


def _index(descriptors: Mapping[int, object], numbers: tuple[int, ...]) -> int | None:
    """Return the sum of the ratings of ``numbers``, or None if any of them is blank."""
    ratings = [as_integer(descriptors.get(number)) for number in numbers]
    if any(rating is None for rating in ratings):
        return None
    return sum(rating for rating in ratings if rating is not None)


def score(
    descriptors: Mapping[int, int | None], vas: int | None = None, ppi: int | None = None
) -> SfMpqScore:
    """Score the SF-MPQ; raise ValueError on any invalid descriptor, rating, VAS or PPI."""
    problems = validate(descriptors, vas, ppi)
    if problems:
        raise ValueError(" ".join(problems.values()))
    sensory = _index(descriptors, SENSORY)
    affective = _index(descriptors, AFFECTIVE)
    total = None if sensory is None or affective is None else sensory + affective
    return SfMpqScore(
        sensory=sensory,
        affective=affective,
        total=total,
        vas=as_integer(vas),
        ppi=as_integer(ppi),
    )


_MEASURE_MAX: Final[dict[str, int]] = {
    "ppi": PPI_MAX,
    "vas": VAS_MAX,
    "total": TOTAL_MAX,
    "sensory": SENSORY_MAX,
    "affective": AFFECTIVE_MAX,
}


@dataclass(frozen=True)
class PainGroupRule:
    """How to split baseline SF-MPQ scores into no, mild and severe pain.

    ``measure`` is one of the SfMpqScore fields ppi, vas, total, sensory, affective; a score below
    ``mild_from`` is no pain, from ``mild_from`` to below ``severe_from`` mild, from
    ``severe_from`` up severe.
    """

    measure: str
    mild_from: int
    severe_from: int

    def __post_init__(self) -> None:
        """Refuse an unknown measure or thresholds that do not split its range in three."""
        if self.measure not in _MEASURE_MAX:
            raise ValueError(
                f"Pain groups are cut on one of {', '.join(_MEASURE_MAX)}, got {self.measure!r}."
            )
        top = _MEASURE_MAX[self.measure]
        if not 0 < self.mild_from < self.severe_from <= top:
            raise ValueError(
                f"Pain group thresholds on {self.measure} need 0 < mild_from < severe_from <= "
                f"{top}, got {self.mild_from} and {self.severe_from}."
            )


# Our default, NOT the paper's: Lan et al. 2022 report the group sizes (54 without pain, 23 mild,
# 27 severe) but not the rule in the material we hold. We cut on the PPI: 0 (no pain) is no pain,
# the two lowest levels of pain (1-2) are mild, the three highest (3-5) severe. The PPI rather
# than the VAS because the paper reports the VAS differing between its severe and mild groups
# with P = 0.042 only, which a grouping cut on the VAS itself would hardly give.
DEFAULT_PAIN_GROUP_RULE: Final = PainGroupRule(measure="ppi", mild_from=1, severe_from=3)


def pain_group(baseline: SfMpqScore, rule: PainGroupRule = DEFAULT_PAIN_GROUP_RULE) -> str | None:
    """Return the baseline pain group (none, mild, severe) by ``rule``; None if its score is blank.

    The default rule is ours (see DEFAULT_PAIN_GROUP_RULE), not the published one: pass the
    study's own rule once it is known.
    """
    value = getattr(baseline, rule.measure)
    if value is None:
        return None
    if value < rule.mild_from:
        return PAIN_NONE
    if value < rule.severe_from:
        return PAIN_MILD
    return PAIN_SEVERE
