"""Keep the cached copies of users (accounts.backends) and their API tokens in step."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.backends import user_cache_forget
from accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="user_cache_saved")
@receiver(post_delete, sender=User, dispatch_uid="user_cache_deleted")
def _user_changed(sender: Any, instance: User, **kwargs: Any) -> None:
    user_cache_forget(instance.pk)


@receiver(post_save, sender=User, dispatch_uid="user_tokens_revoked")
def _tokens_revoked(sender: Any, instance: User, **kwargs: Any) -> None:
    """A new password or a deactivation ends every API token of the user, on every path."""
    changed = getattr(instance, "_password_changed", False)
    if changed or not instance.is_active:
        from rest_framework.authtoken.models import Token

        Token.objects.filter(user=instance).delete()
        instance._password_changed = False


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="user_cache_groups")
@receiver(m2m_changed, sender=User.sites.through, dispatch_uid="user_cache_sites")
def _memberships_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set | None, **kwargs: Any
) -> None:
    if not reverse:
        if action.startswith("post_"):
            user_cache_forget(instance.pk)
        return
    # Changed from the group's or the site's side: the users are in pk_set, except when the
    # group or site is cleared, where they are those linked just before.
    if action == "pre_clear":
        other = next(f for f in sender._meta.fields if f.related_model is type(instance))
        users = sender.objects.filter(**{other.name: instance}).values_list("user_id", flat=True)
        for pk in users:
            user_cache_forget(pk)
    elif action.startswith("post_") and pk_set:
        for pk in pk_set:
            user_cache_forget(pk)
