"""The study's user: a Django user with sites and a preferred language."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts import identifiers
from accounts.roles import SITE_SCOPED, Role


def site_model() -> type[models.Model]:
    """Return the model of the sites users work at (the cohort's Site), without importing it.

    Accounts sit below the cohort: they know sites only through ``User.sites``.
    """
    return cast("type[models.Model]", User._meta.get_field("sites").related_model)


def sites_by_code() -> models.QuerySet[models.Model]:
    """Return every site, ordered by code."""
    return site_model().objects.order_by("code")


class User(AbstractUser):
    """A member of the study team; the role is a group, the sites are where they work."""

    sites = models.ManyToManyField(
        "cohort.Site", blank=True, related_name="staff", verbose_name=_("sites")
    )
    # Empty until the user chooses: the browser's language (or the header switch) applies.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )

    # Set by a data manager: at the next sign-in the user chooses a new password before any page.
    password_change_required = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def set_password(self, raw_password: str | None) -> None:
        """Set the password; on save, the user's API tokens are revoked (accounts.signals)."""
        super().set_password(raw_password)
        self._password_changed = True

    def check_password(self, raw_password: str) -> bool:
        """Check a password; re-hashing it with newer settings is not a change of password."""

        def rehash(raw: str) -> None:
            AbstractUser.set_password(self, raw)
            self._password = None
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, rehash)

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
        """Say whether this user may see names and phone numbers (``accounts.identifiers``)."""
        return identifiers.sees_identifiers(self)

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
