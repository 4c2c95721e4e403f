"""Attacks on the text of the rated assessments: identifiers typed into them, and the French.

The sites, personas and rows are those of ``tests/api/test_study_attacks.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import translation

from followup.models import MadrsAssessment, SfMpqAssessment
from tests.api import test_study_attacks as attacks
from tests.api.test_study_attacks import MADRS_URL, SF_MPQ_URL, correction, madrs_body
from tests.followup.test_assessments import SF_MPQ

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# The fixtures of the attacks' sites, personas and rows.
site_l, nurse_lan, patient_l = attacks.site_l, attacks.nurse_lan, attacks.patient_l
madrs_l, sf_mpq_l = attacks.madrs_l, attacks.sf_mpq_l


# The French pages.

NEW_TEMPLATES = (
    "templates/followup/assessment_list.html",
    "templates/followup/assessment_entry.html",
)
# Words the same in both languages.
SAME_IN_FRENCH = {"Total", "Questionnaire", "Date", "Version"}


def _template_msgids(path: str) -> set[str]:
    text = (ROOT / path).read_text()
    return set(re.findall(r'{% translate "([^"]+)"', text))


def test_the_new_strings_have_their_french():
    missing = []
    with translation.override("fr"):
        for path in NEW_TEMPLATES:
            for msgid in _template_msgids(path):
                if translation.gettext(msgid) == msgid and msgid not in SAME_IN_FRENCH:
                    missing.append(msgid)
        missing += [
            text
            for text in ("Study", "All my studies", "Visits and calls due")
            if translation.gettext(text) == text
        ]
    assert missing == []


def _visible_text(response) -> str:
    soup = BeautifulSoup(response.content, "html.parser")
    for tag in soup(["script", "style"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def test_the_assessment_pages_and_the_worklist_study_column_are_french(
    client, patient_l, madrs_l, nurse_lan, site_a
):
    nurse_lan.sites.add(site_a)
    client.force_login(nurse_lan)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    english = {
        "Rated assessments",
        "Back to the patient file",
        "Questionnaire",
        "Response",
        "Remission",
        "Correct",
        "Enter",
        "Visit",
        "Study",
        "All my studies",
        "Visits and calls due",
        "Save",
        "Reason",
        "Rater",
        "Date of the assessment",
    } - {"Questionnaire"}
    pages = [
        reverse("followup:assessment_list", args=[patient_l.pk]),
        reverse("followup:assessment_entry", args=[patient_l.pk, "madrs", "BL"]),
        reverse("followup:assessment_entry", args=[patient_l.pk, "sf_mpq", "BL"]),
        reverse("followup:worklist"),
    ]
    for url in pages:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
        assert response.status_code == 200, url
        text = _visible_text(response)
        found = [word for word in english if re.search(rf"\b{re.escape(word)}\b", text)]
        assert found == [], (url, found)


# Identifiers typed into the free text of the new models, read by the roles without identifiers.

MARK = "Zéphyrine Brancourt 06 55 44 33 22"


@pytest.fixture
def marked(api, patient_l, madrs_l, sf_mpq_l, nurse_lan):
    """patient_l's MADRS and SF-MPQ, corrected with MARK as the reason, MARK in their free text."""
    client = api("nurse_lan")
    url = f"{MADRS_URL}{madrs_l['id']}/"
    assert client.put(url, correction(reason=MARK), format="json").status_code == 200
    body = {"assessed_on": "2026-02-02", "version": 1, "reason": MARK} | SF_MPQ
    assert client.put(f"{SF_MPQ_URL}{sf_mpq_l['id']}/", body, format="json").status_code == 200
    rows = [MadrsAssessment.objects.get(), SfMpqAssessment.objects.get()]
    for row in rows:
        row.void_reason = MARK
        row._change_reason = MARK
        row._history_user = nurse_lan
        row.save()
    return rows


@pytest.mark.parametrize("role", ["statistician", "data_manager"])
def test_roles_without_identifiers_never_read_the_assessments_free_text(
    client, request, patient_l, marked, role
):
    client.force_login(request.getfixturevalue(role))
    urls = [
        reverse("cohort:patient_history", args=[patient_l.pk]),
        reverse("followup:assessment_list", args=[patient_l.pk]),
        MADRS_URL,
        SF_MPQ_URL,
        f"{MADRS_URL}{marked[0].pk}/",
        f"{SF_MPQ_URL}{marked[1].pk}/",
    ]
    if role == "data_manager":
        for row in marked:
            base = f"admin:followup_{row._meta.model_name}"
            urls += [
                reverse(f"{base}_change", args=[row.pk]),
                reverse(f"{base}_changelist"),
                reverse(f"{base}_history", args=[row.pk]),
            ]
    opened = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code in {200, 403, 404}, (url, response.status_code)
        page = response.content.decode() if response.status_code == 200 else ""
        opened += bool(page)
        assert "Brancourt" not in page, url
        assert "06 55 44 33 22" not in page, url
    assert opened >= 5


def test_site_staff_read_the_reason_of_a_correction(client, patient_l, marked, nurse_lan):
    client.force_login(nurse_lan)
    history = client.get(reverse("cohort:patient_history", args=[patient_l.pk]))
    assert "Brancourt" in history.content.decode()


@pytest.mark.parametrize(
    "rater",
    ["Lambert", "L. Lambert", "Louise LAMBERT", "lambert JD", "+33 4 73 00 00 00", "0612345678"],
)
def test_the_rater_cannot_name_the_patient(api, patient_l, rater):
    """The rater is study staff, read by every role: the patient's name or a phone is refused."""
    response = api("nurse_lan").post(MADRS_URL, madrs_body(patient_l, rater=rater), format="json")
    assert response.status_code == 400, response.json()
    assert "rater" in response.json()
    assert not MadrsAssessment.objects.exists()


def test_a_rater_sharing_nothing_with_the_patient_is_kept(api, patient_l):
    for visit, rater in (("BL", "JD"), ("D1", "Louise Dupont"), ("D26", "Dr Lamberti")):
        body = madrs_body(patient_l, visit=visit, rater=rater)
        assert api("nurse_lan").post(MADRS_URL, body, format="json").status_code == 201
