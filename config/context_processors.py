"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.roles import Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Say which sections the signed-in user may open, for the top bar."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    everything = user.is_superuser
    readers = (Role.STATISTICIAN, Role.CLINICIAN, Role.DATA_MANAGER)
    from safety.selectors import SAFETY_ROLES, open_alerts_for_user, sees_alerts

    return {
        "nav_safety": everything or any(user.has_role(role) for role in SAFETY_ROLES),
        # The open alerts for this user: a clinician's sites, or those escalated to data managers.
        "nav_safety_alerts": open_alerts_for_user(user).count() if sees_alerts(user) else 0,
        "nav_patients": everything or bool(user.roles),
        "nav_worklist": user.has_role(Role.NURSE) or user.has_role(Role.CLINICIAN),
        "nav_analysis": everything or any(user.has_role(role) for role in readers),
        "nav_queries": everything
        or any(user.has_role(role) for role in (Role.NURSE, Role.CLINICIAN, Role.DATA_MANAGER)),
        "nav_monitoring": everything
        or user.has_role(Role.STATISTICIAN)
        or user.has_role(Role.DATA_MANAGER),
        "nav_users": everything or user.has_role(Role.DATA_MANAGER),
        "nav_exports": everything
        or user.has_role(Role.STATISTICIAN)
        or user.has_role(Role.DATA_MANAGER),
    }
