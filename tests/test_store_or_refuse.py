"""Every input of every form is stored, or refused with a message beside it: nothing typed is lost.

The walk finds the forms itself: it opens every page of ``tests/test_page_access.TABLE`` as each
persona, on the objects of a small study in progress, and reads each ``<form method="post">``
as a browser would. For each form and each of its submit buttons it sends the form as shown (the
baseline, completed by ``BASELINES`` where the page alone is not a valid submission), then once
per input with only that input changed. Each submission runs in a transaction rolled back
afterwards, and the database's rows are compared with the baseline's:

* stored: the submission was accepted and the rows differ from the baseline's;
* refused: the page came back with a message beside that input, the typed value still in it;
* anything else is lost input, and the test lists it.

A new form on any page is walked without being named here; it needs a line in ``BASELINES``
only when the page as shown cannot be sent as it is, and in ``NOT_DATA`` when it takes no data
(signing in, a one-time code).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from bs4 import BeautifulSoup, Tag
from django.apps import apps
from django.core.cache import cache
from django.db import models, transaction
from django.urls import resolve, reverse

from cohort.services import administration_record, patient_lock
from followup.services import call_save
from quality.services import query_raise
from tests.factories import enrol, finish_follow_up_after_ketamine
from tests.followup.test_questionnaire_validation import VALID
from tests.test_page_access import TABLE

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
APPS = ("accounts", "cohort", "followup", "quality")
PERSONAS = ("nurse_site_a", "clinician_site_a", "data_manager", "statistician")

# Forms that take no clinical or account data: what they receive is checked, never stored.
NOT_DATA = {
    "login": "signing in",
    "logout": "signing out",
    "accounts:second_factor_setup": "a one-time code, checked against the app",
    "accounts:second_factor_verify": "a one-time code, checked against the app",
}

# What a page alone does not make a valid submission: (url name, button value) -> values.
ENROLMENT = {
    "patient-sex": "F", "patient-age": "45", "patient-inclusion_date": "2026-03-02",
    "patient-consent_date": "2026-03-01", "patient-weight_kg": "64.5",
    "patient-last_name": "Durand", "patient-first_name": "Alice", "patient-phone": "0600000001",
    "patient-etiology": "crps", "patient-pain_duration_months": "18", "admin-date": "2026-03-02",
    "admin-route": "iv", "admin-dose_value": "1",
}  # fmt: skip
BASELINES: dict[tuple[str, str], dict[str, Any]] = {
    ("cohort:patient_new", ""): ENROLMENT,
    ("cohort:administration_add", ""): {"admin-route": "iv", "admin-dose_value": "1"},
    ("cohort:administration_edit", ""): {"reason": "Checked against the chart"},
    ("cohort:patient_status", ""): {"status-status": "completed", "status-reason": "Done"},
    ("cohort:patient_unlock", ""): {"unlock-reason": "A late answer"},
    ("followup:call_entry", "save"): {"outcome": "no_answer"},
    ("followup:lost_proposal_dismiss", ""): {"reason": "She will call back"},
    ("quality:query_answer", ""): {"text": "Checked"},
    ("quality:query_reopen", ""): {"text": "Still wrong"},
    ("quality:query_raise", ""): {"target": "", "text": "Please check"},
    ("cohort:patient_sign", ""): {"password": "a-long-test-password"},
    ("accounts:language", ""): {"language": "en"},
    ("accounts:user_new", ""): {"username": "walked", "role": "statistician"},
    ("accounts:password_change", ""): {
        "old_password": "a-long-test-password",
        "new_password1": "another-long-password-7",
        "new_password2": "another-long-password-7",
    },
}
# A proposal's forms are prefixed with the patient's key: filled when the world is built.
PREFIXED = {"followup:lost_proposal_mark_lost", "followup:lost_proposal_dismiss"}


@dataclass
class Input:
    """One named input of a form: its kind and what the page shows."""

    name: str
    kind: str  # text, number, date, time, textarea, select, radio, checkbox, password
    value: Any
    options: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Form:
    """A form as a browser sees it."""

    action: str
    url_name: str
    inputs: dict[str, Input]
    hidden: dict[str, Any]
    buttons: list[tuple[str, str]]  # (name, value) of each submit button


def _forms(page: str, page_url: str) -> list[Form]:
    soup = BeautifulSoup(page, "html.parser")
    found = []
    for tag in soup.find_all("form"):
        if (tag.get("method") or "get").lower() != "post":
            continue
        action = tag.get("action") or page_url
        inputs: dict[str, Input] = {}
        hidden: dict[str, Any] = {}
        buttons: list[tuple[str, str]] = []
        for element in tag.find_all(["input", "select", "textarea", "button"]):
            name = element.get("name")
            kind = (element.get("type") or "text").lower()
            if element.name == "button" or kind == "submit":
                if kind == "submit" or element.name == "button":
                    buttons.append((name or "", element.get("value") or ""))
                continue
            if not name or element.has_attr("disabled"):
                continue
            if element.name == "textarea":
                inputs[name] = Input(name, "textarea", element.get_text(), attrs=element.attrs)
            elif element.name == "select":
                options = [o.get("value", o.get_text()) for o in element.find_all("option")]
                chosen = [o.get("value", o.get_text()) for o in element.find_all("option")
                          if o.has_attr("selected")]  # fmt: skip
                value = chosen[0] if chosen else (options[0] if options else "")
                inputs[name] = Input(name, "select", value, options, element.attrs)
            elif kind == "hidden":
                hidden[name] = element.get("value", "")
            elif kind in ("radio", "checkbox"):
                current = inputs.get(name) or Input(name, kind, [] if kind == "checkbox" else "")
                current.options.append(element.get("value", "on"))
                if element.has_attr("checked"):
                    if kind == "checkbox":
                        current.value.append(element.get("value", "on"))
                    else:
                        current.value = element.get("value", "on")
                inputs[name] = current
            else:
                inputs[name] = Input(name, kind, element.get("value", ""), attrs=element.attrs)
        found.append(
            Form(
                action,
                resolve(action.split("?")[0]).view_name,
                inputs,
                hidden,
                buttons or [("", "")],
            )
        )
    return found


def _probe_value(item: Input) -> Any:
    """Return a plausible value for an input, different from what the page shows."""
    if item.kind == "checkbox":
        ticked = set(item.value)
        return [o for o in item.options if o not in ticked][:1] or []
    if item.kind in ("radio", "select"):
        others = [o for o in item.options if o and o != item.value]
        return others[-1] if others else None
    if item.kind == "number":
        low = float(item.attrs.get("min", 1))
        high = float(item.attrs.get("max", low + 10))
        for candidate in (low + 1, low, high):
            text = str(int(candidate)) if candidate == int(candidate) else str(candidate)
            if low <= candidate <= high and text != str(item.value):
                return text
        return None
    if item.kind == "date":
        shown = dt.date.fromisoformat(item.value) if item.value else NOW.date()
        return (shown - dt.timedelta(days=1)).isoformat()
    if item.kind == "time":
        return "09:00" if item.value != "09:00" else "10:00"
    if item.kind == "password":
        return "not-the-password-1"
    return "Probe 42" if item.value != "Probe 42" else "Probe 43"


def _data(form: Form, button: tuple[str, str], values: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = dict(form.hidden)
    for name, item in form.inputs.items():
        value = values.get(name, item.value)
        if value in (None, []) and item.kind in ("checkbox", "radio"):
            continue
        data[name] = value
    if button[0]:
        data[button[0]] = button[1]
    return data


def _rows(new: dict[str, set[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the study's tables, without ids, and "new" for a new row's key."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        kept = [
            f
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in ("id", "history_id")
        ]
        keys = {
            i: new.get(f.related_model._meta.label, set())
            for i, f in enumerate(kept)
            if isinstance(f, models.ForeignKey)
        }
        values = []
        for raw in model._default_manager.values_list(*(f.attname for f in kept)):
            row = list(raw)
            for i, known in keys.items():
                if row[i] is not None and row[i] not in known:
                    row[i] = "new"
            values.append(tuple(map(repr, row)))
        rows[model._meta.label] = sorted(values)
    return rows


def _existing() -> dict[str, set[Any]]:
    return {
        model._meta.label: set(model._default_manager.values_list("pk", flat=True))
        for model in apps.get_models()
        if model._meta.app_label in APPS or model._meta.label == "contenttypes.ContentType"
    }


def _submit(client: Any, form: Form, data: dict[str, Any], known: dict[str, set[Any]]):
    with transaction.atomic():
        response = client.post(form.action, data)
        rows = _rows(known)
        transaction.set_rollback(True)
    cache.clear()
    return response, rows


def _shown_error_beside(page: BeautifulSoup, name: str) -> bool:
    for element in page.find_all(attrs={"name": name}):
        node: Tag | None = element
        for _level in range(5):
            node = node.parent if node is not None else None
            if node is None:
                break
            if node.find(class_="error"):
                return True
    return False


def _still_shown(page: BeautifulSoup, item: Input, value: Any) -> bool:
    if item.kind == "password":
        return True
    elements = page.find_all(attrs={"name": item.name})
    if item.kind == "checkbox":
        ticked = {e.get("value", "on") for e in elements if e.has_attr("checked")}
        return set(value) <= ticked
    if item.kind == "radio":
        return any(e.get("value") == value and e.has_attr("checked") for e in elements)
    if item.kind == "select":
        return any(
            o.get("value") == value and o.has_attr("selected")
            for e in elements
            for o in e.find_all("option")
        )
    if item.kind == "textarea":
        return any(e.get_text() == value for e in elements)
    return any(e.get("value") == value for e in elements)


@pytest.fixture
def study(site_a, nurse_site_a, clinician_site_a, data_manager, statistician):
    """A patient in follow-up, one locked, one proposed as lost; a query; a flagged call."""
    with time_machine.travel(NOW, tick=False):
        followed = enrol(site_a, by=nurse_site_a)
        given = administration_record(
            patient=followed, date=dt.date(2026, 1, 5), route="iv", dose_unit="mg",
            dose_value=Decimal(40), by=nurse_site_a,
        )  # fmt: skip
        w1 = followed.calls.get(timepoint="W1")
        call_save(call=w1, data=VALID, by=nurse_site_a, complete=True, call_date=w1.target_date)
        w1.refresh_from_db()
        type(w1).objects.filter(pk=w1.pk).update(needs_review=True)
        query = query_raise(
            target=w1, field="call_date", kind="other", text="Sure?", by=data_manager
        )
        locked = finish_follow_up_after_ketamine(
            enrol(site_a, by=nurse_site_a), by=nurse_site_a, answers=VALID
        )
        patient_lock(patient=locked, by=data_manager)
        lost = enrol(site_a, by=nurse_site_a)
        lost.calls.filter(timepoint__in=["W1", "M1", "M2"]).update(status="unreachable")
    return {
        "patient": [{"pk": followed.pk}, {"pk": locked.pk}],
        "admin": [{"pk": followed.pk, "administration_pk": given.pk}],
        "call": [{"pk": followed.calls.get(timepoint="M2").pk}, {"pk": w1.pk}],
        "call_pk": [{"call_pk": w1.pk}],
        "query": [{"pk": query.pk}],
        "lost": lost,
    }


def _pages(study: dict[str, Any]) -> list[str]:
    urls = []
    for line in TABLE:
        if line.method != "GET":
            continue
        fills = study.get(line.fill, []) if line.fill else [{}]
        urls += [reverse(line.name, kwargs=kwargs) for kwargs in fills]
    return urls


def _baseline(form: Form, button: tuple[str, str], study: dict[str, Any]) -> dict[str, Any]:
    values = dict(BASELINES.get((form.url_name, button[1]), {}))
    if form.url_name == "quality:query_raise":
        values["target"] = next(o for o in form.inputs["target"].options if o)
    if form.url_name in PREFIXED:
        prefix = "p{}-{}".format(
            study["lost"].pk, "dismiss" if form.url_name.endswith("dismiss") else "lost"
        )
        values = {f"{prefix}-{k}": v for k, v in values.items()}
    return values


def test_every_input_of_every_form_is_stored_or_refused_beside_it(request, study):
    from tests.conftest import SignedInClient

    walked: set[tuple[str, str]] = set()
    lost: list[str] = []
    unaccepted: list[str] = []
    with time_machine.travel(NOW, tick=False):
        known = _existing()
        for persona in PERSONAS:
            client = SignedInClient()
            client.force_login(request.getfixturevalue(persona))
            for url in _pages(study):
                response = client.get(url)
                if response.status_code != 200 or "text/html" not in response["Content-Type"]:
                    continue
                for form in _forms(response.content.decode(), url):
                    if form.url_name in NOT_DATA:
                        continue
                    for button in form.buttons:
                        if (form.url_name, button[1]) in walked:
                            continue
                        walked.add((form.url_name, button[1]))
                        lost += _walk(client, form, button, study, known, unaccepted)
    assert unaccepted == [], "give these forms a valid baseline in BASELINES"
    assert lost == []
    # The walk reached the forms that matter most (a guard against a silently empty walk).
    names = {name for name, _button in walked}
    assert {"followup:call_entry", "cohort:patient_new", "cohort:administration_add"} <= names


def _walk(client, form, button, study, known, unaccepted) -> list[str]:
    base_values = _baseline(form, button, study)
    base_data = _data(form, button, base_values)
    response, base_rows = _submit(client, form, base_data, known)
    if form.inputs and response.status_code < 400 and base_rows == _rows(known):
        unaccepted.append(f"{form.url_name} [{button[1]}]: accepted, but stored nothing")
        return []
    if response.status_code >= 400:
        errors = BeautifulSoup(response.content, "html.parser").find_all(class_="error")
        unaccepted.append(f"{form.url_name} [{button[1]}]: {[e.get_text() for e in errors]}")
        return []
    lost = []
    for name, item in form.inputs.items():
        if name in base_values and name not in ("outcome",):
            continue  # the baseline's own values are the context of the others
        value = _probe_value(item)
        if value is None:
            continue
        data = _data(form, button, {**base_values, name: value})
        response, rows = _submit(client, form, data, known)
        where = f"{form.url_name} [{button[1] or 'submit'}] {name}={value!r}"
        if response.status_code < 400:
            if rows == base_rows:
                lost.append(f"{where}: accepted, nothing stored")
            continue
        page = BeautifulSoup(response.content, "html.parser")
        if not _shown_error_beside(page, name):
            lost.append(f"{where}: refused ({response.status_code}) without a message beside it")
        elif not _still_shown(page, item, value):
            lost.append(f"{where}: refused, and the typed value is gone from the page")
    return lost
