"""A demo cohort with a planted digit preference: the central monitoring finds that site."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from quality import monitoring
from quality.monitoring_data import load_calls

pytestmark = pytest.mark.django_db


def test_the_site_planted_with_a_digit_preference_is_the_one_flagged(tmp_path):
    truth = tmp_path / "truth.json"
    call_command(
        "seed_demo",
        "--patients",
        "329",
        "--plant",
        "nprs_digit_preference=1",
        "--truth",
        str(truth),
        stdout=io.StringIO(),
    )
    planted = json.loads(truth.read_text())["planted"]["nprs_digit_preference"]
    result = monitoring.monitor(load_calls(), as_of=dt.date(2019, 1, 1))
    flagged = {flag.site for flag in result.flags if flag.test == "digit"}
    assert flagged == {planted[0]["site_code"]}
    flag = next(flag for flag in result.flags if flag.test == "digit")
    assert flag.kind == "digit_five"
    assert "digit preference" in flag.message


def test_the_digit_preference_leaves_the_data_quality_rules_silent():
    from demo.synthetic.generator import generate

    plain = generate(200, seed=4)
    pulled = generate(200, seed=4, plant={"nprs_digit_preference": 1})
    both = plain.calls["nprs_mean"].notna()
    changed = (plain.calls["nprs_mean"] != pulled.calls["nprs_mean"]) & both
    assert changed.sum() > 0
    assert set(pulled.calls.loc[changed, "nprs_mean"]) == {5}
    assert (pulled.calls["nprs_max"].fillna(10) >= pulled.calls["nprs_mean"].fillna(0)).all()


def _ongoing_dates() -> dict[str, dt.date]:
    """Return the enrolment period and cut of ``seed_demo --ongoing`` today."""
    from django.utils import timezone

    from demo.management.commands.seed_demo import ONGOING_CUT_DAYS, PAPER_ENROLMENT

    end = timezone.localdate() - dt.timedelta(days=ONGOING_CUT_DAYS)
    start = end - (PAPER_ENROLMENT[1] - PAPER_ENROLMENT[0])
    return {"enrolment_start": start, "enrolment_end": end, "as_of": end}


def test_the_ongoing_demo_shows_its_planted_site_on_the_monitoring_page(
    tmp_path, client, statistician
):
    """`make run` (329 patients, ongoing): the page flags the site the demo planted."""
    from django.urls import reverse
    from django.utils import timezone

    from quality.services import monitoring_compute

    truth = tmp_path / "truth.json"
    call_command(
        "seed_demo", "--patients", "329", "--ongoing", "--truth", str(truth), stdout=io.StringIO()
    )
    planted = json.loads(truth.read_text())["planted"]["nprs_digit_preference"]
    site = planted[0]["site_code"]
    snapshot = monitoring_compute(as_of=timezone.localdate())
    flags = [flag for row in snapshot.result["rows"] for flag in row["flags"]]
    assert [(f["site"], f["kind"]) for f in flags if f["test"] == "digit"] == [(site, "digit_five")]
    assert next(f for f in flags if f["test"] == "digit")["p_adjusted"] < 0.001
    statistician.refresh_from_db()  # the demo users were (re)made by seed_demo
    client.force_login(statistician)
    response = client.get(reverse("quality:monitoring"))
    assert response.status_code == 200, response
    shown = response.context["flags"]
    assert any(code == site and "possible digit preference" in text for code, text in shown), shown


def test_the_unplanted_ongoing_demo_leaves_that_site_alone():
    """The same cohort without the plant: the site chosen for it is not flagged at all."""
    from demo.loader import demo_load
    from demo.synthetic.generator import generate

    dates = _ongoing_dates()
    planted = generate(329, seed=0, plant={"nprs_digit_preference": 1}, **dates)
    site = planted.truth["planted"]["nprs_digit_preference"][0]["site_code"]
    demo_load(generate(329, seed=0, **dates))
    result = monitoring.monitor(load_calls(), as_of=dates["as_of"])
    row = next(row for row in result.rows if row.site == site)
    assert row.tested
    assert row.nprs_answers >= monitoring.MIN_ANSWERS
    assert [flag for flag in result.flags if flag.site == site] == []
