"""Every page for every role, on an object of the persona's site and of another site.

The table below has one line per URL name of ``config/urls.py`` (the API and the administration
site are tested apart, see ``EXCLUDED``). A URL that is added without its line, or a line whose URL
has gone, fails ``test_every_url_pattern_has_a_line_in_the_table``.

Outcomes: 200, 400, 403, 404, 405, LOGIN (a redirect to the sign-in page), MOVED (another
redirect). A tuple gives the outcome on an object of site A, then on one of site B; a single
value holds for both. Personas: anonymous, a nurse and a clinician of site A, a statistician, a
data manager (past the second factor). GET for pages; POST with an empty body for views that
only take POST (a refused POST must also leave every table as it was).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from analytics.models import AnalysisRun
from cohort.services import administration_record
from followup.services import adverse_event_record
from quality.services import query_raise
from tests.factories import SiteFactory, enrol

pytestmark = pytest.mark.django_db

LOGIN, MOVED = "login", "moved"
PERSONAS = ("anonymous", "nurse_site_a", "clinician_site_a", "statistician", "data_manager")
Outcome = int | str | tuple[int | str, int | str]


@dataclass(frozen=True)
class Line:
    """What each persona gets from one URL, filled with one kind of object."""

    name: str
    fill: str | None  # the kind of object in the URL, None when it takes no parameter
    method: str
    anonymous: Outcome
    nurse: Outcome
    clinician: Outcome
    statistician: Outcome
    data_manager: Outcome

    def expected(self, persona: str, site: str) -> int | str:
        column = {
            "anonymous": self.anonymous,
            "nurse_site_a": self.nurse,
            "clinician_site_a": self.clinician,
            "statistician": self.statistician,
            "data_manager": self.data_manager,
        }[persona]
        if isinstance(column, tuple):
            return column[0] if site == "A" else column[1]
        return column


def get(name, fill, anon, nurse, clin, stat, dm):
    return Line(name, fill, "GET", anon, nurse, clin, stat, dm)


def post(name, fill, anon, nurse, clin, stat, dm):
    return Line(name, fill, "POST", anon, nurse, clin, stat, dm)


# Site staff get 404 for another site's object wherever they may open their own site's.
SITE = (200, 404)
SITE400 = (400, 404)
SITEMOV = (MOVED, 404)

# fmt: off
TABLE = [
    # url name                               object     anon     nurse    clin     stat     dm
    get("home",                              None,      LOGIN,   200,     200,     200,     200),
    get("health",                            None,      200,     200,     200,     200,     200),
    get("login",                             None,      200,     200,     200,     200,     200),
    post("logout",                           None,      LOGIN,   LOGIN,   LOGIN,   LOGIN,   LOGIN),
    post("set_language",                     None,      MOVED,   MOVED,   MOVED,   MOVED,   MOVED),
    get("accounts:security",                 None,      LOGIN,   200,     200,     200,     200),
    post("accounts:language",                None,      LOGIN,   MOVED,   MOVED,   MOVED,   MOVED),
    get("accounts:second_factor_setup",      None,      LOGIN,   200,     200,     200,     200),
    get("accounts:second_factor_verify",     None,      LOGIN,   MOVED,   MOVED,   MOVED,   MOVED),
    post("accounts:second_factor_turn_off",  None,      LOGIN,   MOVED,   MOVED,   MOVED,   MOVED),
    get("accounts:password_change",          None,      LOGIN,   200,     200,     200,     200),
    get("accounts:password_change_done",     None,      LOGIN,   200,     200,     200,     200),
    get("accounts:password_set",             "setlink", 200,     200,     200,     200,     200),
    get("accounts:user_list",                None,      LOGIN,   403,     403,     403,     200),
    get("accounts:user_new",                 None,      LOGIN,   403,     403,     403,     200),
    get("accounts:user_edit",                "user",    LOGIN,   403,     403,     403,     200),
    post("accounts:user_require_password_change", "user", LOGIN, 403,     403,     403,     MOVED),
    post("accounts:user_second_factor_reset", "user",   LOGIN,   403,     403,     403,     MOVED),
    get("cohort:patient_list",               None,      LOGIN,   200,     200,     200,     200),
    get("cohort:patient_new",                None,      LOGIN,   200,     200,     403,     200),
    get("cohort:patient_detail",             "patient", LOGIN,   SITE,    SITE,    403,     200),
    get("cohort:patient_timeline",           "patient", LOGIN,   SITE,    SITE,    200,     200),
    get("cohort:patient_history",            "patient", LOGIN,   SITE,    SITE,    200,     200),
    post("cohort:administration_add",        "patient", LOGIN,   SITE400, SITE400, 403,     400),
    get("cohort:administration_edit",        "admin",   LOGIN,   SITE,    SITE,    403,     200),
    post("cohort:patient_status",            "patient", LOGIN,   SITE400, SITE400, 403,     400),
    post("cohort:patient_call_times",        "patient", LOGIN,   SITEMOV, SITEMOV, 403,     403),
    post("cohort:patient_lock",              "patient", LOGIN,   403,     403,     403,     MOVED),
    post("cohort:patient_unlock",            "patient", LOGIN,   403,     403,     403,     400),
    get("cohort:patient_sign",               "patient", LOGIN,   403,     SITE,    403,     403),
    get("followup:worklist",                 None,      LOGIN,   200,     200,     403,     403),
    get("followup:call_entry",               "call",    LOGIN,   SITE,    SITE,    403,     200),
    post("followup:call_scores",             "call",    LOGIN,   SITE,    SITE,    403,     200),
    post("followup:call_reviewed",           "call",    LOGIN,   403,     SITEMOV, 403,     403),
    get("followup:call_history",             "call",    LOGIN,   SITE,    SITE,    200,     200),
    get("followup:assessment_list",          "rated",   LOGIN,   SITE,    SITE,    200,     200),
    get("followup:assessment_entry",         "visit",   LOGIN,   SITE,    SITE,    403,     200),
    # The visit has no live assessment to void: 404 for every data entry role, on any site.
    post("followup:assessment_void",         "visit",   LOGIN,   404,     404,     403,     404),
    get("followup:depression_baseline",      "rated",   LOGIN,   SITE,    SITE,    403,     200),
    get("followup:lost_proposals",           None,      LOGIN,   403,     403,     403,     200),
    post("followup:lost_proposal_mark_lost", "patient", LOGIN,   403,     403,     403,     404),
    post("followup:lost_proposal_dismiss",   "patient", LOGIN,   403,     403,     403,     404),
    get("quality:query_list",                None,      LOGIN,   200,     200,     403,     200),
    get("quality:query_detail",              "query",   LOGIN,   SITE,    SITE,    403,     200),
    post("quality:query_answer",             "query",   LOGIN,   SITEMOV, SITEMOV, 403,     403),
    post("quality:query_close",              "query",   LOGIN,   403,     403,     403,     MOVED),
    post("quality:query_reopen",             "query",   LOGIN,   403,     403,     403,     MOVED),
    post("quality:query_raise",              "call_pk", LOGIN,   403,     403,     403,     400),
    get("quality:monitoring",                None,      LOGIN,   403,     403,     200,     200),
    post("followup:effect_follow_up",        "effect",  LOGIN,   SITE400, SITE400, 403,     400),
    get("safety:safety_page",                None,      LOGIN,   403,     200,     200,     200),
    get("safety:alert_detail",               "alert",   LOGIN,   403,     SITE,    403,     200),
    get("safety:line_listing",               "listing", LOGIN,   403,     200,     200,     200),
    get("analysis:dashboard",                None,      LOGIN,   403,     200,     200,     200),
    get("analysis:run_status",               None,      LOGIN,   403,     200,     200,     200),
    post("analysis:rerun",                   None,      LOGIN,   403,     403,     MOVED,   403),
    get("analysis:run_list",                 None,      LOGIN,   403,     200,     200,     200),
    get("analysis:run_detail",               "run",     LOGIN,   403,     200,     200,     200),
    get("analysis:report_json",              None,      LOGIN,   403,     200,     200,     200),
    get("analysis:report_html",              None,      LOGIN,   403,     200,     200,     200),
    get("analysis:run_report_json",          "run",     LOGIN,   403,     200,     200,     200),
    get("analysis:run_report_html",          "run",     LOGIN,   403,     200,     200,     200),
    get("analytics:export_list",             None,      LOGIN,   403,     403,     200,     200),
    get("analytics:export_dictionary",       "dict",    LOGIN,   403,     403,     200,     200),
    get("analytics:export_download",         "export",  LOGIN,   403,     403,     200,     200),
]
# fmt: on

# Namespaces tested elsewhere, one line each.
EXCLUDED = {
    "admin": "the administration site: tests/test_admin_site.py and its model permissions",
    "api": "the REST API and its documentation: tests/api/test_access.py",
}

REFUSED = {LOGIN, 403, 404, 405}
# The identifiers of the two patients, distinctive so that no other text contains them.
IDENTIFIERS = {
    "A": ("Philomène", "Quincampoix", "+33 6 12 48 93 57"),
    "B": ("Anatole", "Vervaecke", "+33 6 77 31 02 86"),
}


def _url_names(patterns: list[Any], namespace: str = "") -> list[str]:
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
            names += _url_names(pattern.url_patterns, inner if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}:{pattern.name}" if namespace else str(pattern.name))
    return names


def test_every_url_pattern_has_a_line_in_the_table():
    names = [
        name
        for name in _url_names(get_resolver().url_patterns)
        if name.split(":")[0] not in EXCLUDED
    ]
    in_table = [line.name for line in TABLE]
    assert len(in_table) == len(set(in_table)), "a URL name has two lines"
    assert sorted(set(names) - set(in_table)) == [], "URLs without a line in TABLE"
    assert sorted(set(in_table) - set(names)) == [], "lines of TABLE whose URL has gone"


@pytest.fixture
def world(site_a, site_b, nurse_site_a, nurse_site_b, clinician_site_a, data_manager, lan_study):
    """A patient, an administration, a call and a query on each site; a finished analysis.

    Beside each site, a site of the second study (which rates the MADRS and the SF-MPQ) where
    the same staff work, with a patient of its own.
    """
    lan_sites = {key: SiteFactory(code=f"L{key}", study=lan_study) for key in ("A", "B")}
    for user, key in ((nurse_site_a, "A"), (clinician_site_a, "A"), (nurse_site_b, "B")):
        user.sites.add(lan_sites[key])
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False):
        objects: dict[str, dict[str, Any]] = {}
        for site, nurse, key in ((site_a, nurse_site_a, "A"), (site_b, nurse_site_b, "B")):
            first, last, phone = IDENTIFIERS[key]
            patient = enrol(site, by=nurse, first_name=first, last_name=last, phone=phone)
            rated = enrol(lan_sites[key], by=nurse, first_name=first, last_name=last, phone=phone)
            administration = administration_record(
                patient=patient, date=patient.inclusion_date, route="iv", dose_unit="mg",
                dose_value=Decimal("50"), by=nurse,
            )  # fmt: skip
            call = patient.calls.get(timepoint="M1")
            query = query_raise(
                target=call, field="call_date", kind="missing", text="Date?", by=data_manager
            )
            effect = adverse_event_record(
                call=call,
                values={"type": "headache", "severity": "severe", "serious": True,
                        "criteria": ["hospitalisation"]},
                by=nurse,
            )  # fmt: skip
            objects[key] = {
                "effect": {"pk": effect.pk},
                "alert": {"pk": effect.safety_alert.pk},
                "listing": {"fmt": "csv"},
                "patient": {"pk": patient.pk},
                "rated": {"pk": rated.pk},
                "visit": {"pk": rated.pk, "instrument": "madrs", "visit": "BL"},
                "admin": {"pk": patient.pk, "administration_pk": administration.pk},
                "call": {"pk": call.pk},
                "call_pk": {"call_pk": call.pk},
                "user": {"pk": nurse.pk},
                "setlink": {"uidb64": "MQ", "token": "not-a-token"},
                "query": {"pk": query.pk},
            }
        run = AnalysisRun.objects.create(
            status=AnalysisRun.Status.SUCCEEDED,
            trigger=AnalysisRun.Trigger.MANUAL,
            started_at=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
            finished_at=dt.datetime(2026, 3, 2, 9, 1, tzinfo=dt.UTC),
            report={"run": {}, "cohort": {}, "results": {}},
        )
        for key in objects:
            objects[key] |= {
                "run": {"pk": run.pk},
                "export": {"layout": "wide", "fmt": "csv"},
                "dict": {"fmt": "csv"},
            }
        return objects


def _table_sizes() -> dict[str, int]:
    """Count the rows of every table of the study's apps (history tables included)."""
    labels = {"accounts", "cohort", "followup", "analytics", "quality", "safety"}
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in labels
    }


def _outcome(response: Any) -> int | str:
    if response.status_code == 302:
        return LOGIN if response.url.startswith(reverse("login")) else MOVED
    return response.status_code


def _client_for(persona: str, request: Any) -> Any:
    from tests.conftest import SignedInClient

    client = SignedInClient()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_what_the_table_says_on_each_sites_objects(request, world, persona):
    wrong = []
    for line in TABLE:
        for site in ("A", "B") if line.fill else ("A",):
            url = reverse(line.name, kwargs=world[site][line.fill] if line.fill else {})
            client = _client_for(persona, request)
            before = _table_sizes()
            if line.method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, {})
                checked = persona != "anonymous" and line.name != "set_language"
                if checked and client.get(url).status_code != 405:
                    wrong.append(f"{url} answers GET")
            outcome, expected = _outcome(response), line.expected(persona, site)
            if outcome != expected:
                wrong.append(f"{line.name} on site {site}: {outcome}, expected {expected}")
            refused = line.method == "POST" and outcome in REFUSED
            if refused and _table_sizes() != before:
                wrong.append(f"{persona} wrote through {url}")
    assert wrong == []


def _text(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _shown_identifiers(page: str) -> list[str]:
    """Return the identifiers of either patient found in a page, however written."""
    page = page.casefold()
    found = []
    for first, last, phone in IDENTIFIERS.values():
        for value in (first, last, phone, phone.replace(" ", "")):
            if value.casefold() in page:
                found.append(value)
    return found


def test_statisticians_pages_never_show_the_patients_identifiers(world, client, statistician):
    client.force_login(statistician)
    shown = {}
    for line in TABLE:
        if line.method != "GET" or line.statistician != 200:
            continue
        for site in ("A", "B") if line.fill else ("A",):
            url = reverse(line.name, kwargs=world[site][line.fill] if line.fill else {})
            shown[url] = _shown_identifiers(_text(client.get(url)))
    assert shown
    assert all(found == [] for found in shown.values()), shown


def test_site_staff_see_their_own_patients_identifiers_only(world, client, nurse_site_a):
    client.force_login(nurse_site_a)
    detail = client.get(reverse("cohort:patient_detail", kwargs=world["A"]["patient"]))
    assert sorted(_shown_identifiers(_text(detail))) == sorted(
        [*IDENTIFIERS["A"], IDENTIFIERS["A"][2].replace(" ", "")]
    )
    listed = _shown_identifiers(_text(client.get(reverse("cohort:patient_list"))))
    assert IDENTIFIERS["A"][1] in listed
    assert not set(listed) & set(IDENTIFIERS["B"])
