"""The depression study read back from the database equals the synthetic trial it was seeded from.

The demo loader writes a ``trials.lan2022.synthetic`` trial (``demo.loader.lan``); reading it
back gives the trial's frames, up to the documented mapping: patients are numbered by their id
(mapped back here by their study code) and the dose is the app's conversion (0.5 mg/kg to the
hundredth of a mg, the trial rounds it to a tenth).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from analytics import lan_dataset
from analytics.stats import moderation
from cohort.models import KetamineAdministration, Patient
from demo.loader import demo_load
from demo.loader.lan import lan_demo
from demo.synthetic import generate
from followup.models import AdverseEvent, MadrsAssessment, SfMpqAssessment
from trials.lan2022 import synthetic

pytestmark = pytest.mark.django_db

SEED = 4
AFTER_THE_TRIAL = dt.date(2030, 1, 1)


def _numbers() -> dict[int, int]:
    """Return the synthetic patient number of each patient id (from the study code)."""
    rows = Patient.objects.filter(site__study__code="LAN2022").values_list("pk", "study_code")
    return {pk: int(code.split("-")[1]) for pk, code in rows}


def _renumbered(data: lan_dataset.LanData) -> dict[str, pd.DataFrame]:
    numbers = _numbers()
    frames = {}
    for name in ("patients", "visits", "infusions", "adverse"):
        frame = getattr(data, name).copy()
        frame["patient"] = frame["patient"].map(numbers).astype("int64")
        frames[name] = frame
    return frames


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True)


def _dates(trial: synthetic.Trial, frame: pd.DataFrame, demo: Any) -> pd.Series:
    return frame["patient"].map(demo.inclusion) + pd.to_timedelta(frame["day"], unit="D")


def _close(a: Any, b: Any, path: str = "") -> None:
    """Assert two reports are equal: same keys, same texts, numbers equal to 1e-9 (NaN = NaN)."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{index}]")
    elif isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            assert a is b, path
        elif math.isnan(a) or math.isnan(b):
            assert (math.isnan(a), math.isnan(b)) == (True, True), path
        else:
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, path


@pytest.fixture
def complete():
    """A finished trial seeded beside a small first-study demo."""
    demo = lan_demo(SEED)
    demo_load(generate(4, seed=1), lan=demo)
    return demo


def test_the_frames_read_back_are_the_synthetic_trial(complete, django_assert_max_num_queries):
    trial = complete.trial
    with django_assert_max_num_queries(8):
        data = lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL)
    read = _renumbered(data)
    pd.testing.assert_frame_equal(_sorted(read["patients"], ["patient"]), trial.patients)
    pd.testing.assert_frame_equal(_sorted(read["visits"], ["patient", "visit"]), trial.visits)
    infusions = _sorted(read["infusions"], ["patient", "infusion"])
    pd.testing.assert_frame_equal(
        infusions.drop(columns="dose_mg"), trial.infusions.drop(columns="dose_mg")
    )
    # The app converts 0.5 mg/kg to the hundredth of a mg; the trial rounds to the tenth.
    assert (
        np.abs(infusions["dose_mg"] - 0.5 * trial.patients["weight_kg"].repeat(6).to_numpy()).max()
        < 1e-9
    )
    assert np.abs(infusions["dose_mg"] - trial.infusions["dose_mg"]).max() <= 0.05 + 1e-9
    keys = ["patient", "infusion", "symptom"]
    pd.testing.assert_frame_equal(_sorted(read["adverse"], keys), _sorted(trial.adverse, keys))


def test_the_analysis_of_the_database_is_the_analysis_of_the_trial(complete):
    trial = complete.trial
    read = _renumbered(lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL))
    ours = moderation.report(read["patients"], read["visits"], read["infusions"], read["adverse"])
    theirs = moderation.report(trial.patients, trial.visits, trial.infusions, trial.adverse)
    _close(ours, theirs)


@pytest.mark.parametrize("days_before_the_cut", [0, 9])
def test_an_ongoing_cut_leaves_out_what_is_not_yet_due(days_before_the_cut):
    cut = timezone.localdate()
    demo = lan_demo(SEED, ongoing_until=cut)
    demo_load(generate(4, seed=1), lan=demo)
    as_of = cut - dt.timedelta(days=days_before_the_cut)
    read = _renumbered(lan_dataset.load(Patient.objects.all(), as_of=as_of))
    trial = demo.trial
    included = trial.patients["patient"].map(demo.inclusion) <= pd.Timestamp(as_of)
    assert read["patients"]["patient"].tolist() == trial.patients.loc[included, "patient"].tolist()
    due = trial.visits.loc[_dates(trial, trial.visits, demo) <= pd.Timestamp(as_of)]
    assert len(due) < len(trial.visits)
    pd.testing.assert_frame_equal(
        _sorted(read["visits"], ["patient", "visit"]), due.reset_index(drop=True)
    )
    given = trial.infusions.loc[_dates(trial, trial.infusions, demo) <= pd.Timestamp(as_of)]
    assert len(read["infusions"]) == len(given)


def test_voided_rows_are_never_read(complete):
    now = timezone.now()
    numbers = {n: pk for pk, n in _numbers().items()}
    patient = numbers[1]
    madrs = MadrsAssessment.objects.get(patient_id=patient, visit_code="BL")
    MadrsAssessment.objects.filter(pk=madrs.pk).update(voided_at=now, void_reason="Entered twice")
    SfMpqAssessment.objects.filter(patient_id=patient).update(voided_at=now, void_reason="Wrong")
    second = KetamineAdministration.objects.filter(patient_id=patient).order_by("date")[1]
    KetamineAdministration.objects.filter(pk=second.pk).update(voided_at=now, void_reason="No")
    AdverseEvent.objects.update(voided_at=now, void_reason="Wrong patient")
    data = lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL)
    visits = data.visits.set_index(["patient", "visit"])
    assert math.isnan(visits.loc[(patient, 0), "madrs"])
    row = data.patients.set_index("patient").loc[patient]
    assert math.isnan(row["vas"])
    infusions = data.infusions.loc[data.infusions["patient"] == patient]
    assert infusions["infusion"].tolist() == [1, 2, 3, 4, 5]
    assert infusions["day"].tolist() == [0, 4, 7, 9, 11]
    assert data.adverse.empty


def test_a_patient_of_the_first_study_is_never_read(complete, site_a, nurse_site_a):
    from tests.factories import enrol, set_up

    with set_up():
        first = enrol(site_a, by=nurse_site_a)
    data = lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL)
    lan = set(Patient.objects.filter(site__study__code="LAN2022").values_list("pk", flat=True))
    assert first.pk not in set(data.patients["patient"])
    for frame in (data.patients, data.visits, data.infusions, data.adverse):
        assert set(frame["patient"]) <= lan
    only_first = lan_dataset.load(Patient.objects.filter(pk=first.pk), as_of=AFTER_THE_TRIAL)
    assert only_first.patients.empty
    assert only_first.visits.empty


def test_the_fingerprint_changes_with_the_data_and_the_day(complete):
    data = lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL)
    assert (
        data.fingerprint()
        == lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL).fingerprint()
    )
    later = lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL + dt.timedelta(days=1))
    assert later.fingerprint() != data.fingerprint()
    MadrsAssessment.objects.filter(pk=MadrsAssessment.objects.first().pk).update(total=0)
    changed = lan_dataset.load(Patient.objects.all(), as_of=AFTER_THE_TRIAL)
    assert changed.fingerprint() != data.fingerprint()
