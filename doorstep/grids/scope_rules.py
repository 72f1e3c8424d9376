"""The grid scope kind, and how grid roles see grids and the registry."""

from __future__ import annotations

from django.db.models import Q

from doorstep.accounts import scoping
from doorstep.accounts.roles import SEPARATED_ADMIN_ROLES, Role, ScopeKind, register_scope_kind
from doorstep.accounts.scope_rules import PLACE_ROLES, everything, within_unit
from doorstep.accounts.scoping import Grant

GRID_ROLES = (Role.GRID_MEMBER, Role.GRID_LEADER)


def _grid(field: str) -> scoping.Rule:
    """Rows whose grid (reached through ``field``) is the grant's grid."""

    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.scope.pk})

    return rule


def register() -> None:
    from doorstep.people.models import Household, MobileRegistration, PartyMember, Person

    from .models import Grid, GridHousehold, Visit, Wish

    register_scope_kind(ScopeKind("grid", "grids.Grid", anchor_unit=lambda grid: grid.unit))
    others = PLACE_ROLES - set(GRID_ROLES)
    # Departments, outlet clerks and partners work with a place but not with its
    # households: they see grids (names and boundaries), never who lives where.
    registry = others - {Role.DEPARTMENT_STAFF, Role.OUTLET_CLERK, Role.PARTNER}

    scoping.register(
        Grid,
        [
            (others, within_unit("unit")),
            (GRID_ROLES, _grid("pk")),
            (SEPARATED_ADMIN_ROLES - {Role.AUDITOR}, everything),
        ],
    )
    scoping.register(
        GridHousehold, [(registry, within_unit("grid__unit")), (GRID_ROLES, _grid("grid_id"))]
    )
    scoping.register(Visit, [(registry, within_unit("grid__unit")), (GRID_ROLES, _grid("grid_id"))])
    scoping.register(
        Wish,
        [
            (registry, within_unit("household__unit")),
            (GRID_ROLES, _grid("household__grid_link__grid_id")),
            (
                (Role.RESIDENT,),
                lambda g: Q(
                    household__members__user_id=g.user.pk,
                    household__members__left_on__isnull=True,
                ),
            ),
        ],
        distinct=True,
    )
    # Grid roles see their grid's households and the people in them, nothing else.
    scoping.extend(Household, [(GRID_ROLES, _grid("grid_link__grid_id"))])
    scoping.extend(Person, [(GRID_ROLES, _grid("household__grid_link__grid_id"))])
    scoping.extend(PartyMember, [(GRID_ROLES, _grid("person__household__grid_link__grid_id"))])
    scoping.extend(
        MobileRegistration, [(GRID_ROLES, _grid("person__household__grid_link__grid_id"))]
    )
