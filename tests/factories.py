"""Factories of test data; patients are enrolled through the real service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_set_role
from cohort.models import Patient, Site
from cohort.services import patient_enrol

# The password of every user made here.
PASSWORD = "a-long-test-password"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Pain clinic {o.code}")
    city = "Clermont-Ferrand"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)


def make_user(username: str, role: Role, sites: list[Site]) -> User:
    """Create a user with one role and some sites."""
    # Transactional tests (the browser ones) flush the role groups the migration created.
    Group.objects.get_or_create(name=role.value)
    user = UserFactory(username=username)
    user.save()
    return user_set_role(user=user, role=role, sites=sites)


def enrol(site: Site, by: Any = None, **overrides: Any) -> Patient:
    """Enrol an eligible patient with sensible defaults through the enrolment service."""
    values: dict[str, Any] = {
        "sex": "F",
        "age": 52,
        "inclusion_date": dt.date(2026, 1, 5),
        "consent_date": dt.date(2026, 1, 5),
        "weight_kg": Decimal("70.0"),
        "etiology": "peripheral_neuropathic",
        "pain_duration_months": 24,
        "first_name": "Jeanne",
        "last_name": "Martin",
        "phone": "+33 4 73 00 00 00",
        "comorbidities": ["migraine"],
        "dn4": 5,
    }
    if not site.study.protocol.collects_pain_history:
        # A study that does not collect the pain history refuses it (the depression study).
        for name in ("etiology", "pain_duration_months", "dn4"):
            values.pop(name)
    values.update(overrides)
    return patient_enrol(site=site, by=by, **values)


def give_authenticator(user: User) -> TOTPDevice:
    """Give a user a confirmed authenticator app (a TOTP device with a random key)."""
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def finish_follow_up_after_ketamine(
    patient: Patient, *, by: Any, answers: dict[str, Any]
) -> Patient:
    """Record a 40 mg IV administration on 5 January 2026, then ``finish_follow_up``."""
    from cohort.services import administration_record

    administration_record(
        patient=patient,
        date=dt.date(2026, 1, 5),
        route="iv",
        dose_unit="mg",
        dose_value=Decimal(40),
        by=by,
    )
    return finish_follow_up(patient, by=by, answers=answers)


def finish_follow_up(patient: Patient, *, by: Any, answers: dict[str, Any]) -> Patient:
    """Complete the first follow-up call (W1 in the first study) with ``answers``, then record the
    patient as lost: follow-up over.

    The patient then has a reached call to correct later and no call left to make.
    """
    from cohort.services import patient_set_status
    from followup.services import call_save

    w1 = patient.calls.exclude(timepoint="BL").order_by("sequence").first()
    assert w1 is not None, "the patient has no follow-up call"
    call_save(call=w1, data=answers, by=by, complete=True, call_date=w1.target_date)
    return patient_set_status(
        patient=patient,
        status="lost",
        date=w1.target_date + dt.timedelta(days=40),
        reason="Moved abroad, no new phone number",
        by=by,
    )


@contextmanager
def set_up() -> Iterator[None]:
    """Run a fixture's writes as set-up that is over: the on-commit callbacks they register
    (the re-analysis a change schedules, once per transaction) are dropped, so that a test's
    own write registers its own (the test's transaction never commits)."""
    pending = transaction.get_connection().run_on_commit
    before = len(pending)
    yield
    del pending[before:]
