"""Named personas and shared fixtures."""

from __future__ import annotations

import pytest

from accounts.roles import Role
from tests.factories import SiteFactory, enrol, make_user


@pytest.fixture
def site_a(db):
    return SiteFactory(code="SA", name="Centre de la douleur A")


@pytest.fixture
def site_b(db):
    return SiteFactory(code="SB", name="Centre de la douleur B")


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
    return make_user("datamanager", Role.DATA_MANAGER, [])


@pytest.fixture
def patient_a(site_a, nurse_site_a):
    return enrol(site_a, by=nurse_site_a)


@pytest.fixture
def patient_b(site_b, nurse_site_b):
    return enrol(site_b, by=nurse_site_b, first_name="Paul", last_name="Durand", sex="M")
