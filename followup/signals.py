"""Keep the cached item wordings (followup.forms) in step with the database."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from followup.forms import wordings_forget
from followup.models import ItemWording


@receiver(post_save, sender=ItemWording, dispatch_uid="item_wording_saved")
@receiver(post_delete, sender=ItemWording, dispatch_uid="item_wording_deleted")
def _wording_changed(sender: Any, instance: ItemWording, **kwargs: Any) -> None:
    wordings_forget(instance.language)
