"""Fixtures of the lock and sign-off tests: named people, and a follow-up that is over."""

import pytest

from tests.factories import finish_follow_up_after_ketamine
from tests.followup.test_questionnaire_validation import VALID


@pytest.fixture
def manager(data_manager):
    data_manager.first_name, data_manager.last_name = "Dana", "Moreau"
    data_manager.save()
    return data_manager


@pytest.fixture
def clinician(clinician_site_a):
    clinician_site_a.first_name, clinician_site_a.last_name = "Claire", "Roux"
    clinician_site_a.save()
    return clinician_site_a


@pytest.fixture
def finished(patient_a, nurse_site_a):
    """Patient A with an administration and W1 completed, then lost to follow-up."""
    return finish_follow_up_after_ketamine(patient_a, by=nurse_site_a, answers=VALID)
