"""The interface speaks each user's language: French texts, dates and numbers for French users."""

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

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
    # French long and short dates: "12 janvier 2026", "10/01/2026".
    assert "12 janvier 2026" in page
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
