"""The names of the values a query may point at, as the pages show them."""

import pytest
from django.utils import translation

from followup.models import FollowUpCall
from quality.targets import field_label, fields_of


def test_call_fields_are_labelled_in_the_active_language():
    with translation.override("en"):
        english = [field_label(FollowUpCall, f) for f in ("nprs_mean", "hads_3", "hads")]
    with translation.override("fr"):
        french = [field_label(FollowUpCall, f) for f in ("nprs_mean", "hads_3", "hads")]
    assert english == ["Mean pain (NPRS)", "HADS item 3", "HADS (whole instrument)"]
    assert all(f != e for f, e in zip(french, english, strict=True))
    assert "3" in french[1]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_call_field_has_a_label_other_than_its_name(language):
    with translation.override(language):
        for field in fields_of(FollowUpCall):
            if field.startswith("sf12_"):
                continue  # SF-12 items keep their standard names in every language
            assert field_label(FollowUpCall, field) != field
