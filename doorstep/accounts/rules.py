"""Who may do what in accounts. Predicates of (user, …) → bool, tested as a matrix."""

from __future__ import annotations

from typing import Any

from .roles import STAFF_ROLES, Role
from .scoping import has_role, roles_of


def is_staff_user(user: Any) -> bool:
    """Holds any role beyond resident: works in the console, session idles out."""
    return bool(roles_of(user) & STAFF_ROLES)


def can_manage_roles(user: Any) -> bool:
    return has_role(user, Role.SECURITY_ADMIN)


def can_read_audit_log(user: Any) -> bool:
    return has_role(user, Role.AUDITOR)


def can_use_admin_site(user: Any) -> bool:
    return bool(getattr(user, "is_active", False)) and has_role(user, Role.SYSTEM_ADMIN)


def require_staff(request: Any) -> None:
    """Console pages answer 404 to anyone without a staff role (they are not there)."""
    from django.http import Http404

    if not is_staff_user(request.user):
        raise Http404
