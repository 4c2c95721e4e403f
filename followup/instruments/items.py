"""Neutral item labels and option counts of the questionnaires, as plain data.

The HADS, SF-12, MADRS and SF-MPQ wordings are copyrighted and licensed per study, so the code
carries only short neutral labels naming the topic of each item (the SF-MPQ descriptors, whose
topic is their wording, only by number and dimension). Forms render these labels; the licensed
French wording can be loaded later as data, keyed by the same field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


def _(text: str) -> str:
    """Mark a label for translation: makemessages collects it, the forms translate it."""
    return text


@dataclass(frozen=True)
class ItemLabel:
    """One questionnaire item: field name, neutral label and its answer codes.

    The answer codes run from ``first_code`` to ``first_code + options - 1``.
    """

    field: str
    label: str
    options: int
    first_code: int


# HADS answers are stored as keyed scores 0..3 (see hads.key_item for the printed order).
HADS: Final[tuple[ItemLabel, ...]] = tuple(
    ItemLabel(field=f"hads_{number}", label=label, options=4, first_code=0)
    for number, label in (
        (1, _("HADS 1 - tension (A)")),
        (2, _("HADS 2 - enjoyment of usual things (D)")),
        (3, _("HADS 3 - sense of foreboding (A)")),
        (4, _("HADS 4 - laughter and seeing the funny side (D)")),
        (5, _("HADS 5 - worrying thoughts (A)")),
        (6, _("HADS 6 - cheerfulness (D)")),
        (7, _("HADS 7 - ability to relax (A)")),
        (8, _("HADS 8 - feeling slowed down (D)")),
        (9, _("HADS 9 - anxious bodily sensations (A)")),
        (10, _("HADS 10 - interest in own appearance (D)")),
        (11, _("HADS 11 - restlessness (A)")),
        (12, _("HADS 12 - looking forward to things (D)")),
        (13, _("HADS 13 - sudden panic (A)")),
        (14, _("HADS 14 - enjoyment of leisure activities (D)")),
    )
)

# SF-12 answers are stored as the codes numbered on the form, starting at 1.
SF12: Final[tuple[ItemLabel, ...]] = tuple(
    ItemLabel(field=f"sf12_{code.lower()}", label=label, options=n, first_code=1)
    for code, label, n in (
        ("GH1", _("SF-12 GH1 - general health"), 5),
        ("PF02", _("SF-12 PF02 - moderate activities limited"), 3),
        ("PF04", _("SF-12 PF04 - climbing several flights of stairs limited"), 3),
        ("RP2", _("SF-12 RP2 - accomplished less (physical health)"), 2),
        ("RP3", _("SF-12 RP3 - limited in kind of work (physical health)"), 2),
        ("RE2", _("SF-12 RE2 - accomplished less (emotional problems)"), 2),
        ("RE3", _("SF-12 RE3 - work done less carefully (emotional problems)"), 2),
        ("BP2", _("SF-12 BP2 - pain interference with work"), 5),
        ("MH3", _("SF-12 MH3 - calm and peaceful"), 6),
        ("VT2", _("SF-12 VT2 - energy"), 6),
        ("MH4", _("SF-12 MH4 - downhearted and low"), 6),
        ("SF2", _("SF-12 SF2 - interference with social activities"), 5),
    )
)

NPRS: Final[tuple[ItemLabel, ...]] = (
    ItemLabel(field="nprs_mean", label=_("NPRS - mean pain intensity"), options=11, first_code=0),
    ItemLabel(field="nprs_max", label=_("NPRS - maximum pain intensity"), options=11, first_code=0),
)

# DN4 answers are yes/no: code 0 = no, 1 = yes.
DN4: Final[tuple[ItemLabel, ...]] = tuple(
    ItemLabel(field=f"dn4_{number}", label=label, options=2, first_code=0)
    for number, label in (
        (1, _("DN4 1 - burning")),
        (2, _("DN4 2 - painful cold")),
        (3, _("DN4 3 - electric shocks")),
        (4, _("DN4 4 - tingling")),
        (5, _("DN4 5 - pins and needles")),
        (6, _("DN4 6 - numbness")),
        (7, _("DN4 7 - itching")),
        (8, _("DN4 8 - hypoesthesia to touch (examination)")),
        (9, _("DN4 9 - hypoesthesia to pinprick (examination)")),
        (10, _("DN4 10 - pain caused or increased by brushing (examination)")),
    )
)

# MADRS ratings are stored as scores 0..6; the labels name the domain rated by each item.
MADRS: Final[tuple[ItemLabel, ...]] = tuple(
    ItemLabel(field=f"madrs_{number}", label=label, options=7, first_code=0)
    for number, label in (
        (1, _("MADRS 1 - apparent sadness")),
        (2, _("MADRS 2 - reported sadness")),
        (3, _("MADRS 3 - inner tension")),
        (4, _("MADRS 4 - reduced sleep")),
        (5, _("MADRS 5 - reduced appetite")),
        (6, _("MADRS 6 - concentration difficulties")),
        (7, _("MADRS 7 - lassitude")),
        (8, _("MADRS 8 - inability to feel")),
        (9, _("MADRS 9 - pessimistic thoughts")),
        (10, _("MADRS 10 - suicidal thoughts")),
    )
)

# SF-MPQ descriptors are rated 0 (none) to 3 (severe); 1-11 sensory (S), 12-15 affective (Af).
SF_MPQ: Final[tuple[ItemLabel, ...]] = (
    *(
        ItemLabel(field=f"sf_mpq_{n}", label=label, options=4, first_code=0)
        for n, label in (
            (1, _("SF-MPQ descriptor 1 (S)")),
            (2, _("SF-MPQ descriptor 2 (S)")),
            (3, _("SF-MPQ descriptor 3 (S)")),
            (4, _("SF-MPQ descriptor 4 (S)")),
            (5, _("SF-MPQ descriptor 5 (S)")),
            (6, _("SF-MPQ descriptor 6 (S)")),
            (7, _("SF-MPQ descriptor 7 (S)")),
            (8, _("SF-MPQ descriptor 8 (S)")),
            (9, _("SF-MPQ descriptor 9 (S)")),
            (10, _("SF-MPQ descriptor 10 (S)")),
            (11, _("SF-MPQ descriptor 11 (S)")),
            (12, _("SF-MPQ descriptor 12 (Af)")),
            (13, _("SF-MPQ descriptor 13 (Af)")),
            (14, _("SF-MPQ descriptor 14 (Af)")),
            (15, _("SF-MPQ descriptor 15 (Af)")),
        )
    ),
    ItemLabel(field="sf_mpq_vas", label=_("SF-MPQ - pain VAS (mm)"), options=101, first_code=0),
    ItemLabel(
        field="sf_mpq_ppi", label=_("SF-MPQ - present pain intensity"), options=6, first_code=0
    ),
)

BY_INSTRUMENT: Final[dict[str, tuple[ItemLabel, ...]]] = {
    "hads": HADS,
    "sf12": SF12,
    "nprs": NPRS,
    "dn4": DN4,
    "madrs": MADRS,
    "sf_mpq": SF_MPQ,
}
