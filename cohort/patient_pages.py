"""What the cohort's patient pages show of the apps above it, provided by those apps.

The patient file, list and timeline show the follow-up's calls and adverse effects and the
analyses' trajectory groups, but the cohort sits below both (``docs/architecture.md``,
"Layers") and imports neither. It names here what its pages need; ``FollowupConfig.ready()``
and ``AnalyticsConfig.ready()`` provide it. A page asking for something nobody provides fails
loudly (``ImproperlyConfigured``) rather than showing less.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from cohort.models import Patient

# What each source answers:
# - effect_spans(patient): the live adverse effects, onset to resolution (the file, timeline);
# - timeline(patient): the timeline's series (scores, doses, effects, missed calls);
# - memberships(patient ids): {patient id: trajectory group} of the newest analysis;
# - membership_of(patient id): one patient's group, or None;
# - in_trajectory_group(patients, group): the patients of one group.
SOURCES = ("effect_spans", "timeline", "memberships", "membership_of", "in_trajectory_group")

_provided: dict[str, Callable[..., Any]] = {}


def provide(**sources: Callable[..., Any]) -> None:
    """Provide some of the ``SOURCES`` (called by the apps above the cohort, in ready())."""
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ValueError(f"unknown patient page sources {sorted(unknown)}")
    _provided.update(sources)


def _source(name: str) -> Callable[..., Any]:
    try:
        return _provided[name]
    except KeyError:
        raise ImproperlyConfigured(f"No installed app provides the patient pages' {name}") from None


def effect_spans(patient: Patient) -> list[dict[str, Any]]:
    """Return the patient's live adverse effects as spans, onset to resolution."""
    return list(_source("effect_spans")(patient))


def timeline(patient: Patient) -> dict[str, Any]:
    """Return the series the patient's timeline draws."""
    return dict(_source("timeline")(patient))


def memberships(patient_ids: Iterable[int]) -> dict[int, Any]:
    """Return the trajectory group of each analysed patient among ``patient_ids``."""
    return dict(_source("memberships")(patient_ids))


def membership_of(patient_id: int) -> Any:
    """Return one patient's trajectory group, or None when not analysed."""
    return _source("membership_of")(patient_id)


def in_trajectory_group(patients: QuerySet[Patient], group: str) -> QuerySet[Patient]:
    """Narrow patients to one trajectory group of the newest analysis."""
    narrowed: QuerySet[Patient] = _source("in_trajectory_group")(patients, group)
    return narrowed
