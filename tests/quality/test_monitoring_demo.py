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
    from cohort.demo.generator import generate

    plain = generate(200, seed=4)
    pulled = generate(200, seed=4, plant={"nprs_digit_preference": 1})
    both = plain.calls["nprs_mean"].notna()
    changed = (plain.calls["nprs_mean"] != pulled.calls["nprs_mean"]) & both
    assert changed.sum() > 0
    assert set(pulled.calls.loc[changed, "nprs_mean"]) == {5}
    assert (pulled.calls["nprs_max"].fillna(10) >= pulled.calls["nprs_mean"].fillna(0)).all()
