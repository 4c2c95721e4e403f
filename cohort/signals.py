"""What the cohort announces to the apps above it, which plan and move the follow-up calls.

The cohort sits below the follow-up (``docs/architecture.md``, "Layers"): it never imports it.
Its services send these signals inside their transaction, with ``send`` (not ``send_robust``),
so that a receiver's refusal (a ``ValidationError``) rolls the whole write back and reaches the
caller. The follow-up connects its receivers in ``FollowupConfig.ready()``.

Every signal is sent with ``sender=Patient`` and keyword arguments ``patient`` and ``by``:

- ``patient_enrolled`` (also ``first_administration``, the date the calls are planned from):
  create the baseline call and the schedule.
- ``administrations_changed``: an administration was recorded, changed or voided, so the first
  one may have moved; move the calls not yet made. A receiver returns how many calls moved.
- ``patient_left_follow_up`` (also ``label``, ``date``, ``reason``): the patient's status
  closed the follow-up; close the calls not yet made.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal

patient_enrolled = Signal()
administrations_changed = Signal()
patient_left_follow_up = Signal()


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
