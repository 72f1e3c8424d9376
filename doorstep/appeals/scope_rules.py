"""How each role sees appeals: residents their own cases, grid staff their grid's,
committees and the levels above their subtree's, departments the cases they have a task
in. Public reads (the board, the wish wall) go through selectors that show only public
fields and need no scope."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import PLACE_ROLES, anchor_unit
from doorstep.accounts.scoping import NOTHING, Grant
from doorstep.core.tree import subtree_q

GRID_ROLES = (Role.GRID_MEMBER, Role.GRID_LEADER)
UNIT_ROLES = (
    PLACE_ROLES - set(GRID_ROLES) - {Role.DEPARTMENT_STAFF, Role.OUTLET_CLERK, Role.PARTNER}
)


def _case_rules(
    prefix: str = "", *, own_path: bool = False
) -> list[tuple[Iterable[str], scoping.Rule]]:
    """Rules for a model reaching its case through ``prefix`` ("" for Case itself);
    with ``own_path``, the model keeps a copy of its case's ``unit_path``, which the
    place rule reads instead of joining the case."""
    path_field = "unit_path" if own_path else f"{prefix}unit_path"

    def within(grant: Grant) -> Q:
        unit = anchor_unit(grant)
        return subtree_q(unit.path, field=path_field) if unit is not None else NOTHING

    def grid(grant: Grant) -> Q:
        return Q(**{f"{prefix}grid_id": grant.scope.pk})

    def own(grant: Grant) -> Q:
        return Q(**{f"{prefix}reporter_user_id": grant.user.pk})

    def tasks(grant: Grant) -> Q:
        from .models import JointTask

        ids = JointTask.objects.filter(department_id=grant.scope.pk).values("case_id")
        return Q(**{f"{prefix}pk__in" if not prefix else f"{prefix}id__in": ids})

    return [
        (UNIT_ROLES, within),
        (GRID_ROLES, grid),
        ((Role.RESIDENT,), own),
        ((Role.DEPARTMENT_STAFF,), tasks),
    ]


def register() -> None:
    from .models import (
        Case,
        CaseEvent,
        CasePhoto,
        Follow,
        JointTask,
        Mediation,
        MediationSession,
        MonthlyClassification,
        Notification,
        Rating,
        WishClaim,
    )

    scoping.register(Case, _case_rules())
    scoping.register(CaseEvent, _case_rules("case__"))
    scoping.register(CasePhoto, _case_rules("case__"))
    # A rating keeps its case's path: the place rule reads it without a join.
    scoping.register(Rating, _case_rules("case__", own_path=True))
    scoping.register(Mediation, _case_rules("case__"))
    scoping.register(MediationSession, _case_rules("mediation__case__"))

    def wish_claims(grant: Grant) -> Q:
        return Q(claimant_id=grant.user.pk)

    case_claim_rules = _case_rules("case__")
    scoping.register(
        WishClaim,
        [(roles, rule) for roles, rule in case_claim_rules if Role.RESIDENT not in roles]
        + [((Role.RESIDENT,), lambda g: Q(case__reporter_user_id=g.user.pk) | wish_claims(g))],
    )

    def own_department(grant: Grant) -> Q:
        return Q(department_id=grant.scope.pk)

    def tasks_within(grant: Grant) -> Q:
        unit = anchor_unit(grant)
        return subtree_q(unit.path, field="case__unit_path") if unit is not None else NOTHING

    scoping.register(
        JointTask,
        [(UNIT_ROLES, tasks_within), ((Role.DEPARTMENT_STAFF,), own_department)],
    )

    def mine(grant: Grant) -> Q:
        return Q(user_id=grant.user.pk)

    every_role = set(Role.values)
    scoping.register(Follow, [(every_role, mine)])
    scoping.register(Notification, [(every_role, mine)])

    def classifications_within(grant: Grant) -> Q:
        unit = anchor_unit(grant)
        return subtree_q(unit.path, field="community__path") if unit is not None else NOTHING

    scoping.register(
        MonthlyClassification, [(UNIT_ROLES | set(GRID_ROLES), classifications_within)]
    )
