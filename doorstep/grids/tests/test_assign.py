"""One household into a grid of its community, without balancing the whole community:
the service, the community's list of households in no grid, and the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404
from django.test import Client
from django.urls import include, path

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.core.errors import PermissionDenied, ValidationError
from doorstep.grids.models import GridHousehold
from doorstep.grids.services import grid_create, household_assign
from doorstep.people.services import household_create

urlpatterns = [path("", include("doorstep.grids.urls")), path("", include("config.urls"))]
pytestmark = [pytest.mark.django_db, pytest.mark.urls("doorstep.grids.tests.test_assign")]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def newcomer(world: Any) -> Any:
    """A household registered after the last balancing: in no grid."""
    return household_create(unit=world.a.building, entrance="2", room="201")


def _state() -> tuple[list[Any], int]:
    links = sorted(GridHousehold.objects.values_list("household_id", "grid_id", "member_id"))
    return links, AuditEvent.objects.count()


def test_a_household_goes_into_a_grid_and_to_a_member(world: Any, newcomer: Any) -> None:
    staff, member = world.user(Role.COMMUNITY_STAFF), world.user(Role.GRID_MEMBER)
    link = household_assign(
        actor=staff, household_id=newcomer.pk, grid_id=world.a.grid.pk, member_id=member.pk
    )
    assert (link.grid_id, link.member_id) == (world.a.grid.pk, member.pk)
    event = AuditEvent.objects.filter(action=AuditAction.GRIDS_BALANCED).latest("id")
    assert event.actor_id == staff.pk and event.object_id == str(world.a.community.pk)
    assert event.detail == {
        "cause": "assigned",
        "household": newcomer.pk,
        "from_grid": None,
        "from_member": None,
        "to_grid": world.a.grid.pk,
        "to_member": member.pk,
    }
    # Into another grid of the same community: the link moves, the history says from where.
    second = grid_create(unit=world.a.community, name="第二网格")
    household_assign(actor=staff, household_id=newcomer.pk, grid_id=second.pk)
    link.refresh_from_db()
    assert (link.grid_id, link.member_id) == (second.pk, None)
    event = AuditEvent.objects.filter(action=AuditAction.GRIDS_BALANCED).latest("id")
    assert event.detail["from_grid"] == world.a.grid.pk and event.detail["to_grid"] == second.pk


def test_wrong_grids_and_members_are_refused_and_change_nothing(world: Any, newcomer: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    inactive = grid_create(unit=world.a.community, name="停用网格")
    inactive.is_active = False
    inactive.save()
    before = _state()
    for grid_id, member_id, field in (
        (world.b.grid.pk, None, "grid"),  # another community's grid
        (inactive.pk, None, "grid"),
        ("1", None, "grid"),  # not a key
        (10**30, None, "grid"),
        (world.a.grid.pk, world.user(Role.GRID_LEADER).pk, "member"),  # not a member
        (world.a.grid.pk, "x", "member"),
    ):
        with pytest.raises(ValidationError) as caught:
            household_assign(
                actor=staff, household_id=newcomer.pk, grid_id=grid_id, member_id=member_id
            )
        assert field in caught.value.errors, (grid_id, member_id)
    with pytest.raises(ValidationError, match="已在这个网格"):
        household_assign(actor=staff, household_id=world.a.household.pk, grid_id=world.a.grid.pk)
    assert _state() == before


def test_only_those_who_run_the_grids_assign(world: Any, newcomer: Any) -> None:
    before = _state()
    with pytest.raises(PermissionDenied):
        household_assign(
            actor=world.user(Role.GRID_LEADER),
            household_id=world.a.household.pk,
            grid_id=world.a.grid.pk,
            member_id=world.user(Role.GRID_MEMBER).pk,
        )
    with pytest.raises(Http404):  # out of scope: not told apart from missing
        household_assign(
            actor=world.user(Role.COMMUNITY_STAFF),
            household_id=world.b.household.pk,
            grid_id=world.b.grid.pk,
        )
    assert _state() == before


def test_the_grid_list_names_the_households_in_no_grid(world: Any, newcomer: Any) -> None:
    client = _client(world.user(Role.COMMUNITY_STAFF))
    html = client.get(f"/console/grids/units/{world.a.community.pk}/").content.decode()
    assert "未划入网格的住户" in html and "1号楼2单元201" in html
    assert f"/console/grids/households/{newcomer.pk}/assign/" in html
    assert f"/console/grids/households/{world.a.household.pk}/assign/" not in html


def test_the_assign_page_assigns(world: Any, newcomer: Any) -> None:
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/grids/households/{newcomer.pk}/assign/"
    page = client.get(url)
    assert page.status_code == 200 and "第一网格" in page.content.decode()
    refused = client.post(url, {"grid": world.b.grid.pk})
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    member = world.user(Role.GRID_MEMBER)
    done = client.post(url, {"grid": world.a.grid.pk, "member": member.pk})
    assert done.status_code == 302
    assert GridHousehold.objects.get(household=newcomer).member_id == member.pk
    html = client.get(done["Location"]).content.decode()
    assert "每一户都在网格中" in html


@pytest.mark.parametrize("role", [Role.GRID_LEADER, Role.GRID_MEMBER, Role.RESIDENT])
def test_the_assign_page_is_not_there_for_others(world: Any, role: str) -> None:
    url = f"/console/grids/households/{world.a.household.pk}/assign/"
    assert _client(world.user(role)).get(url).status_code in (403, 404)
    outsider = _client(world.user(Role.COMMUNITY_STAFF))
    assert (
        outsider.get(f"/console/grids/households/{world.b.household.pk}/assign/").status_code == 404
    )
