"""User administration for data managers: one role, sites, activity, password, second factor.

Thin views over ``accounts.services``: the forms offer no superuser, staff, permission or group
field, and no password; the services refuse anyone but a data manager or a superuser, and
refuse to touch a superuser's account for anyone but a superuser.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import services
from accounts.access import role_required
from accounts.models import User, sites_by_code
from accounts.roles import Role

ROLE_LABELS = {
    Role.NURSE: _lazy("Research nurse"),
    Role.CLINICIAN: _lazy("Clinician"),
    Role.STATISTICIAN: _lazy("Statistician"),
    Role.DATA_MANAGER: _lazy("Data manager"),
}


class UserForm(forms.Form):
    """Names, one role, sites and activity: every field a data manager may change."""

    first_name = forms.CharField(label=_lazy("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_lazy("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_lazy("Email"), required=False)
    role = forms.ChoiceField(label=_lazy("Role"), choices=list(ROLE_LABELS.items()))
    sites = forms.ModelMultipleChoiceField(
        label=_lazy("Sites"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=_lazy("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sites_field = self.fields["sites"]
        assert isinstance(sites_field, forms.ModelMultipleChoiceField)
        sites_field.queryset = sites_by_code()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        role = cleaned.get("role")
        if role in (Role.NURSE, Role.CLINICIAN) and not cleaned.get("sites"):
            self.add_error("sites", _("A nurse or a clinician works at one site at least."))
        return cleaned


class NewUserForm(UserForm):
    username = forms.RegexField(
        label=_lazy("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _lazy("Letters, digits and @ . + - _ only.")},
    )
    field_order = ["username"]


def _role_of(user: User) -> str:
    roles = sorted(user.roles)
    return roles[0].value if roles else ""


def _save_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                form.add_error(field if field in form.fields else None, item)
    else:
        form.add_error(None, error)


@role_required(Role.DATA_MANAGER)
@never_cache
def user_list(request: HttpRequest) -> HttpResponse:
    """List the users a data manager administers, with their role, sites and state."""
    users = services.users_administered_by(request.user)  # type: ignore[arg-type]
    rows = [
        {
            "user": user,
            "role": ROLE_LABELS.get(Role(_role_of(user)), "") if _role_of(user) else "",
            "sites": ", ".join(site.code for site in user.sites.all()),
        }
        for user in users
    ]
    return render(request, "accounts/user_list.html", {"rows": rows})


@role_required(Role.DATA_MANAGER)
@never_cache
def user_new(request: HttpRequest) -> HttpResponse:
    """Create a user with one role and sites; show, once, where they choose their password."""
    form = NewUserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, link = services.user_create(
                by=request.user,  # type: ignore[arg-type]
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=Role(data["role"]),
                sites=data["sites"],
            )
        except ValidationError as error:
            _save_errors(form, error)
        else:
            context = {"created": user, "link": request.build_absolute_uri(link)}
            return render(request, "accounts/user_created.html", context)
    status = 400 if form.is_bound else 200
    return render(request, "accounts/user_form.html", {"form": form, "new": True}, status=status)


def _administered(request: HttpRequest, pk: int) -> User:
    user = get_object_or_404(User, pk=pk)
    if user.is_superuser and not request.user.is_superuser:  # type: ignore[union-attr]
        raise PermissionDenied
    return user


@role_required(Role.DATA_MANAGER)
@never_cache
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a user's names, role, sites and activity."""
    user = _administered(request, pk)
    initial = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": _role_of(user),
        "sites": list(user.sites.all()),
        "is_active": user.is_active,
    }
    form = UserForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                by=request.user,  # type: ignore[arg-type]
                user=user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=Role(data["role"]),
                sites=data["sites"],
                is_active=data["is_active"],
            )
        except ValidationError as error:
            _save_errors(form, error)
        else:
            messages.success(request, _("User %(username)s saved.") % {"username": user.username})
            return redirect("accounts:user_list")
    status = 400 if form.is_bound else 200
    context = {"form": form, "target": user, "new": False}
    return render(request, "accounts/user_form.html", context, status=status)


@require_POST
@role_required(Role.DATA_MANAGER)
def user_require_password_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Make a user choose a new password at their next page."""
    user = _administered(request, pk)
    services.user_require_password_change(by=request.user, user=user)  # type: ignore[arg-type]
    messages.success(
        request,
        _("%(username)s will choose a new password at the next sign-in.")
        % {"username": user.username},
    )
    return redirect("accounts:user_edit", pk=user.pk)


@require_POST
@role_required(Role.DATA_MANAGER)
def user_second_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a user's authenticator (a lost phone); they set up a new one at the next sign-in."""
    user = _administered(request, pk)
    services.user_second_factor_reset(by=request.user, user=user)  # type: ignore[arg-type]
    messages.success(
        request,
        _("The second factor of %(username)s is reset.") % {"username": user.username},
    )
    return redirect("accounts:user_edit", pk=user.pk)


class PasswordChangeView(auth_views.PasswordChangeView):
    """The user's own password change; it lifts a required change."""

    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user)
        return response


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Where a new user chooses their first password, from the link made at their creation."""

    template_name = "registration/password_set.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=form.user)
        messages.success(self.request, _("Your password is set: sign in with it."))
        return response
