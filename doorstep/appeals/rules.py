"""Who may do what to a case. Predicates of (user, case), tested as a matrix."""

from __future__ import annotations

from typing import Any

from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants

from .choices import LEVEL_ORDER, Actor, Level, Transition
from .models import Case

# The highest responsible level each unit-anchored role can handle.
ROLE_LEVEL: dict[str, str] = {
    Role.BUILDING_LEADER: Level.GRID,
    Role.COMMUNITY_STAFF: Level.COMMUNITY,
    Role.PARTY_SECRETARY: Level.PARTY_ORG,
    Role.STREET_ADMIN: Level.PARTY_ORG,
    Role.DISTRICT_ADMIN: Level.PARTY_ORG,
    Role.COUNTY_ADMIN: Level.PARTY_ORG,
    Role.CITY_ADMIN: Level.PARTY_ORG,
}
GRID_ROLES = (Role.GRID_MEMBER, Role.GRID_LEADER)
# Roles that run a community's month-end classification and its triage board.
TRIAGE_ROLES = frozenset(ROLE_LEVEL) - {Role.BUILDING_LEADER}


def handler_level(user: Any, case: Case) -> int | None:
    """The highest level (index into LEVEL_ORDER) at which ``user`` may handle ``case``:
    grid staff of its grid handle at grid level, committees at community level, the
    party secretary and the admins above at party-organization level."""
    best: int | None = None
    for grant in grants(user):
        level: str | None = None
        if grant.role in GRID_ROLES:
            if case.grid_id is not None and grant.scope.pk == case.grid_id:
                level = Level.GRID
        elif grant.role in ROLE_LEVEL:
            unit = anchor_unit(grant)
            if unit is not None and case.unit_path.startswith(unit.path):
                level = ROLE_LEVEL[grant.role]
        if level is not None:
            index = LEVEL_ORDER.index(Level(level))
            best = index if best is None else max(best, index)
    return best


def actor_kinds(user: Any, case: Case) -> set[str]:
    """Which of the transition table's actor kinds ``user`` is for ``case``."""
    if user is None:
        return {Actor.SYSTEM}
    kinds: set[str] = set()
    if case.reporter_user_id is not None and case.reporter_user_id == user.pk:
        kinds.add(Actor.REPORTER)
    level = handler_level(user, case)
    if level is not None and level >= LEVEL_ORDER.index(Level(case.level)):
        kinds.add(Actor.HANDLER)
    return kinds


def can_take(user: Any, case: Case, transition: Transition) -> bool:
    return case.state in transition.sources and bool(actor_kinds(user, case) & transition.actors)


def can_handle(user: Any, case: Case) -> bool:
    return Actor.HANDLER in actor_kinds(user, case)


def can_supervise_unit(user: Any, unit: Any) -> bool:
    """Committees and the levels above run a community's triage board and month end."""
    for grant in grants(user):
        if grant.role in TRIAGE_ROLES:
            anchor = anchor_unit(grant)
            if anchor is not None and unit.path.startswith(anchor.path):
                return True
    return False


def department_ids(user: Any) -> set[int]:
    return {g.scope.pk for g in grants(user) if g.role == Role.DEPARTMENT_STAFF}


# The category tree serves the whole jurisdiction: its top administrators and the system
# administrator (who configures the system under the separation of duties) maintain it.
CATEGORY_EDITOR_ROLES = frozenset({Role.CITY_ADMIN, Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN})


def can_edit_categories(user: Any) -> bool:
    return any(g.role in CATEGORY_EDITOR_ROLES for g in grants(user))
