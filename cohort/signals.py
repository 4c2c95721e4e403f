"""What the cohort's and the follow-up's write services announce once a change is written.

Apps above the cohort (quality, analytics) act on a change by connecting receivers in their
``AppConfig.ready``; the cohort imports none of them. Signals are sent with ``send``, not
``send_robust``: a receiver's error fails the write, inside its transaction.

``clinical_data_changed`` is sent by every service that writes a patient's clinical data (the
values the analysis reads and the queries point at), at the end of its transaction, with:

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

from django.dispatch import Signal

clinical_data_changed = Signal()

P = ParamSpec("P")
R = TypeVar("R")

# How many clinical write services are running in this thread or task, the outer one first.
_depth: ContextVar[int] = ContextVar("clinical_write_depth", default=0)


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
