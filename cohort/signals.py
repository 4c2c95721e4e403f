"""What the cohort announces to the apps above it; the cohort imports none of them.

The cohort sits below the follow-up, the analysis and the quality checks (``docs/architecture.md``,
"Layers"). Its services, and the follow-up's, send these signals inside their transaction with
``send`` (not ``send_robust``), so that a receiver's refusal (a ``ValidationError``) rolls the whole
write back and reaches the caller. The apps above connect their receivers in ``AppConfig.ready()``.

The schedule (kept by the follow-up). Sent with ``sender=Patient`` and keyword arguments
``patient`` and ``by``:

- ``patient_enrolled`` (also ``first_administration``, the date the calls are planned from):
  create the baseline call and the schedule.
- ``administrations_changed``: an administration was recorded, changed or voided, so the first
  one may have moved; move the calls not yet made. A receiver returns how many calls moved.
- ``patient_left_follow_up`` (also ``label``, ``date``, ``reason``): the patient's status
  closed the follow-up; close the calls not yet made.

A change of clinical data. ``clinical_data_changed`` is sent by every service that writes a
patient's clinical data (the values the analysis reads and the queries point at), at the end of
its transaction, with:

- ``patient``: the patient whose data changed;
- ``by``: who changed it;
- ``reason``: why (the reason typed for a correction, otherwise what the change was);
- ``call``: the follow-up call changed, or None for the patient's own rows (enrolment,
  administrations, status).

A service called by another (the call's questionnaires by the call, the first administration
by enrolment) announces nothing itself: the outer service announces the whole change once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

patient_enrolled = Signal()
administrations_changed = Signal()
patient_left_follow_up = Signal()
clinical_data_changed = Signal()

P = ParamSpec("P")
R = TypeVar("R")

# How many clinical write services are running in this thread or task, the outer one first.
_depth: ContextVar[int] = ContextVar("clinical_write_depth", default=0)


def send_required(signal: Signal, sender: Any, **kwargs: Any) -> list[Any]:
    """Send ``signal`` synchronously; refuse to go on if no app listens (no schedule kept).

    Return the receivers' answers, in the order they were connected.
    """
    responses = signal.send(sender=sender, **kwargs)
    if not responses:
        raise ImproperlyConfigured(
            "No receiver keeps the follow-up schedule: is the followup app installed?"
        )
    return [response for _receiver, response in responses]


def clinical_write(service: Callable[P, R]) -> Callable[P, R]:
    """Mark a write service whose change ``clinical_change_announce`` announces."""

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _depth.set(_depth.get() + 1)
        try:
            return service(*args, **kwargs)
        finally:
            _depth.reset(token)

    return wrapper


def clinical_change_announce(
    *, sender: Any, patient: Any, by: Any, reason: str, call: Any = None
) -> None:
    """Send ``clinical_data_changed``, unless an outer write service will announce the change."""
    if _depth.get() > 1:
        return
    clinical_data_changed.send(sender=sender, patient=patient, by=by, reason=reason, call=call)
