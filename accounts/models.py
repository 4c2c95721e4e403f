"""The study's user: a Django user with sites and a preferred language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import SEES_IDENTIFIERS, SITE_SCOPED, Role


class User(AbstractUser):
    """A member of the study team; the role is a group, the sites are where they work."""

    sites = models.ManyToManyField(
        "cohort.Site", blank=True, related_name="staff", verbose_name=_("sites")
    )
    # Empty until the user chooses: the browser's language (or the header switch) applies.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def roles(self) -> frozenset[Role]:
        """Return the roles of this user (cached per instance)."""
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            names = set(self.groups.values_list("name", flat=True))
            cached = frozenset(role for role in Role if role.value in names)
            self._roles_cache = cached
        return cached

    def has_role(self, role: Role) -> bool:
        """Say whether the user has a role."""
        return role in self.roles

    @property
    def sees_identifiers(self) -> bool:
        """Say whether this user may see names and phone numbers of their sites' patients."""
        return bool(self.roles & SEES_IDENTIFIERS)

    @property
    def is_site_scoped(self) -> bool:
        """Say whether this user sees only the patients of their own sites."""
        if self.is_superuser:
            return False
        return bool(self.roles & SITE_SCOPED) or not self.roles

    @property
    def second_factor_required(self) -> bool:
        """Say whether this user must sign in with a one-time code as well as the password.

        Superusers can do everything a data manager can, so they are held to the same rule.
        """
        required = set(settings.SECOND_FACTOR_REQUIRED_ROLES)
        if self.is_superuser and Role.DATA_MANAGER.value in required:
            return True
        return any(role.value in required for role in self.roles)
