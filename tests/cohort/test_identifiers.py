import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from cohort import fields
from cohort.models import PatientContact

pytestmark = pytest.mark.django_db


def _raw_contact_row(contact_pk):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT first_name, last_name, phone FROM cohort_patientcontact WHERE id = %s",
            [contact_pk],
        )
        return cursor.fetchone()


def test_identifiers_are_encrypted_at_rest(patient_a):
    raw = _raw_contact_row(patient_a.contact.pk)
    assert "Jeanne" not in raw[0]
    assert "Martin" not in raw[1]
    # Fernet tokens are base64: short digit runs like "73" may appear by chance, the number not.
    assert "+33 4 73 00 00 00" not in raw[2]
    assert raw[2].startswith("gAAAAA")
    assert fields.decrypt(raw[0]) == "Jeanne"


def test_identifiers_read_back_in_clear(patient_a):
    contact = PatientContact.objects.get(patient=patient_a)
    assert (contact.first_name, contact.last_name) == ("Jeanne", "Martin")


def test_history_of_identifiers_is_encrypted_too(patient_a):
    table = PatientContact.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_name FROM {table}")
        tokens = [row[0] for row in cursor.fetchall()]
    assert tokens
    assert all("Martin" not in token for token in tokens)


def test_key_rotation_reencrypts_with_the_new_key(patient_a, settings):
    old_keys = list(settings.IDENTIFIER_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.IDENTIFIER_KEYS = [new_key, *old_keys]
    call_command("rotate_identifier_keys", stdout=None)
    raw = _raw_contact_row(patient_a.contact.pk)
    # Only the new key is needed from now on.
    assert Fernet(new_key.encode()).decrypt(raw[1].encode()).decode() == "Martin"
    settings.IDENTIFIER_KEYS = [new_key]
    assert PatientContact.objects.get(pk=patient_a.contact.pk).last_name == "Martin"
