"""Account pages: password change, security settings and the second factor."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("security/", views.security, name="security"),
    path("language/", views.language, name="language"),
    path("security/setup/", views.second_factor_setup, name="second_factor_setup"),
    path("security/verify/", views.second_factor_verify, name="second_factor_verify"),
    path("security/turn-off/", views.second_factor_turn_off, name="second_factor_turn_off"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
