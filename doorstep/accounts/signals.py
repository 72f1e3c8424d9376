"""Audit of authentication events.

Django's authentication machinery announces logins, failures and logouts only through
signals, so this is the one place Doorstep listens to signals (docs/adr/0005).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import signals as auth_signals

from .audit import audit_record
from .models import AuditAction, AuditOutcome


def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGIN, actor=user, obj=user, request=request)


def _on_login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        outcome=AuditOutcome.FAILURE,
        username=username,
        request=request,
    )


def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user, obj=user, request=request)


def connect() -> None:
    auth_signals.user_logged_in.connect(_on_login, dispatch_uid="doorstep.audit.login")
    auth_signals.user_login_failed.connect(
        _on_login_failed, dispatch_uid="doorstep.audit.login_failed"
    )
    auth_signals.user_logged_out.connect(_on_logout, dispatch_uid="doorstep.audit.logout")
