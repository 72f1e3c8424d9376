"""Writing the audit log. Every other app records through :func:`audit_record`."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from doorstep.core.logging import redact
from doorstep.core.net import client_ip

from .models import AuditAction, AuditEvent, AuditOutcome, User


def audit_record(
    *,
    action: str,
    outcome: str = AuditOutcome.SUCCESS,
    actor: User | Any | None = None,
    username: str = "",
    obj: models.Model | Any | None = None,
    object_type: str = "",
    object_id: str | int = "",
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. ``detail`` must never hold a password or a full ID number;
    string values are passed through the same redaction as log lines as a backstop."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    clean_detail = {
        key: redact(value) if isinstance(value, str) else value
        for key, value in (detail or {}).items()
    }
    return AuditEvent.objects.create(
        actor=actor,
        actor_username=(actor.get_username() if actor is not None else username)[:150],
        action=action,
        outcome=outcome,
        object_type=object_type[:60],
        object_id=str(object_id)[:64],
        object_repr=str(obj)[:200] if obj is not None else "",
        ip=client_ip(request) if request is not None else None,
        detail=clean_detail,
    )


__all__ = ["AuditAction", "AuditOutcome", "audit_record"]
