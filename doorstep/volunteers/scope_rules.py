"""How each role sees teams, activities and sign-ups: staff their subtree, residents
their own sign-ups and memberships and the activities of where they live."""

from __future__ import annotations

from django.db.models import Q

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import within_unit
from doorstep.accounts.scoping import NOTHING, Grant
from doorstep.core.tree import ancestor_paths
from doorstep.points.scope_rules import READERS

RESIDENT = (Role.RESIDENT,)


def _own(field: str) -> scoping.Rule:
    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.user.pk})

    return rule


def _where_i_live(field: str) -> scoping.Rule:
    """Rows of a unit above the resident's home (their community, street …)."""

    def rule(grant: Grant) -> Q:
        from doorstep.people.models import Person

        paths = (
            Person.objects.filter(user_id=grant.user.pk, pseudonymized_at__isnull=True)
            .values_list("unit__path", flat=True)
            .first()
        )
        if not paths:
            return NOTHING
        return Q(**{f"{field}__path__in": ancestor_paths(paths)})

    return rule


def register() -> None:
    from .models import Activity, Signup, StarThresholds, Team, TeamMember

    scoping.register(Team, [(READERS, within_unit("unit")), (RESIDENT, _where_i_live("unit"))])
    scoping.register(
        TeamMember,
        [(READERS, within_unit("team__unit")), (RESIDENT, _own("person__user_id"))],
    )
    scoping.register(Activity, [(READERS, within_unit("unit")), (RESIDENT, _where_i_live("unit"))])
    scoping.register(
        Signup,
        [(READERS, within_unit("activity__unit")), (RESIDENT, _own("person__user_id"))],
    )
    scoping.register(StarThresholds, [(READERS, within_unit("unit"))])
