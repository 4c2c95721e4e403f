"""The follow-up's signals: what its services announce, and the wording cache's receivers.

``adverse_event_recorded`` is sent by the services each time an adverse effect is written
(reported, changed at a later call or assessed), with ``adverse_event`` and ``by``; safety
connects the alert to it. Sent with ``send``: a receiver's error fails the write.

The receivers below keep the cached item wordings (followup.forms) in step with the database.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from followup.forms import wordings_forget
from followup.models import ItemWording

adverse_event_recorded = Signal()


@receiver(post_save, sender=ItemWording, dispatch_uid="item_wording_saved")
@receiver(post_delete, sender=ItemWording, dispatch_uid="item_wording_deleted")
def _wording_changed(sender: Any, instance: ItemWording, **kwargs: Any) -> None:
    wordings_forget(instance.language)
