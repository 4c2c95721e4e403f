"""The study definitions: the two studies as data, and the loader's refusals with clear errors.

The first study's definition must give exactly the table the schedule had in code; the second
study's visits are the published MADRS days; every field the loader reads is refused when wrong.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from followup import schedule
from followup.schedule import Anchor, Mode, Visit
from trials import definitions
from trials.definitions import DefinitionError
from trials.lan2022 import synthetic

# The first study's table as it was written in code before it became data: the definition
# must reproduce it field by field.
BEFORE: tuple[Visit, ...] = (
    Visit("BL", Anchor.INCLUSION, days=0, before=0, after=0, mode=Mode.HOSPITAL),
    Visit("W1", Anchor.FIRST_ADMINISTRATION, days=7, before=2, after=3, mode=Mode.PHONE),
    *(
        Visit(f"M{k}", Anchor.FIRST_ADMINISTRATION, months=k, before=7, after=10, mode=Mode.PHONE)
        for k in range(1, 13)
    ),
)
FIELDS = ("timepoint", "anchor", "before", "after", "mode", "days", "months")


def raw(key: str) -> dict[str, Any]:
    return json.loads((definitions.HERE / f"{key}.json").read_text(encoding="utf-8"))


def test_the_first_study_reproduces_the_table_field_by_field() -> None:
    assert len(schedule.VISITS) == len(BEFORE)
    for now, then in zip(schedule.VISITS, BEFORE, strict=True):
        for field in FIELDS:
            assert getattr(now, field) == getattr(then, field), (then.timepoint, field)
    assert schedule.visits_for(definitions.load("voute2023")) == BEFORE


def test_the_first_study_is_free_dosing_with_its_rules() -> None:
    study = definitions.load(definitions.FIRST_STUDY)
    assert study.key == "voute2023"
    assert not study.dosing.is_fixed
    assert study.dosing.describe() == "free administrations"
    assert study.review_rules == ("depression", "pain_rise")
    assert study.analysis_plan == "ketamine-followup/analysis-report"
    assert study.visit("BL").instruments == ("NPRS", "HADS", "SF12", "DN4")
    assert {v.instruments for v in study.visits[1:]} == {("NPRS", "HADS", "SF12")}


def test_lan_visits_are_the_published_madrs_days() -> None:
    study = definitions.load("lan2022")
    assert study.codes == ("BL", *(f"D{d}" for d in synthetic.MADRS_DAYS[1:]))
    assert [v.days for v in study.visits] == list(synthetic.MADRS_DAYS)
    assert all(v.instruments[:1] == ("MADRS",) for v in study.visits)
    assert study.visit("BL").instruments == ("MADRS", "SFMPQ")
    assert {v.mode for v in study.visits} == {Mode.HOSPITAL}


def test_lan_dosing_is_the_fixed_course() -> None:
    dosing = definitions.load("lan2022").dosing
    assert dosing.is_fixed
    assert dosing.dose_mg_per_kg == Decimal("0.5")
    assert (dosing.administrations, dosing.per_week, dosing.weeks, dosing.minutes) == (6, 3, 2, 40)
    assert dosing.days == synthetic.INFUSION_DAYS
    assert dosing.describe() == "6 x 0.5 mg/kg IV over 40 min, 3 per week for 2 weeks"


def test_lan_plan_worked_example() -> None:
    # First infusion Monday 2 March 2026, included the same day.
    first = dt.date(2026, 3, 2)
    plan = schedule.plan_for(
        definitions.load("lan2022"), inclusion_date=first, first_administration=first
    )
    got = {p.timepoint: (p.target, p.window_start, p.window_end) for p in plan}
    assert got["BL"] == (first, first, first)
    assert got["D1"] == (dt.date(2026, 3, 3), dt.date(2026, 3, 3), dt.date(2026, 3, 4))
    assert got["D12"] == (dt.date(2026, 3, 14), dt.date(2026, 3, 14), dt.date(2026, 3, 15))
    assert got["D26"] == (dt.date(2026, 3, 28), dt.date(2026, 3, 26), dt.date(2026, 3, 31))
    assert [p.timepoint for p in plan] == list(definitions.load("lan2022").codes)


def test_the_first_study_plan_matches_the_old_functions() -> None:
    inclusion, first = dt.date(2026, 1, 10), dt.date(2026, 1, 31)
    plan = schedule.plan_for(
        definitions.load("voute2023"), inclusion_date=inclusion, first_administration=first
    )
    assert plan == [schedule.baseline_call(inclusion), *schedule.build_schedule(first)]


def test_study_aware_lookups_refuse_another_study_s_code() -> None:
    lan = definitions.load("lan2022")
    assert schedule.visit_in(lan, "D26").after == 3
    with pytest.raises(ValueError, match="not a visit of study lan2022"):
        schedule.visit_in(lan, "M3")
    with pytest.raises(ValueError, match="not a follow-up visit"):
        schedule.scheduled_call_in(lan, dt.date(2026, 1, 1), "BL")


def test_timepoints_union_keeps_the_first_study_order() -> None:
    union = definitions.timepoints()
    assert union[:14] == definitions.load("voute2023").codes
    assert union[14:] == ("D1", "D3", "D5", "D8", "D10", "D12", "D26")
    assert definitions.labels()["BL"] == "Baseline (in hospital)"


def test_every_definition_file_is_known() -> None:
    files = sorted(path.stem for path in definitions.HERE.glob("*.json"))
    assert files == sorted(definitions.KEYS)
    with pytest.raises(DefinitionError, match="unknown study definition 'nope'"):
        definitions.load("nope")


def _broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw("lan2022"))
    change(data)
    return data


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set(("visits", 2, "anchor"), "discharge"), "visit D3: unknown anchor 'discharge'"),
        (_set(("visits", 2, "mode"), "video"), "visit D3: unknown mode 'video'"),
        (_set(("visits", 2, "before"), -1), "visit D3: before must be a whole number, 0 or more"),
        (_set(("visits", 2, "after"), 1.5), "visit D3: after must be a whole number"),
        (_set(("visits", 2, "days"), -3), "visit D3: days must be a whole number"),
        (_set(("visits", 2, "code"), "D1"), "visit code used twice: D1"),
        (_set(("visits", 2, "code"), "DAY3"), "visit code 'DAY3'"),
        (_set(("visits", 2, "instruments"), ["BDI"]), "unknown instruments entry 'BDI'"),
        (_set(("visits", 2, "label"), ""), "visit D3: label must be a non-empty text"),
        (_set(("visits", 2, "colour"), "red"), "visit D3: unknown field colour"),
        (_set(("visits", 2, "days"), 13), "must come in order of their target"),
        (_set(("visits", 0, "code"), "B0"), "the first visit must be BL"),
        (_set(("visits", 0, "after"), 2), "the first visit must be BL"),
        (_set(("visits", 3, "anchor"), "inclusion"), "only BL counts from inclusion"),
        (_set(("visits",), []), "visits must be a non-empty list"),
        (_set(("review_rules",), ["nausea"]), "unknown review_rules entry 'nausea'"),
        (_set(("safety_rules",), "all"), "safety_rules must be a list"),
        (_set(("analysis_plan",), "anova"), "unknown analysis_plan 'anova'"),
        (_set(("baseline",), "anxiety"), "unknown baseline 'anxiety'"),
        (_set(("dosing", "kind"), "weekly"), "unknown kind 'weekly'"),
        (_set(("dosing", "dose_mg_per_kg"), "-0.5"), "dose_mg_per_kg must be above 0"),
        (_set(("dosing", "dose_mg_per_kg"), "half"), "dose_mg_per_kg must be a number"),
        (_set(("dosing", "administrations"), 5), "administrations, per_week x weeks and days"),
        (_set(("dosing", "days"), [1, 2, 4, 7, 9, 11]), "days must start at 0 and increase"),
        (_set(("dosing", "route"), "rectal"), "unknown route 'rectal'"),
        (_set(("key",), "Lan 2022"), "study key 'Lan 2022'"),
        (lambda data: data.pop("title"), "study lan2022: missing title"),
        (_set(("eligibility",), {"min_age": "18"}), "eligibility: min_age must be a whole"),
        (_set(("eligibility",), {"min_age": 18, "max_age": 16}), "the minimum first"),
        (_set(("eligibility",), {"max_age": 130}), "ages from 0 to 120"),
        (_set(("eligibility",), {"sex": "F"}), "eligibility: unknown field sex"),
        (_set(("eligibility",), [18]), "eligibility must be an object"),
    ],
)
def test_a_broken_definition_is_refused_with_a_clear_error(change: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        definitions.parse(_broken(change))


def test_free_dosing_takes_no_course_fields() -> None:
    data = raw("voute2023")
    data["dosing"]["minutes"] = 40
    with pytest.raises(DefinitionError, match="dosing: unknown field minutes"):
        definitions.parse(data)


def test_a_file_must_be_named_by_its_key(tmp_path: Any) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps(raw("lan2022")), encoding="utf-8")
    with pytest.raises(DefinitionError, match="the key must be the file's name"):
        definitions.read(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid JSON"):
        definitions.read(path)


def test_a_study_out_of_order_in_the_union_is_refused() -> None:
    lan = definitions.load("lan2022")
    data = raw("lan2022")
    data["visits"][1]["code"], data["visits"][2]["code"] = "M3", "W1"
    swapped = definitions.parse(data)
    assert swapped.codes[:3] == ("BL", "M3", "W1")
    assert definitions.timepoints((definitions.load("voute2023"), lan))
    with pytest.raises(DefinitionError, match="in another order"):
        definitions.timepoints((definitions.load("voute2023"), swapped, lan))


def test_every_visit_label_is_marked_for_translation() -> None:
    from cohort.vocabulary import TIMEPOINTS
    from trials.definitions.labels import LABELS

    marked = set(LABELS) | {text for _code, text in TIMEPOINTS}
    assert {v.label for study in definitions.definitions() for v in study.visits} <= marked


def test_eligibility_is_read_from_the_definition_with_18_by_default() -> None:
    assert definitions.load("lan2022").eligibility.min_age == 18
    data = copy.deepcopy(raw("lan2022"))
    data["eligibility"] = {"min_age": 21, "max_age": 65}
    assert definitions.parse(data).eligibility == definitions.Eligibility(21, 65)
    data.pop("eligibility")
    assert definitions.parse(data).eligibility == definitions.Eligibility(18, None)
