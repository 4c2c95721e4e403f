"""The API answers any request its schema allows, and many it does not, without a server error.

Requests are generated from the OpenAPI schema the app itself publishes and sent to the
application in process, signed in (by session, past the second factor) as each role that
writes: a nurse of a site with enrolled patients, a statistician and a data manager. Every answer
must be documented: no 5xx, a documented status code, a body that fits its response schema.
Generation is deterministic and bounded so the whole file stays well under two minutes.
"""

from __future__ import annotations

import secrets

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cohort.services import administration_record
from tests.api.conftest import SignedInAPIClient
from tests.factories import enrol

# Fuzzing examples per operation, persona and generation mode (schema-valid and schema-invalid).
MAX_EXAMPLES = 5

schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[arg-type]
)
schema.app = get_wsgi_application()
schema.config.phases.coverage.enabled = False
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    # The session is given by the test; the schema's security schemes are not fuzzed.
    with_security_parameters=False,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Not `negative_data_rejection`: as DRF and django-filter do, query filters and page sizes of the
# wrong type are ignored, not refused; bodies of the wrong shape are refused (a 400 is documented).

WRITERS = ("nurse_site_a", "statistician", "data_manager")


@pytest.fixture
def in_process_requests(db):
    """Keep the test's database transaction open across requests, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def study(site_a, nurse_site_a, patient_a, patient_b, good_run):
    """Objects to aim at: a site, enrolled patients, an administration, calls, a finished run."""
    second = enrol(site_a, by=nurse_site_a, first_name="Anne", last_name="Leroy")
    administration = administration_record(
        patient=patient_a, date=patient_a.inclusion_date, route="iv", dose_unit="mg",
        dose_value=50, by=nurse_site_a,
    )  # fmt: skip
    return {
        "sites": site_a.pk,
        "patients": second.pk,
        "administrations": administration.pk,
        "calls": patient_a.calls.get(timepoint="M1").pk,
        "analysis": good_run.pk,
    }


def _signed_in(user) -> tuple[dict[str, str], dict[str, str]]:
    """Return the cookies and headers of a session signed in as ``user``, with a CSRF token."""
    client = SignedInAPIClient()
    client.force_login(user)
    csrf = secrets.token_hex(16)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    cookies = {django_settings.SESSION_COOKIE_NAME: session, django_settings.CSRF_COOKIE_NAME: csrf}
    return cookies, {"X-CSRFToken": csrf}


def _aim_at_existing_objects(case, study: dict[str, int]) -> None:
    """Point the path's ``id`` at an object of the study, so bodies reach the validation."""
    if "id" not in (case.path_parameters or {}):
        return
    collection = case.path.split("/")[3]
    if collection in study:
        case.path_parameters["id"] = study[collection]


@pytest.mark.parametrize("persona", WRITERS)
@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_documented(case, persona, request, in_process_requests, study):
    cookies, headers = _signed_in(request.getfixturevalue(persona))
    _aim_at_existing_objects(case, study)
    case.call_and_validate(cookies=cookies, headers=headers, checks=CHECKS)
