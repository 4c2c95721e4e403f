"""Account pages: security settings, second-factor setup and verification."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services


def _next_url(request: HttpRequest, default: str) -> str:
    """Return the page asked for in ``next`` when it is on this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    otp_login(request, device)
    # A new session key once the second factor is given, as after the password.
    request.session.cycle_key()


@login_required
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    """Show the user's sign-in protections: password change and second factor."""
    user: Any = request.user
    context = {
        "has_device": user_has_device(user),
        "required": user.second_factor_required,
        "language_form": LanguageForm(initial={"language": user.language}),
    }
    return render(request, "accounts/security.html", context)


class LanguageForm(forms.Form):
    """The language of the pages: English, French, or the browser's."""

    language = forms.ChoiceField(
        label=_lazy("Language of the pages"),
        choices=[("", _lazy("As my browser asks")), *settings.LANGUAGES],
        required=False,
    )


@login_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Record the language the user chose on their account page."""
    form = LanguageForm(request.POST)
    chosen = form.cleaned_data["language"] if form.is_valid() else None
    if chosen is None:
        messages.error(request, _("Choose English or French."))
        return redirect("accounts:security")
    services.user_set_language(user=request.user, language=chosen)  # type: ignore[arg-type]
    translation.activate(chosen or translation.get_language_from_request(request))
    messages.success(request, _("Language saved."))
    response = redirect("accounts:security")
    if chosen:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, samesite="Lax")
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response


def _key_groups(device: TOTPDevice) -> str:
    """Return the secret in base32, in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@never_cache
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: show its key as a QR code, confirm with a first code."""
    user: Any = request.user
    if user_has_device(user) and not user.is_verified():
        # Replacing an authenticator needs the current one first.
        return redirect(f"{reverse('accounts:second_factor_verify')}?next={request.path}")
    device = services.totp_device_start(user=user)
    error = ""
    status = 200
    if request.method == "POST":
        if services.totp_device_confirm(device=device, code=request.POST.get("code", "")):
            _mark_verified(request, device)
            messages.success(request, _("Your authenticator app is set up."))
            # The recovery codes are shown once, on this answer; only their use is stored.
            context = {
                "codes": services.recovery_codes_issue(user=user),
                "next": _next_url(request, reverse("accounts:security")),
            }
            return render(request, "accounts/recovery_codes.html", context)
        error = _("That code is not right. Check the time on your phone and try the next code.")
        status = 400
    uri = device.config_url
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=3, light="#fff", title=_("QR code of your authenticator key")
    )
    context = {
        "otpauth_uri": uri,
        "qr_svg": qr_svg,
        "secret": _key_groups(device),
        "error": error,
        "next": _next_url(request, ""),
        "required": user.second_factor_required,
        "second_factor_pending": not user.is_verified(),
    }
    return render(request, "accounts/second_factor_setup.html", context, status=status)


@login_required
@never_cache
def second_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the code of the user's authenticator app after the password."""
    user: Any = request.user
    home = reverse("home")
    if user.is_verified():
        return redirect(_next_url(request, home))
    if not user_has_device(user):
        return redirect(reverse("accounts:second_factor_setup"))
    error = ""
    status = 200
    if request.method == "POST":
        device = services.second_factor_verify(user=user, code=request.POST.get("code", ""))
        if device is not None:
            _mark_verified(request, device)
            return redirect(_next_url(request, home))
        if services.second_factor_code_reused(user=user, code=request.POST.get("code", "")):
            error = _("That code was right but is already used: wait for the next one.")
        else:
            error = _(
                "That code is not right, or came too soon after a wrong one. Wait for the next "
                "code."
            )
        status = 400
    context = {"error": error, "next": _next_url(request, ""), "second_factor_pending": True}
    return render(request, "accounts/second_factor_verify.html", context, status=status)


@login_required
@require_POST
def second_factor_turn_off(request: HttpRequest) -> HttpResponse:
    """Remove the user's own authenticator, when their role allows signing in without one."""
    try:
        services.second_factor_turn_off(user=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The second factor is off."))
    return redirect("accounts:security")
