"""The scope matrix: every role × every model registered with the scoping checkpoint ×
a row outside the role's scope. Adding a model to the registry without a factory here
fails ``test_every_registered_model_has_a_factory``, so the matrix grows with the product."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import models
from django.test import Client

from doorstep.accounts import scoping
from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction, AuditEvent, RoleAssignment, User
from doorstep.accounts.roles import Role, available_roles
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.conftest import PASSWORD, World, app_scope_modules
from doorstep.conftest import outsider as _outsider
from doorstep.grids.models import Grid, GridHousehold, Visit, Wish
from doorstep.orgs.models import Department, PartyOrg, Unit
from doorstep.orgs.services import party_org_create
from doorstep.people.models import Household, MobileRegistration, PartyMember, Person
from doorstep.people.services import mobile_register, party_member_register

pytestmark = pytest.mark.django_db


OUTSIDE_ROW: dict[type[models.Model], Callable[[World], models.Model]] = {
    Unit: lambda w: w.b.building,
    PartyOrg: lambda w: w.b.party_org,
    Department: lambda w: w.b.department,
    User: _outsider,
    RoleAssignment: lambda w: _outsider(w).role_assignments.get(),
    AuditEvent: lambda w: audit_record(action=AuditAction.LOGIN, actor=_outsider(w)),
    Person: lambda w: w.b.person,
    Household: lambda w: w.b.household,
    PartyMember: lambda w: party_member_register(person=w.b.person, party_org=w.b.party_org),
    MobileRegistration: lambda w: mobile_register(
        person=w.b.person,
        party_org=party_org_create(kind="functional", name="乙功能型党支部", unit=w.b.community),
        registered_on=dt.date(2026, 1, 5),
        origin_org="外省某村党支部",
    ),
    Grid: lambda w: w.b.grid,
    GridHousehold: lambda w: w.b.household.grid_link,
    Visit: lambda w: Visit.objects.create(
        household=w.b.household, grid=w.b.grid, visitor=_outsider(w), visited_on=dt.date(2026, 1, 5)
    ),
    Wish: lambda w: Wish.objects.create(household=w.b.household, text="想要一个晾衣架"),
}

# Detail endpoints of the API and the console, by model, for the 404 check.
API_DETAIL: dict[type[models.Model], str] = {
    Unit: "/api/v1/units/{pk}/",
    PartyOrg: "/api/v1/party-orgs/{pk}/",
    Department: "/api/v1/departments/{pk}/",
    AuditEvent: "/api/v1/audit-events/{pk}/",
}
CONSOLE_DETAIL: dict[type[models.Model], str] = {Unit: "/console/units/{pk}/"}

# Apps that landed later declare their rows in their own tests/scope.py.
for _module in app_scope_modules():
    OUTSIDE_ROW.update(getattr(_module, "OUTSIDE_ROW", {}))
    API_DETAIL.update(getattr(_module, "API_DETAIL", {}))
    CONSOLE_DETAIL.update(getattr(_module, "CONSOLE_DETAIL", {}))


def test_every_registered_model_has_a_factory() -> None:
    missing = [m.__name__ for m in scoping.registered_models() if m not in OUTSIDE_ROW]
    assert not missing, f"add these models to the scope matrix: {missing}"


def _sees_everything(model: type[models.Model], role: str, user: User) -> bool:
    grant = next(g for g in scoping.grants(user) if g.role == role)
    rule = scoping.rule_for(model, role)
    return rule is not None and rule(grant) == scoping.ALL


CASES = [(model, role) for model in OUTSIDE_ROW for role in Role.values]


@pytest.mark.parametrize("model,role", CASES, ids=[f"{m.__name__}-{r}" for m, r in CASES])
def test_row_outside_scope_is_invisible(world: World, model: type[models.Model], role: str) -> None:
    if role not in available_roles():
        pytest.skip(f"{role}: the app owning its scope kind is not installed yet")
    user = world.user(role)
    row = OUTSIDE_ROW[model](world)
    visible = scoping.scoped(user, model).filter(pk=row.pk).exists()
    if _sees_everything(model, role, user):
        assert visible, f"{role} is declared to see every {model.__name__}"
        return
    assert not visible, f"{role} sees a {model.__name__} outside its scope"

    client = Client()
    client.force_login(user)
    for template in (API_DETAIL.get(model), CONSOLE_DETAIL.get(model)):
        if template:
            response = client.get(template.format(pk=row.pk))
            assert response.status_code == 404, (
                f"{template} answered {response.status_code} to {role}"
            )


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.RESIDENT])
def test_place_roles_see_their_own_anchor_unit(world: World, role: str) -> None:
    if role not in available_roles():
        pytest.skip(f"{role} not available yet")
    user = world.user(role)
    for grant in scoping.grants(user):
        unit = anchor_unit(grant)
        if unit is not None:
            assert scoping.scoped(user, Unit).filter(pk=unit.pk).exists()


def test_anonymous_and_inactive_users_see_nothing(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not scoping.scoped(AnonymousUser(), Unit).exists()
    staff = world.user(Role.COMMUNITY_STAFF)
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    scoping.forget_grants(staff)
    assert not scoping.scoped(staff, Unit).exists()


def test_revoked_role_no_longer_grants(world: World) -> None:
    from doorstep.accounts.services import role_revoke

    staff = world.user(Role.COMMUNITY_STAFF)
    assert scoping.scoped(staff, Unit).filter(pk=world.a.community.pk).exists()
    role_revoke(actor=None, assignment_id=staff.role_assignments.get().pk)
    fresh = User.objects.get(pk=staff.pk)
    assert not scoping.scoped(fresh, Unit).exists()


def test_only_the_auditor_reads_the_audit_log(world: World) -> None:
    audit_record(action=AuditAction.LOGIN, actor=world.user(Role.RESIDENT))
    readers = {
        role for role in available_roles() if scoping.scoped(world.user(role), AuditEvent).exists()
    }
    assert readers == {Role.AUDITOR}


def test_scope_of_a_grant_is_loaded_once_per_request(
    world: World, django_assert_max_num_queries: Any
) -> None:
    user = User.objects.get(pk=world.user(Role.COMMUNITY_STAFF).pk)
    with django_assert_max_num_queries(2):
        scoping.grants(user)
        scoping.grants(user)
        scoping.scope_q(user, Unit)


def test_outsider_login_sees_only_own_tree(world: World) -> None:
    """End to end through the API list: tree B's staff member lists only tree B."""
    outsider = _outsider(world)
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": outsider.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    names = {row["name"] for row in client.get("/api/v1/units/?page_size=500").json()["results"]}
    assert "乙社区" in names and "甲社区" not in names
