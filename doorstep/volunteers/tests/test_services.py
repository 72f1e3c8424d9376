"""Volunteering from sign-up to points: slots, party posts, check-in and check-out by
staff or QR code, hours within the activity's time, the organizer's confirmation paying
points through the ledger once, and star levels."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from doorstep.people.services import party_member_register, person_create, person_link_account
from doorstep.points.checking import ledger_check
from doorstep.points.choices import ActivityType
from doorstep.points.models import Transfer
from doorstep.points.services import earning_rule_set, resident_account

from ..choices import TRANSITIONS, SignupStatus
from ..models import Activity, Signup, StarThresholds
from ..selectors import (
    activities_to_join,
    hours_leaderboard,
    party_post_claims,
    standing,
    star_hours,
)
from ..services import (
    activity_create,
    check_in,
    check_out,
    scan,
    signup_cancel,
    signup_confirm,
    signup_create,
    signup_reject,
    star_thresholds_set,
)
from .scope import START, tree_activity

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def staff(world: World) -> Any:
    return world.user(Role.COMMUNITY_STAFF)


@pytest.fixture
def activity(world: World) -> Activity:
    earning_rule_set(
        actor=None,
        unit=world.a.community,
        activity_type=ActivityType.SANITATION,
        points_per_time=5,
        points_per_hour=10,
    )
    return tree_activity(world.a)  # 2 hours from START, 10 slots


def worked(staff: Any, activity: Activity, person: Any, minutes: int = 90) -> Signup:
    signup = signup_create(actor=staff, activity=activity, person=person)
    check_in(actor=staff, signup=signup, at=START)
    return check_out(actor=staff, signup=signup, at=START + dt.timedelta(minutes=minutes))


def test_confirmed_hours_pay_points_once_through_the_ledger(
    world: World, staff: Any, activity: Activity
) -> None:
    signup = worked(staff, activity, world.a.person)
    assert signup.minutes == 90 and signup.status == SignupStatus.CHECKED_OUT
    confirmed = signup_confirm(actor=staff, signup=signup)
    assert confirmed.transfer is not None and confirmed.transfer.amount == 5 + 15
    assert resident_account(person=world.a.person).balance == 20
    with pytest.raises(ValidationError):
        signup_confirm(actor=staff, signup=confirmed)
    assert Transfer.objects.count() == 1 and ledger_check().ok


def test_an_unconfirmed_participation_earns_nothing(
    world: World, staff: Any, activity: Activity
) -> None:
    signup = signup_create(actor=staff, activity=activity, person=world.a.person)
    with pytest.raises(ValidationError, match="已签退") as error:
        signup_confirm(actor=staff, signup=signup)
    assert error.value.code == "not_checked_out"
    check_in(actor=staff, signup=signup, at=START)
    with pytest.raises(ValidationError):
        signup_confirm(actor=staff, signup=Signup.objects.get(pk=signup.pk))
    assert not Transfer.objects.exists()


def test_hours_count_only_within_the_activity_and_the_organizer_may_lower_them(
    world: World, staff: Any, activity: Activity
) -> None:
    signup = signup_create(actor=staff, activity=activity, person=world.a.person)
    check_in(actor=staff, signup=signup, at=START - dt.timedelta(minutes=30))
    check_out(actor=staff, signup=signup, at=START + 3 * HOUR)
    assert signup.minutes == 120
    with pytest.raises(ValidationError) as error:
        signup_confirm(actor=staff, signup=signup, minutes=121)
    assert error.value.field == "minutes"
    assert signup_confirm(actor=staff, signup=signup, minutes=60).transfer.amount == 15  # type: ignore[union-attr]


def test_check_in_outside_the_window_is_refused(
    world: World, staff: Any, activity: Activity
) -> None:
    signup = signup_create(actor=staff, activity=activity, person=world.a.person)
    with pytest.raises(ValidationError, match="开始前一小时"):
        check_in(actor=staff, signup=signup, at=START - 2 * HOUR)
    with pytest.raises(ValidationError, match="已结束"):
        check_in(actor=staff, signup=signup, at=START + 5 * HOUR)
    assert Signup.objects.get(pk=signup.pk).status == SignupStatus.SIGNED_UP


def test_qr_scan_checks_the_volunteer_in_then_out(
    world: World, staff: Any, activity: Activity
) -> None:
    resident = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=resident)
    signup_create(actor=resident, activity=activity, person=world.a.person)
    assert (
        scan(actor=resident, token=activity.checkin_token, at=START).status
        == SignupStatus.CHECKED_IN
    )
    out = scan(actor=resident, token=activity.checkin_token, at=START + HOUR)
    assert out.status == SignupStatus.CHECKED_OUT and out.minutes == 60 and out.check_method == "qr"
    with pytest.raises(ValidationError):
        scan(actor=resident, token=activity.checkin_token, at=START + HOUR)
    with pytest.raises(NotFound):
        scan(actor=resident, token="no-such-code", at=START)
    # A resident cannot confirm their own hours.
    with pytest.raises(PermissionDenied):
        signup_confirm(actor=resident, signup=out)


def test_a_person_who_moved_away_or_died_is_not_signed_up(
    world: World, staff: Any, activity: Activity
) -> None:
    from doorstep.people.models import Person

    Person.objects.filter(pk=world.a.person.pk).update(
        left_on=dt.date(2026, 1, 5), left_reason="moved_away"
    )
    with pytest.raises(ValidationError, match="已迁出或去世") as error:
        signup_create(
            actor=staff, activity=activity, person=Person.objects.get(pk=world.a.person.pk)
        )
    assert error.value.field == "person" and not Signup.objects.exists()


def test_leaving_the_register_cancels_upcoming_sign_ups_only(
    world: World, staff: Any, activity: Activity, monkeypatch: Any
) -> None:
    from doorstep.core import timeutils
    from doorstep.people.models import Person
    from doorstep.people.services import person_leave, person_version

    person = world.a.person
    past = worked(staff, activity, person)  # checked out, hours waiting to be confirmed
    later = activity_create(
        actor=staff, unit=world.a.community, title="助老送餐",
        activity_type=ActivityType.ELDERLY_HELP, place="颐和食堂",
        starts_at=START + dt.timedelta(days=7), ends_at=START + dt.timedelta(days=7) + HOUR,
        slots=5,
    )  # fmt: skip
    upcoming = signup_create(actor=staff, activity=later, person=person)
    monkeypatch.setattr(timeutils, "now", lambda: START + dt.timedelta(days=1))
    fresh = Person.objects.get(pk=person.pk)
    leaving = person_leave(
        actor=staff, person_id=person.pk, version=person_version(fresh),
        reason="moved_away", on=(START + dt.timedelta(days=1)).date(),
        today=(START + dt.timedelta(days=1)).date(),
    )  # fmt: skip
    assert leaving.followups == ["已取消1个尚未开始的志愿活动报名。"]
    upcoming.refresh_from_db()
    past.refresh_from_db()
    assert upcoming.status == SignupStatus.CANCELLED
    assert past.status == SignupStatus.CHECKED_OUT  # what they did stays to be confirmed


def test_slots_are_limited_and_a_person_signs_up_once(world: World, staff: Any) -> None:
    activity = activity_create(
        actor=staff,
        unit=world.a.community,
        title="助老送餐",
        activity_type=ActivityType.ELDERLY_HELP,
        place="颐和食堂",
        starts_at=START,
        ends_at=START + HOUR,
        slots=1,
    )
    signup_create(actor=staff, activity=activity, person=world.a.person)
    with pytest.raises(ValidationError) as error:
        signup_create(actor=staff, activity=activity, person=world.a.person)
    assert error.value.code == "duplicate"
    other = person_create(name="丁志愿", unit=world.a.building)
    with pytest.raises(ValidationError, match="名额已满"):
        signup_create(actor=staff, activity=activity, person=other)
    signup_cancel(actor=staff, signup=Signup.objects.get(person=world.a.person))
    assert (
        signup_create(actor=staff, activity=activity, person=other).status == SignupStatus.SIGNED_UP
    )


def test_a_party_post_takes_party_members_and_is_flagged(world: World, staff: Any) -> None:
    post = activity_create(
        actor=staff,
        unit=world.a.community,
        title="党员示范岗：楼道巡查",
        activity_type=ActivityType.PATROL,
        place="1号楼",
        starts_at=START,
        ends_at=START + HOUR,
        slots=3,
        is_party_post=True,
    )
    with pytest.raises(ValidationError, match="只接受党员"):
        signup_create(actor=staff, activity=post, person=world.a.person)
    party_member_register(person=world.a.person, party_org=world.a.party_org)
    claim = signup_create(actor=staff, activity=post, person=world.a.person)
    assert claim.party_claim
    assert list(party_post_claims(actor=staff)) == [claim]


def test_bad_activity_input_names_the_field(world: World, staff: Any) -> None:
    base: dict[str, Any] = {
        "actor": staff,
        "unit": world.a.community,
        "title": "巡逻",
        "activity_type": ActivityType.PATROL,
        "place": "东门",
        "starts_at": START,
        "ends_at": START + HOUR,
        "slots": 5,
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": ""}, "title"),
        ({"activity_type": "x"}, "activity_type"),
        ({"ends_at": START}, "ends_at"),
        ({"slots": 0}, "slots"),
        ({"slots": "many"}, "slots"),
        ({"unit": world.a.building}, "unit"),
    ]
    for change, field in cases:
        with pytest.raises(ValidationError) as error:
            activity_create(**(base | change))
        assert error.value.field == field
    with pytest.raises(PermissionDenied):
        activity_create(**(base | {"actor": staff, "unit": world.b.community}))
    assert not Activity.objects.exists()


def test_every_transition_outside_the_map_is_refused(
    world: World, staff: Any, activity: Activity
) -> None:
    signup = signup_create(actor=staff, activity=activity, person=world.a.person)
    signup_reject(actor=staff, signup=signup, note="未到场")
    assert TRANSITIONS[SignupStatus.REJECTED] == frozenset()
    with pytest.raises(Conflict):
        check_in(actor=staff, signup=signup, at=START)
    with pytest.raises(Conflict):
        signup_cancel(actor=staff, signup=signup)


def test_star_levels_by_cumulative_hours_with_configurable_thresholds(
    world: World, staff: Any
) -> None:
    assert star_hours(world.a.community) == (100, 300, 600, 1000, 1500)
    star_thresholds_set(actor=staff, unit=world.a.community, hours=[1, 2, 3, 4, 5])
    with pytest.raises(ValidationError):
        star_thresholds_set(actor=staff, unit=world.a.community, hours=[5, 4, 3, 2, 1])
    assert StarThresholds.objects.get().hours == (1, 2, 3, 4, 5)
    for day in range(3):
        activity = activity_create(
            actor=staff,
            unit=world.a.community,
            title=f"清扫{day}",
            activity_type=ActivityType.SANITATION,
            place="广场",
            starts_at=START + dt.timedelta(days=day),
            ends_at=START + dt.timedelta(days=day, hours=1),
            slots=2,
        )
        signup = signup_create(actor=staff, activity=activity, person=world.a.person)
        check_in(actor=staff, signup=signup, at=activity.starts_at)
        check_out(actor=staff, signup=signup, at=activity.ends_at)
        signup_confirm(actor=staff, signup=signup)
    mine = standing(world.a.person)
    assert (mine.hours, mine.stars, mine.next_stars_at) == (3.0, 3, 4)
    board = hours_leaderboard(unit=world.a.community)
    assert board == [{"rank": 1, "name": "甲*民", "hours": 3.0, "stars": 3}]


def test_residents_see_open_activities_where_they_live(world: World, activity: Activity) -> None:
    resident = world.user(Role.RESIDENT)
    assert activities_to_join(actor=resident) == []
    person_link_account(person=world.a.person, user=resident)
    assert [a.pk for a in activities_to_join(actor=resident)] == [activity.pk]
