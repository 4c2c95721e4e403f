"""The interface speaks each user's language: French texts, dates and numbers for French users."""

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from tests.test_page_access import TABLE, lan_sites, world  # noqa: F401  (the fixtures)

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES"


@pytest.fixture
def french_nurse(nurse_site_a):
    nurse_site_a.language = "fr"
    nurse_site_a.save(update_fields=["language"])
    return nurse_site_a


@time_machine.travel(dt.datetime(2026, 1, 12, 9, 0, tzinfo=dt.UTC))
def test_french_nurse_gets_the_worklist_in_french_with_french_dates(
    client, french_nurse, patient_a
):
    client.force_login(french_nurse)
    response = client.get(reverse("home"))
    page = response.content.decode()
    assert response.headers["Content-Language"] == "fr"
    assert '<html lang="fr">' in page
    assert "Appels à passer" in page
    assert "Commencer l'appel" in page or "Commencer l&#x27;appel" in page
    assert "Semaine 1" in page
    # One French date format: "12/01/2026" (today), "10/01/2026" (a window).
    assert "12/01/2026" in page
    assert "10/01/2026" in page


@time_machine.travel(dt.datetime(2026, 2, 5, 9, 0, tzinfo=dt.UTC))
def test_french_call_page_shows_vocabulary_labels_and_decimal_commas(
    client, french_nurse, patient_a
):
    from followup.services import questionnaires_save
    from tests.followup.test_questionnaire_validation import VALID

    call = patient_a.calls.get(timepoint="M1")
    questionnaires_save(call=call, data=VALID, by=french_nurse)
    client.force_login(french_nurse)
    page = client.get(reverse("followup:call_entry", args=[call.pk])).content.decode()
    assert "Nausées" in page
    assert "Antidépresseurs" in page
    assert "Messagerie" in page
    pcs = re.search(r"SF-12 PCS</dt><dd><strong>([^<]+)</strong>", page)
    assert pcs is not None
    assert "," in pcs.group(1)


def test_english_user_keeps_english(client, nurse_site_a, patient_a):
    client.force_login(nurse_site_a)
    assert "Calls to make" in client.get(reverse("home")).content.decode()


def test_french_catalogue_is_complete_and_compiled(tmp_path):
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in po
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", str(LOCALE / "django.po")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "msgid" not in untranslated.replace('msgid ""\nmsgstr ""', "", 1)
    # The committed .mo is what `manage.py compilemessages` makes of the committed .po.
    fresh = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(fresh), str(LOCALE / "django.po")], check=True
    )
    assert fresh.read_bytes() == (LOCALE / "django.mo").read_bytes()


@time_machine.travel(dt.datetime(2026, 2, 5, 9, 0, tzinfo=dt.UTC))
def test_date_inputs_keep_the_iso_value_browsers_expect_in_french(client, french_nurse, patient_a):
    client.force_login(french_nurse)
    call = patient_a.calls.get(timepoint="M1")
    page = client.get(reverse("followup:call_entry", args=[call.pk])).content.decode()
    assert 'type="date" name="call_date" value="2026-02-05"' in page


def _msgids(po_text: str) -> dict[str, str]:
    """Return the single-form entries of a catalogue: msgid -> msgstr (unwrapped)."""
    entries: dict[str, str] = {}
    for block in po_text.split("\n\n"):
        if "msgid_plural" in block:
            continue
        found = re.search(r'^msgid "(.*)"\nmsgstr "(.*)"$', block, re.M)
        if found and found.group(1):
            entries[found.group(1).replace('\\"', '"')] = found.group(2).replace('\\"', '"')
    return entries


def test_every_message_the_app_marks_is_in_the_french_catalogue_and_translated():
    po = LOCALE / "django.po"
    committed = po.read_text(encoding="utf-8")
    try:
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "fr", "--ignore=.venv",
             "--ignore=var", "--no-location", "--no-wrap"],
            cwd=settings.BASE_DIR, check=True, capture_output=True,
        )  # fmt: skip
        fresh = po.read_text(encoding="utf-8")
    finally:
        po.write_text(committed, encoding="utf-8")
    translated = {k for k, v in _msgids(committed).items() if v}
    missing = sorted(set(_msgids(fresh)) - translated)
    assert missing == [], "run `make messages` and translate these"


@time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
def test_french_pages_show_no_english_message_of_the_catalogue(client, site_a, request):
    from bs4 import BeautifulSoup

    objects = request.getfixturevalue("world")
    english = {k for k, v in _msgids((LOCALE / "django.po").read_text("utf-8")).items()
               if v and v != k and "%" not in k and len(k) > 3}  # fmt: skip
    found = {}
    for persona in ("nurse_site_a", "clinician_site_a", "data_manager"):
        user = request.getfixturevalue(persona)
        user.language = "fr"
        user.save(update_fields=["language"])
        client.force_login(user)
        for line in TABLE:
            if line.method != "GET" or line.name.startswith(("analysis:", "analytics:")):
                continue  # the analysis pages are translated with the analysis report
            url = reverse(line.name, kwargs=objects["A"][line.fill] if line.fill else {})
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                continue
            soup = BeautifulSoup(response.content, "html.parser")
            for node in soup.find_all(string=True):
                if node.parent.name in ("script", "style") or node.parent.get("lang") == "en":
                    continue  # a language's own name in the switch is written in it
                text = " ".join(node.split())
                if text in english:
                    found.setdefault(text, url)
            for tag in soup.find_all(attrs={"aria-label": True}):
                if tag["aria-label"] in english:
                    found.setdefault(tag["aria-label"], url)
    assert found == {}
