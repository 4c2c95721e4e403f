"""Account pages: password, security settings, second factor; user administration."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import user_admin, views

app_name = "accounts"

urlpatterns = [
    path("security/", views.security, name="security"),
    path("language/", views.language, name="language"),
    path("security/setup/", views.second_factor_setup, name="second_factor_setup"),
    path("security/verify/", views.second_factor_verify, name="second_factor_verify"),
    path("security/turn-off/", views.second_factor_turn_off, name="second_factor_turn_off"),
    path("password/", user_admin.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/set/<uidb64>/<token>/",
        user_admin.PasswordSetView.as_view(),
        name="password_set",
    ),
    path("users/", user_admin.user_list, name="user_list"),
    path("users/new/", user_admin.user_new, name="user_new"),
    path("users/<int:pk>/", user_admin.user_edit, name="user_edit"),
    path(
        "users/<int:pk>/password-change/",
        user_admin.user_require_password_change,
        name="user_require_password_change",
    ),
    path(
        "users/<int:pk>/second-factor-reset/",
        user_admin.user_second_factor_reset,
        name="user_second_factor_reset",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
