"""How each role sees the registry's rows (see accounts.scoping). Grid roles are added
by the grids app, which owns grids."""

from __future__ import annotations

from django.db.models import Q

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import PLACE_ROLES, within_unit
from doorstep.accounts.scoping import Grant


def register() -> None:
    from .models import Household, MobileRegistration, PartyMember, Person

    place = PLACE_ROLES - {Role.GRID_MEMBER, Role.GRID_LEADER, Role.OUTLET_CLERK, Role.PARTNER}

    def own_person(grant: Grant) -> Q:
        return Q(user_id=grant.user.pk) | Q(guardian__user_id=grant.user.pk)

    def party_org_members(field: str) -> scoping.Rule:
        def rule(grant: Grant) -> Q:
            if grant.role == Role.PARTY_SECRETARY:
                return grant.scope.subtree_q(field=f"{field}__path") | within_unit(
                    f"{field}__unit"
                )(grant)
            return within_unit(f"{field}__unit")(grant)

        return rule

    scoping.register(
        # Every Person rule follows forward relations only, so no row matches twice and no
        # DISTINCT is needed (it would sort every registry query on all its columns).
        Person,
        [(place, within_unit("unit")), ((Role.RESIDENT,), own_person)],
    )

    def own_household(grant: Grant) -> Q:
        # The household the resident lives in now: not one they moved away from (or
        # that was closed and opened again for newcomers).
        return Q(members__user_id=grant.user.pk, members__left_on__isnull=True)

    scoping.register(
        Household,
        [(place, within_unit("unit")), ((Role.RESIDENT,), own_household)],
        distinct=True,
    )
    scoping.register(
        PartyMember,
        [
            (place - {Role.PARTY_SECRETARY}, within_unit("person__unit")),
            ((Role.PARTY_SECRETARY,), party_org_members("party_org")),
            ((Role.RESIDENT,), lambda g: Q(person__user_id=g.user.pk)),
        ],
    )
    scoping.register(
        MobileRegistration,
        [
            (place - {Role.PARTY_SECRETARY}, within_unit("party_org__unit")),
            ((Role.PARTY_SECRETARY,), party_org_members("party_org")),
            ((Role.RESIDENT,), lambda g: Q(person__user_id=g.user.pk)),
        ],
    )
