"""The worklist's row tags write exactly what Django's ``date`` filter and ``url`` tag write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation

from followup.templatetags.worklist_tags import pk_url

DAYS = [dt.date(2026, 1, 31), dt.date(2026, 12, 6), dt.date(2027, 2, 1)]


def _render(text: str, value: object) -> str:
    return Template("{% load worklist_tags %}" + text).render(Context({"value": value}))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_short_date_writes_what_the_date_filter_writes_in_each_language(language):
    moment = timezone.make_aware(dt.datetime(2026, 12, 6, 23, 30), dt.UTC)  # next day in Paris
    with translation.override(language):
        for value in [*DAYS, DAYS[0], moment, None]:
            ours = _render("{{ value|short_date }}", value)
            assert ours == _render('{{ value|date:"SHORT_DATE_FORMAT" }}', value), value


def test_a_day_formatted_in_one_language_is_not_reused_in_the_other():
    with translation.override("en"):
        english = _render("{{ value|short_date }}", DAYS[2])
    with translation.override("fr"):
        french = _render("{{ value|short_date }}", DAYS[2])
    assert english != french
    assert french == "01/02/2027"


def test_pk_url_is_the_url_tag_for_every_key_and_script_prefix():
    for pk in (1, 7, 98765):
        assert pk_url("followup:call_entry", pk) == reverse("followup:call_entry", args=[pk])
        assert pk_url("cohort:patient_detail", pk) == reverse("cohort:patient_detail", args=[pk])
    set_script_prefix("/study/")
    try:
        assert pk_url("followup:call_entry", 5) == reverse("followup:call_entry", args=[5])
        assert pk_url("followup:call_entry", 5).startswith("/study/")
    finally:
        set_script_prefix("/")
