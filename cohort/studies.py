"""Studies and their sites: every site belongs to one study, every patient to its site's study.

A study's protocol is not stored here: ``definition`` names one of the study definitions
(``trials.definitions``, one JSON file per study), read by the schedule and the pages.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from trials.definitions import FIRST_STUDY, KEYS, StudyDefinition, load

# The study the data of a single-study deployment belongs to (created by migration 0009).
FIRST_STUDY_CODE = "VOUTE2023"


class Study(models.Model):
    """One study hosted by the deployment, following the protocol its definition describes."""

    code = models.CharField(
        _("code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2,12}$", _("2 to 12 capital letters or digits."))],
    )
    name = models.CharField(_("name"), max_length=200)
    definition = models.CharField(
        _("definition"),
        max_length=40,
        choices=[(key, key) for key in KEYS],
        help_text=_("The study definition file its visits, dosing and analysis come from."),
        # A definition no file carries: refused by the choices, then by the database.
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")
        constraints = [
            models.CheckConstraint(condition=Q(definition__in=KEYS), name="study_definition_known"),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @property
    def protocol(self) -> StudyDefinition:
        """Return the study's definition: its visits, dosing, rules and analysis plan."""
        return load(self.definition)


def first_study() -> Study:
    """Return the first study, created when missing (a site's default study)."""
    study, _created = Study.objects.get_or_create(
        code=FIRST_STUDY_CODE,
        defaults={"name": load(FIRST_STUDY).title, "definition": FIRST_STUDY},
    )
    return study


def first_study_id() -> Any:
    """Return the first study's key: the default of ``Site.study``, so that code written for one
    study (the importer, the demo, the tests) keeps creating its sites in it."""
    return first_study().pk


class Site(models.Model):
    """A pain clinic taking part in one study."""

    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2,8}$", _("2 to 8 capital letters or digits."))],
        help_text=_("Short code used as the prefix of study codes, e.g. S07."),
    )
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=100, blank=True)
    study = models.ForeignKey(
        Study,
        on_delete=models.PROTECT,
        related_name="sites",
        default=first_study_id,
        verbose_name=_("study"),
    )
    is_demo = models.BooleanField(
        _("demo site"), default=False, help_text=_("Holds synthetic demo patients only.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"
