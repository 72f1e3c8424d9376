"""Scope kinds and rules for the foundation's own models (orgs and accounts).

Later apps register theirs the same way in their ``AppConfig.ready``; the helpers here
(``anchor_unit``, ``within_unit``) are what most of their rules are made of.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from doorstep.core.tree import ancestor_paths, subtree_q

from . import scoping
from .roles import (
    SEPARATED_ADMIN_ROLES,
    STAFF_ROLES,
    Role,
    ScopeKind,
    register_scope_kind,
    scope_kind,
)
from .scoping import ALL, NOTHING, Grant

# Roles whose scope is a place in the tree (directly or through their scope object).
PLACE_ROLES = STAFF_ROLES - SEPARATED_ADMIN_ROLES


def anchor_unit(grant: Grant) -> Any | None:
    """The unit whose subtree a grant covers, or None for self/system grants."""
    if grant.scope is None:
        return None
    kind = scope_kind(grant.assignment.scope_kind)
    return kind.anchor_unit(grant.scope) if kind else None


def within_unit(field: str = "") -> scoping.Rule:
    """Rule: rows whose unit (reached through ``field``) lies in the grant's subtree."""
    path_field = f"{field}__path" if field else "path"

    def rule(grant: Grant) -> Q:
        unit = anchor_unit(grant)
        return subtree_q(unit.path, field=path_field) if unit is not None else NOTHING

    return rule


def everything(grant: Grant) -> Q:
    return ALL


def register_foundation() -> None:
    from doorstep.orgs.models import Department, PartyOrg, Unit

    from .models import AuditEvent, RoleAssignment, User

    register_scope_kind(ScopeKind("unit", "orgs.Unit", anchor_unit=lambda unit: unit))
    register_scope_kind(ScopeKind("party_org", "orgs.PartyOrg", anchor_unit=lambda org: org.unit))
    register_scope_kind(
        ScopeKind("department", "orgs.Department", anchor_unit=lambda dept: dept.unit)
    )

    scoping.register(
        Unit,
        [
            (PLACE_ROLES, within_unit()),
            (SEPARATED_ADMIN_ROLES, everything),
        ],
    )
    scoping.register(
        PartyOrg,
        [
            (PLACE_ROLES, within_unit("unit")),
            (SEPARATED_ADMIN_ROLES, everything),
        ],
    )

    def departments_above_and_below(grant: Grant) -> Q:
        """Staff route cases up to township and county departments and down to those
        serving their own subtree; department staff see their own department."""
        if grant.role == Role.DEPARTMENT_STAFF:
            return Q(pk=grant.scope.pk)
        unit = anchor_unit(grant)
        if unit is None:
            return NOTHING
        return Q(unit__path__in=ancestor_paths(unit.path)) | subtree_q(
            unit.path, field="unit__path"
        )

    scoping.register(
        Department,
        [
            (PLACE_ROLES, departments_above_and_below),
            (SEPARATED_ADMIN_ROLES, everything),
        ],
    )

    def self_user(grant: Grant) -> Q:
        return Q(pk=grant.user.pk)

    scoping.register(
        User,
        [
            (set(Role.values) - SEPARATED_ADMIN_ROLES, self_user),
            (SEPARATED_ADMIN_ROLES, everything),
        ],
    )

    def own_assignments(grant: Grant) -> Q:
        return Q(user_id=grant.user.pk)

    scoping.register(
        RoleAssignment,
        [
            (set(Role.values) - SEPARATED_ADMIN_ROLES, own_assignments),
            (SEPARATED_ADMIN_ROLES, everything),
        ],
    )
    # Only the auditor reads the audit log; the system admin explicitly cannot.
    scoping.register(AuditEvent, [((Role.AUDITOR,), everything)])
