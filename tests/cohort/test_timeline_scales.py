"""The timeline's chart draws the HADS bands the instrument defines, sent by the server."""

from __future__ import annotations

import json
import pathlib
import re

from django.urls import reverse

from followup.instruments import hads

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "static/js/patient-timeline.js"


def test_the_page_sends_the_hads_cut_offs_of_the_instrument(client, clinician_site_a, patient_a):
    client.force_login(clinician_site_a)
    page = client.get(reverse("cohort:patient_timeline", args=[patient_a.pk])).content.decode()
    data = re.search(r'<script id="timeline-data" type="application/json">(.*?)</script>', page)
    assert data is not None
    scales = json.loads(data.group(1))["scales"]
    assert scales["hads"] == {
        "max": hads.SUBSCALE_MAX,
        "normal_max": hads.NORMAL_MAX,
        "borderline_max": hads.BORDERLINE_MAX,
    }
    assert (scales["hads"]["normal_max"], scales["hads"]["borderline_max"]) == (7, 10)


def test_the_chart_script_holds_no_hads_cut_off_of_its_own():
    script = SCRIPT.read_text()
    assert "d.scales.hads" in script
    hads_lines = [line for line in script.splitlines() if "band(" in line and "#" in line]
    assert hads_lines
    for line in hads_lines:
        assert not re.search(r"band\(\s*[1-9]", line), line
        assert not re.search(r",\s*[1-9]\d*\s*,\s*\"#", line), line
