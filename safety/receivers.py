"""Safety's receivers: the expectedness of a new adverse effect, and its alert.

Connected in ``SafetyConfig.ready``. The follow-up knows nothing of safety: a new adverse
effect takes its expectedness from the study's list before it is first saved, and each effect
written (``followup.signals.adverse_event_recorded``) raises its alert when serious or severe.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import pre_save
from django.dispatch import receiver

from followup.models import AdverseEvent
from followup.signals import adverse_event_recorded


@receiver(pre_save, sender=AdverseEvent, dispatch_uid="safety_effect_expectedness")
def expectedness_on_create(sender: Any, instance: AdverseEvent, **kwargs: Any) -> None:
    """Give a new effect whose expectedness is not set the one of the study's list."""
    from safety.services import effect_is_expected

    if instance._state.adding and instance.expected is None and not kwargs.get("raw"):
        instance.expected = effect_is_expected(instance.type)


@receiver(adverse_event_recorded, dispatch_uid="safety_alert_on_adverse_event")
def alert_after_adverse_event(
    sender: Any, *, adverse_event: AdverseEvent, by: Any, **kwargs: Any
) -> None:
    """Raise the alert of a serious or severe effect (``safety.services.alert_raise``)."""
    from safety.services import alert_raise

    alert_raise(adverse_event=adverse_event, by=by)
