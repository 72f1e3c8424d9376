"""Cases follow their place when the org tree is rearranged."""

from __future__ import annotations

import datetime as dt

import pytest

from doorstep.accounts.models import AuditAction, AuditEvent, User
from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import scoped
from doorstep.appeals.choices import Action
from doorstep.appeals.models import Case, Rating
from doorstep.appeals.selectors import period_figures
from doorstep.conftest import World, make_user
from doorstep.core import timeutils
from doorstep.core.errors import ValidationError
from doorstep.grids.models import GridHousehold
from doorstep.orgs.services import unit_create, unit_move
from doorstep.people.models import Person

from .factories import step, submit


def _rated_case(world: World) -> Case:
    staff, resident = world.user(Role.COMMUNITY_STAFF), world.user(Role.RESIDENT)
    case = submit(world)
    for action, extra in ((Action.ACCEPT, {}), (Action.ASSIGN, {"assignee": staff}),
                          (Action.START, {}), (Action.RESOLVE, {"result": "已处理"})):  # fmt: skip
        step(case, staff, action, **extra)
    step(case, resident, Action.RATE, score=5, comment="")
    return case


def test_moving_a_street_carries_its_cases_and_ratings_to_the_new_district(
    world: World,
) -> None:
    case = _rated_case(world)
    other = submit(world, tree=world.b)  # already under B: must not change
    old_district = world.user(Role.DISTRICT_ADMIN)
    new_district = make_user("b_district", Role.DISTRICT_ADMIN, world.b.district)
    assert scoped(old_district, Case).filter(pk=case.pk).exists()
    assert not scoped(new_district, Case).filter(pk=case.pk).exists()
    before_b = other.unit_path

    unit_move(unit=world.a.street, new_parent=world.b.district)

    case.refresh_from_db()
    other.refresh_from_db()
    world.a.community.refresh_from_db()
    assert case.unit_path.startswith(world.a.community.path)
    assert case.unit_path.startswith(world.b.district.path)
    assert other.unit_path == before_b
    assert Rating.objects.get(case=case).unit_path == case.unit_path
    # The new district's staff see the case and its rating; the old district's do not.
    assert scoped(new_district, Case).filter(pk=case.pk).exists()
    assert scoped(new_district, Rating).filter(case=case).exists()
    assert not scoped(old_district, Case).filter(pk=case.pk).exists()
    assert not scoped(old_district, Rating).filter(case=case).exists()
    # The community's own staff keep their case (their next request reads the unit's new
    # path), and the figures count it at its new place.
    staff = User.objects.get(pk=world.user(Role.COMMUNITY_STAFF).pk)
    assert scoped(staff, Case).filter(pk=case.pk).exists()
    # The community moved whole with its grids: households and cases keep their grid.
    assert GridHousehold.objects.get(household=world.a.household).grid_id == world.a.grid.pk
    assert case.grid_id == world.a.grid.pk
    now = timeutils.now()
    figures = period_figures(
        actor=new_district,
        unit=world.b.district,
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(minutes=1),
    )
    assert figures["received"]["total"] == 2 and figures["ratings"]["given"] == 1


def test_a_compound_moved_to_another_community_takes_its_cases_there(world: World) -> None:
    case = submit(world)
    assert (case.community_id, case.compound_id) == (world.a.community.pk, world.a.compound.pk)
    assert case.grid_id == world.a.grid.pk
    member = world.user(Role.GRID_MEMBER)
    assert scoped(member, Person).filter(pk=world.a.person.pk).exists()

    unit_move(unit=world.a.compound, new_parent=world.b.community)

    case.refresh_from_db()
    assert case.community_id == world.b.community.pk  # routed and classified there now
    assert case.compound_id == world.a.compound.pk  # the moved compound itself
    assert case.unit_path.startswith(world.b.community.path)
    b_staff = make_user("b_staff", Role.COMMUNITY_STAFF, world.b.community)
    assert scoped(b_staff, Case).filter(pk=case.pk).exists()
    a_staff = User.objects.get(pk=world.user(Role.COMMUNITY_STAFF).pk)
    assert not scoped(a_staff, Case).filter(pk=case.pk).exists()
    # The old community's grid no longer holds the household: its member no longer sees
    # who lives there nor the case; the household waits for the new community's grids.
    assert case.grid_id is None
    assert not GridHousehold.objects.filter(household=world.a.household).exists()
    member = User.objects.get(pk=member.pk)
    assert not scoped(member, Person).filter(pk=world.a.person.pk).exists()
    assert not scoped(member, Case).filter(pk=case.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.GRIDS_BALANCED)
    assert event.detail["cause"] == "unit_moved"
    assert event.detail["links"] == [[world.a.household.pk, world.a.grid.pk]]


def test_a_building_moved_to_another_compound_takes_its_cases_there(world: World) -> None:
    building = unit_create(kind="building", name="2号楼", parent=world.a.compound)
    case = submit(world, household=None, unit=building)
    untouched = submit(world, tree=world.b)
    assert (case.community_id, case.compound_id) == (world.a.community.pk, world.a.compound.pk)

    unit_move(unit=building, new_parent=world.b.compound)

    case.refresh_from_db()
    untouched.refresh_from_db()
    assert (case.community_id, case.compound_id) == (world.b.community.pk, world.b.compound.pk)
    assert untouched.unit_path.startswith(world.b.compound.path)
    # A street moved whole keeps its communities: its cases keep theirs.
    unit_move(unit=world.b.street, new_parent=world.a.district)
    case.refresh_from_db()
    assert (case.community_id, case.compound_id) == (world.b.community.pk, world.b.compound.pk)
    assert case.unit_path.startswith(world.a.district.path)


def test_a_move_onto_a_same_named_sibling_is_refused_and_changes_nothing(world: World) -> None:
    case = submit(world)
    before = case.unit_path
    with pytest.raises(ValidationError, match="同名"):
        unit_move(unit=world.a.building, new_parent=world.b.compound)  # both are 1号楼
    case.refresh_from_db()
    world.a.building.refresh_from_db()
    assert case.unit_path == before and world.a.building.parent_id == world.a.compound.pk
