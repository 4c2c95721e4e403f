"""Named personas and shared fixtures."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine
from django.core.cache import caches
from django.db import connections
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import settings as hypothesis_settings

from accounts.roles import Role
from config.env import database_lock_options
from followup.forms import wordings_cache_clear
from tests.factories import SiteFactory, enrol, give_authenticator, make_user, set_up

# Property-based tests draw the same examples on every run, so a CI failure reproduces exactly;
# HYPOTHESIS_PROFILE=explore draws fresh, more numerous ones on a workstation.
hypothesis_settings.register_profile("ci", derandomize=True, max_examples=100, deadline=None)
hypothesis_settings.register_profile("explore", max_examples=2000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class SecondFactorLogin:
    """Make a test client's ``force_login`` stand for the second factor as for the password.

    Tests of the second factor itself sign in through the pages (tests/accounts/).
    """

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


class SignedInClient(SecondFactorLogin, Client):
    """The test client, signed in past the second factor by ``force_login``."""


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Run the statistics with one linear algebra thread, as the analysis worker does."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the personas' passwords quickly: the slow hasher's cost is not what tests test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _language_reset():
    """Leave no language active after a test (a French page must not make the next test French)."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _exports_built_per_request(settings):
    """Build every download for its request; tests/analytics/test_export_snapshots.py opts in."""
    settings.EXPORT_SNAPSHOT_SECONDS = 0


@pytest.fixture(autouse=True)
def _caches_forget_rolled_back_rows(settings):
    """Start each test without cached copies of rows an earlier test's rollback removed.

    (Users need nothing: creating one makes any older copy of the same id stale.)
    """
    caches["process"].clear()
    for language, _name in settings.LANGUAGES:
        wordings_cache_clear(language)


@pytest.fixture
def client():
    return SignedInClient()


@pytest.fixture
def site_a(db):
    return SiteFactory(code="SA", name="Centre de la douleur A")


@pytest.fixture
def site_b(db):
    return SiteFactory(code="SB", name="Centre de la douleur B")


@pytest.fixture
def lan_study(db):
    """The second study (Lan et al. 2022), hosted beside the first."""
    from cohort.models import Study

    return Study.objects.get_or_create(
        code="LAN2022", defaults={"name": "Lan et al. 2022", "definition": "lan2022"}
    )[0]


@pytest.fixture
def nurse_site_a(site_a):
    return make_user("nurse_a", Role.NURSE, [site_a])


@pytest.fixture
def nurse_site_b(site_b):
    return make_user("nurse_b", Role.NURSE, [site_b])


@pytest.fixture
def clinician_site_a(site_a):
    return make_user("clinician_a", Role.CLINICIAN, [site_a])


@pytest.fixture
def statistician(db):
    return make_user("statistician", Role.STATISTICIAN, [])


@pytest.fixture
def data_manager(db):
    """A data manager with an authenticator app, as their role requires."""
    return give_authenticator(make_user("datamanager", Role.DATA_MANAGER, [])).user


@pytest.fixture
def patient_a(site_a, nurse_site_a):
    with set_up():
        return enrol(site_a, by=nurse_site_a)


@pytest.fixture
def patient_b(site_b, nurse_site_b):
    with set_up():
        return enrol(site_b, by=nurse_site_b, first_name="Paul", last_name="Durand", sex="M")


# The day of patient_a's M1 call (enrolled 2026-01-05): its window is open.
DAY_OF_M1 = dt.datetime(2026, 2, 5, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def on_the_day_of_m1():
    """Set the clock to the day of patient_a's M1 call.

    It goes on ticking, so that history rows written in one test keep their order.
    """
    with time_machine.travel(DAY_OF_M1):
        yield


@pytest.fixture
def m1(on_the_day_of_m1, patient_a, nurse_site_a):
    """patient_a's M1 call, completed by the nurse with the valid answers of the call form."""
    from followup.services import call_save
    from tests.followup.test_questionnaire_validation import VALID

    call = patient_a.calls.get(timepoint="M1")
    with set_up():
        return call_save(call=call, data=VALID, by=nurse_site_a, complete=True)


@pytest.fixture
def short_lock_wait(transactional_db, monkeypatch):
    """Make new database connections (this thread's, the live server's) wait 0.3 s for a lock.

    The live server opens a connection per request, from the same settings.
    """
    default = connections["default"]
    options = database_lock_options(
        default.settings_dict["ENGINE"], 0.3, default.settings_dict["OPTIONS"]
    )
    default.close()
    monkeypatch.setitem(default.settings_dict, "OPTIONS", options)
    yield
    default.close()
