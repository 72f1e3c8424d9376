"""Cases follow their place when the org tree is rearranged."""

from __future__ import annotations

import datetime as dt

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import scoped
from doorstep.appeals.choices import Action
from doorstep.appeals.models import Case, Rating
from doorstep.appeals.selectors import period_figures
from doorstep.conftest import World, make_user
from doorstep.core import timeutils
from doorstep.orgs.services import unit_move

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
    now = timeutils.now()
    figures = period_figures(
        actor=new_district,
        unit=world.b.district,
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(minutes=1),
    )
    assert figures["received"]["total"] == 2 and figures["ratings"]["given"] == 1
