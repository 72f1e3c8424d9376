"""Reads in accounts, all through the scoping checkpoint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from doorstep.orgs.models import Department, PartyOrg, Unit

from .models import AuditEvent, RoleAssignment, User
from .roles import ROLE_SCOPE_KIND, UNIT_ROLE_KINDS, scope_kind
from .scoping import grants, scoped


def audit_event_list(
    *,
    actor: User | Any,
    action: str = "",
    username: str = "",
    outcome: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    object_type: str = "",
    object_id: str = "",
) -> QuerySet[AuditEvent]:
    """The audit events the actor may read, newest first; ``object_type`` and
    ``object_id`` together give everything that happened to one row (who revealed this
    person's ID number, who changed this role)."""
    qs = scoped(actor, AuditEvent).select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
        if object_id:
            qs = qs.filter(object_id=object_id)
    if action:
        qs = qs.filter(action=action)
    if username:
        qs = qs.filter(actor_username__iexact=username.strip())
    if outcome:
        qs = qs.filter(outcome=outcome)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")


def role_assignment_list(
    *, actor: User | Any, active_only: bool = True, username: str = ""
) -> QuerySet[RoleAssignment]:
    qs = scoped(actor, RoleAssignment).select_related("user", "granted_by")
    if active_only:
        qs = qs.filter(revoked_at__isnull=True)
    if username:
        qs = qs.filter(
            Q(user__username__icontains=username) | Q(user__display_name__icontains=username)
        )
    return qs.order_by("user__username", "role")


def scope_labels(assignments: list[RoleAssignment]) -> dict[int, str]:
    """A readable name for each assignment's scope, loaded in one query per scope kind."""
    ids: dict[str, set[int]] = {}
    for assignment in assignments:
        if assignment.scope_id is not None:
            ids.setdefault(assignment.scope_kind, set()).add(assignment.scope_id)
    names: dict[tuple[str, int], str] = {}
    for kind_name, pks in ids.items():
        kind = scope_kind(kind_name)
        model = kind.model if kind else None
        if model is None:
            continue
        for obj in model._default_manager.filter(pk__in=pks):
            names[(kind_name, obj.pk)] = str(obj)
    return {
        a.pk: names.get((a.scope_kind, a.scope_id), "—") if a.scope_id else "" for a in assignments
    }


def scope_options(*, role: str, query: str = "", limit: int = 200) -> list[tuple[int, str]]:
    """Objects a role may be granted over, for the security admin's grant form."""
    kind = ROLE_SCOPE_KIND.get(role)
    if kind == "unit":
        qs = Unit.objects.filter(kind__in=sorted(UNIT_ROLE_KINDS[role]), is_active=True)
        if query:
            qs = qs.filter(name__icontains=query)
        return [
            (u.pk, _bracketed(u.name, u.get_kind_display())) for u in qs.order_by("path")[:limit]
        ]
    if kind == "party_org":
        qs2 = PartyOrg.objects.filter(is_active=True)
        if query:
            qs2 = qs2.filter(name__icontains=query)
        return [(o.pk, o.name) for o in qs2.order_by("path")[:limit]]
    if kind == "department":
        qs3 = Department.objects.filter(is_active=True).select_related("unit")
        if query:
            qs3 = qs3.filter(name__icontains=query)
        return [(d.pk, _bracketed(d.name, d.unit.name)) for d in qs3[:limit]]
    registered = scope_kind(kind or "")
    model = registered.model if registered else None
    if model is None:
        return []
    qs4 = model._default_manager.all()
    return [(obj.pk, str(obj)) for obj in qs4[:limit]]


def my_grants_display(user: User | Any) -> list[dict[str, Any]]:
    return [
        {
            "role": grant.role,
            "label": grant.assignment.get_role_display(),
            "scope": str(grant.scope) if grant.scope else "",
        }
        for grant in grants(user)
    ]


def role_holders(
    *, role: str, scope_kind: str, scope_ids: list[int] | set[int]
) -> list[RoleAssignment]:
    """Active assignments of ``role`` over the given scope objects, with their active
    users, ordered by scope and user: who works a grid, who clerks an outlet."""
    return list(
        RoleAssignment.objects.filter(
            role=role,
            scope_kind=scope_kind,
            scope_id__in=list(scope_ids),
            revoked_at__isnull=True,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("scope_id", "user_id")
    )


def _bracketed(name: str, note: Any) -> str:
    """``name（note）`` in Chinese, ``name (note)`` in English."""
    return gettext("%(name)s（%(note)s）") % {"name": name, "note": note}
