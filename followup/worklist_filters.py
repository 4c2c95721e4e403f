"""The worklist's filters: one study, one site, or the study codes containing some text."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class WorklistFilterForm(forms.Form):
    """Narrow the worklist to one study, one site, or to the study codes containing some text.

    ``sites``: the user's sites, read once by the page (the worklist is scoped by the same);
    their studies are the choices of ``study`` (offered when there is more than one).
    """

    study = forms.ChoiceField(label=_("Study"), required=False)
    site = forms.ChoiceField(label=_("Site"), required=False)
    q = forms.CharField(label=_("Study code"), required=False, max_length=20)

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = {site.code: site for site in sites}
        self.studies = {site.study.code: site.study for site in self.sites.values()}
        self.fields["site"].choices = [("", _("All my sites"))] + [  # type: ignore[attr-defined]
            (code, str(site)) for code, site in self.sites.items()
        ]
        self.fields["study"].choices = [("", _("All my studies"))] + [  # type: ignore[attr-defined]
            (code, str(study)) for code, study in sorted(self.studies.items())
        ]

    @property
    def several_studies(self) -> bool:
        """Say whether the user's sites belong to more than one study (the filter is shown)."""
        return len(self.studies) > 1

    def clean_study(self) -> Any:
        """Return the chosen study, or None for all the user's studies."""
        code = self.cleaned_data["study"]
        return self.studies.get(code) if code else None

    def clean_site(self) -> Any:
        """Return the chosen site, or None for all the user's sites."""
        code = self.cleaned_data["site"]
        return self.sites.get(code) if code else None
