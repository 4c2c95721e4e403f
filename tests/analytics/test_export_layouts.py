import datetime as dt
import io
import threading

import pandas as pd
import pytest
from django.core.management import call_command

from analytics import dataset
from analytics.exports import dictionary, layouts, writers
from analytics.exports import variables as var
from cohort.models import Patient
from demo.loader import demo_load
from demo.synthetic import generate

pytestmark = pytest.mark.django_db

REQUIRED_LONG = [
    "study_id", "site", "sex", "age", "timepoint", "month", "nprs_mean", "nprs_max", "hads_a",
    "hads_d", "sf12_pcs", "sf12_mcs", "cumulative_dose_mg", "baseline_hads_d", "baseline_hads_a",
    "iv_route", "status",
]  # fmt: skip


@pytest.fixture
def loaded():
    cohort = generate(25, seed=5)
    demo_load(cohort)
    return cohort


def test_long_layout_has_the_documented_columns_in_order(loaded):
    frame = layouts.frame("long")
    assert list(frame.columns) == var.names(var.LONG)
    assert set(REQUIRED_LONG) <= set(frame.columns)
    assert len(frame) == 25 * 14
    assert set(frame.timepoint) == set(var.voc.codes(var.voc.TIMEPOINTS))
    assert frame.sex.isin(["F", "M"]).all()


def test_long_layout_values_match_the_analysis_dataset(loaded):
    exported = layouts.frame("long").set_index(["study_id", "timepoint"]).sort_index()
    built = dataset.build().set_index(["study_id", "timepoint"]).sort_index()
    for column in ("nprs_mean", "hads_d", "sf12_pcs", "cumulative_dose_mg", "month"):
        pd.testing.assert_series_equal(
            exported[column].astype(float),
            built[column].astype(float),
            check_names=False,
            check_index_type=False,
        )
    assert exported.iv_route.astype(bool).equals(built.iv_route.astype(bool))


def test_missing_values_are_missing_and_carry_their_reason(loaded):
    frame = layouts.frame("long")
    unreached = frame[frame.call_status.isin(["unreachable", "refused", "closed"])]
    assert len(unreached) > 0
    assert unreached.nprs_mean.isna().all()
    assert unreached.nprs_missing_reason.notna().all()
    numbers = frame.select_dtypes("number")
    assert not (numbers < 0).any().any(), "no sentinel numbers"


def test_chunks_give_the_same_rows_as_one_frame(loaded):
    whole = layouts.frame("long", items=True)
    pieces = pd.concat(layouts.frames("long", items=True, size=4), ignore_index=True)
    pd.testing.assert_frame_equal(whole, pieces)


def test_long_with_items_adds_the_answers_and_the_enrolment(loaded):
    frame = layouts.frame("long", items=True)
    for column in ("hads_1", "hads_14", "sf12_gh1", "sf12_pf02", "sf12_sf2", "inclusion_date"):
        assert column in frame.columns
    row = frame[(frame.timepoint == "BL") & frame.hads_1.notna()].iloc[0]
    patient = Patient.objects.get(study_code=row.study_id)
    hads = patient.calls.get(timepoint="BL").hads
    assert row.hads_1 == hads.item_1
    assert row.hads_a == hads.anxiety
    assert row.weight_kg == float(patient.weight_kg)


def test_wide_layout_has_one_row_per_patient_with_suffixed_measures(loaded):
    frame = layouts.frame("wide")
    long = layouts.frame("long").set_index(["study_id", "timepoint"])
    assert len(frame) == 25
    assert list(frame.columns) == var.names(var.WIDE)
    first = frame.iloc[0]
    assert first.nprs_mean_m3 == long.loc[(first.study_id, "M3"), "nprs_mean"] or (
        pd.isna(first.nprs_mean_m3) and pd.isna(long.loc[(first.study_id, "M3"), "nprs_mean"])
    )


def test_baseline_layout_codes_comorbidities_and_treatments_as_flags(loaded):
    frame = layouts.frame("baseline").set_index("study_id")
    patients = loaded.patients.set_index("study_code")
    code = patients.index[0]
    for comorbidity in var.voc.codes(var.voc.COMORBIDITIES):
        name = f"cm_{var.SHORT_CODES.get(comorbidity, comorbidity)}"
        assert frame.loc[code, name] == int(comorbidity in patients.loc[code, "comorbidities"])
    treatments = loaded.treatments
    at_baseline = treatments[(treatments.study_code == code) & (treatments.timepoint == "BL")]
    drugs = {f"drug_{c}" for c in at_baseline[at_baseline.kind == "drug"].code}
    flagged = {v.name for v in var.DRUG_FLAGS if frame.loc[code, v.name] == 1}
    assert flagged == drugs


def test_event_and_treatment_layouts_have_one_row_each(loaded):
    events = layouts.frame("adverse_events")
    treatments = layouts.frame("treatments")
    assert len(events) == len(loaded.adverse_events)
    assert len(treatments) == len(loaded.treatments)
    assert treatments.drug_class.notna().sum() == (loaded.treatments.kind == "drug").sum()


def test_every_variable_name_is_short_unique_per_layout_and_labelled():
    for layout in var.LAYOUTS:
        names = var.names(var.variables_of(layout))
        assert len(names) == len(set(names)), layout
    names = var.names(var.LONG_ITEMS)
    assert len(names) == len(set(names))
    for _layout, variable in var.every_variable():
        assert len(variable.name) <= var.NAME_MAX
        assert variable.label


def test_dictionary_lists_every_variable_with_its_allowed_values():
    frame = dictionary.dictionary_frame()
    assert list(frame.columns) == list(dictionary.COLUMNS)
    sex = frame[(frame.layout == "long") & (frame.variable == "sex")].iloc[0]
    assert sex.allowed_values == "F = Female [1]; M = Male [2]"
    hads = frame[frame.variable == "hads_3"].iloc[0]
    assert (hads.allowed_values, hads.instrument) == ("0 to 3", "HADS item")
    html = dictionary.dictionary_html()
    assert "<code>nprs_mean_m3</code>" in html
    assert "Adverse events" in html


def test_dictionary_command_writes_csv_and_html(tmp_path):
    call_command("export_dataset", "--dictionary", "csv", "--output", tmp_path / "d.csv")
    call_command("export_dataset", "--dictionary", "html", "--output", tmp_path / "d.html")
    frame = pd.read_csv(tmp_path / "d.csv")
    assert "sf12_mcs" in set(frame.variable)
    assert "<table>" in (tmp_path / "d.html").read_text()


def test_csv_chunks_start_with_the_header_even_without_rows():
    pieces = list(writers.csv_chunks([], var.LONG))
    assert pieces == [",".join(var.names(var.LONG)) + "\n"]


def test_csv_writes_missing_values_as_empty_cells_and_dates_as_iso():
    frame = layouts.typed(
        pd.DataFrame({"study_id": ["S1-0001"], "call_date": [dt.date(2026, 1, 5)]}), var.CALL_KEY
    )
    out = io.StringIO()
    writers.write_csv([frame], var.CALL_KEY, out)
    assert out.getvalue().splitlines()[1] == "S1-0001,,,2026-01-05"


@pytest.mark.django_db(transaction=True)
def test_chunks_read_ahead_in_a_second_connection_give_the_same_frames():
    demo_load(generate(9, seed=2))
    ahead = list(layouts.frames("long", items=True, size=4))
    assert len(ahead) == 3
    here = list(layouts.long_frames(items=True, size=4))
    for mine, theirs in zip(ahead, here, strict=True):
        pd.testing.assert_frame_equal(mine, theirs)


@pytest.mark.django_db(transaction=True)
def test_a_consumer_stopping_early_does_not_leave_the_reader_waiting():
    demo_load(generate(9, seed=2))
    stream = layouts.frames("long", size=2)
    first = next(stream)
    stream.close()
    assert len(first) == 2 * 14
    assert not [t for t in threading.enumerate() if t.name == "export-read-ahead"]
