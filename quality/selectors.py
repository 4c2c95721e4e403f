"""Reads of queries, scoped to what a user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.roles import Role
from followup.models import FollowUpCall
from quality.models import Query

# Roles that see queries: the site staff (their sites) and data managers (every site).
QUERY_ROLES = (Role.NURSE, Role.CLINICIAN, Role.DATA_MANAGER)
HOME_ROWS = 10


def sees_queries(user: Any) -> bool:
    """Say whether a user may see queries (statisticians never do: they name identifiers)."""
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser or any(user.has_role(role) for role in QUERY_ROLES))


def queries_for_user(user: Any) -> QuerySet[Query]:
    """Return the queries a user may see, with patient, site, call and raiser."""
    if not sees_queries(user):
        return Query.objects.none()
    queries = Query.objects.select_related("patient__site", "call", "raised_by", "target_type")
    if user.is_site_scoped:
        queries = queries.filter(patient__site__in=user.sites.all())
    return queries


def queries_filtered(
    user: Any, *, site: str = "", state: str = "", kind: str = "", rule: str = ""
) -> QuerySet[Query]:
    """Return the user's queries narrowed by site code, state, type and rule ("manual": none)."""
    queries = queries_for_user(user)
    if site:
        queries = queries.filter(patient__site__code=site)
    if state:
        queries = queries.filter(state=state)
    if kind:
        queries = queries.filter(kind=kind)
    if rule == "manual":
        queries = queries.filter(automatic=False)
    elif rule:
        queries = queries.filter(rule=rule)
    return queries.order_by("-raised_at", "-pk")


@dataclass(frozen=True)
class SiteCounts:
    """Queries of one site by state."""

    site: str
    open: int
    answered: int
    closed: int


def counts_by_site(user: Any) -> list[SiteCounts]:
    """Count the user's queries per site and state, in one query."""
    rows = (
        queries_for_user(user)
        .order_by()
        .values("patient__site__code")
        .annotate(
            open=Count("id", filter=Q(state="open")),
            answered=Count("id", filter=Q(state="answered")),
            closed=Count("id", filter=Q(state="closed")),
        )
        .order_by("patient__site__code")
    )
    return [
        SiteCounts(row["patient__site__code"], row["open"], row["answered"], row["closed"])
        for row in rows
    ]


def open_queries_for_user(user: Any, *, rows: int = HOME_ROWS) -> tuple[int, list[Query]]:
    """Return the number of open queries of a user's sites and the oldest ``rows`` of them."""
    queries = queries_for_user(user).filter(state="open")
    return queries.count(), list(queries.order_by("raised_at", "pk")[:rows])


def queries_for_call(user: Any, call: FollowUpCall) -> list[Query]:
    """Return the queries shown on a call page: the call's, and the patient's own ones."""
    queries = (
        queries_for_user(user)
        .filter(Q(call=call) | Q(patient_id=call.patient_id, call__isnull=True))
        .prefetch_related("messages__by")
    )
    order = {"open": 0, "answered": 1, "closed": 2}
    return sorted(queries, key=lambda query: (order[query.state], query.raised_at, query.pk))
