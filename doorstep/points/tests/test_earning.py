"""Earning rules: per time and per hour, daily and monthly caps per activity type, the
nearest rule above a community, and points only from a confirmed record."""

from __future__ import annotations

import datetime as dt

import pytest

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core.errors import PermissionDenied, ValidationError

from ..choices import ActivityType, TransferKind
from ..models import EarningRule, Transfer
from ..services import earning_rule_set, points_earn, resident_account, rule_for

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 5, 4)


def earn(
    world: World, minutes: int, source: str, day: dt.date = DAY, kind: str = ActivityType.SANITATION
) -> Transfer | None:
    return points_earn(
        person=world.a.person,
        activity_type=kind,
        minutes=minutes,
        occurred_on=day,
        source_type="test.participation",
        source_id=source,
    )


def test_points_per_time_plus_per_hour_pro_rata(world: World) -> None:
    earning_rule_set(
        actor=world.user(Role.COMMUNITY_STAFF),
        unit=world.a.community,
        activity_type=ActivityType.SANITATION,
        points_per_time=2,
        points_per_hour=10,
    )
    transfer = earn(world, 90, "p1")
    assert transfer is not None and transfer.amount == 2 + 15
    assert transfer.kind == TransferKind.EARN and transfer.occurred_on == DAY
    assert resident_account(person=world.a.person).balance == 17


def test_the_same_record_is_paid_once(world: World) -> None:
    earning_rule_set(
        actor=None, unit=world.a.community, activity_type=ActivityType.SANITATION, points_per_time=5
    )
    first = earn(world, 60, "p1")
    assert earn(world, 60, "p1") == first
    assert Transfer.objects.count() == 1


def test_daily_and_monthly_caps_per_activity_type(world: World) -> None:
    earning_rule_set(
        actor=None,
        unit=world.a.community,
        activity_type=ActivityType.SANITATION,
        points_per_hour=10,
        daily_cap=25,
        monthly_cap=40,
    )
    earning_rule_set(
        actor=None, unit=world.a.community, activity_type=ActivityType.PATROL, points_per_time=8
    )
    amounts = [
        t.amount if t else 0
        for t in (earn(world, 120, "a"), earn(world, 120, "b"), earn(world, 60, "c"))
    ]
    assert amounts == [20, 5, 0]  # 25 a day
    assert earn(world, 120, "d", day=DAY + dt.timedelta(days=1)).amount == 15  # type: ignore[union-attr]
    assert earn(world, 120, "e", day=DAY + dt.timedelta(days=2)) is None  # 40 a month
    assert earn(world, 120, "f", day=dt.date(2026, 6, 1)).amount == 20  # type: ignore[union-attr]
    # Another activity type has its own caps.
    assert earn(world, 30, "g", kind=ActivityType.PATROL).amount == 8  # type: ignore[union-attr]


def test_a_community_without_its_own_rule_uses_the_nearest_above(world: World) -> None:
    earning_rule_set(
        actor=None, unit=world.a.street, activity_type=ActivityType.PATROL, points_per_time=3
    )
    rule = rule_for(unit=world.a.community, activity_type=ActivityType.PATROL)
    assert rule is not None and rule.unit == world.a.street
    earning_rule_set(
        actor=None, unit=world.a.community, activity_type=ActivityType.PATROL, points_per_time=4
    )
    assert earn(world, 60, "p", kind=ActivityType.PATROL).amount == 4  # type: ignore[union-attr]


def test_no_rule_no_points(world: World) -> None:
    assert earn(world, 60, "p", kind=ActivityType.TUTORING) is None
    assert not Transfer.objects.exists()


def test_points_come_only_from_a_record(world: World) -> None:
    earning_rule_set(
        actor=None, unit=world.a.community, activity_type=ActivityType.SANITATION, points_per_time=5
    )
    with pytest.raises(ValidationError, match="已确认的参与记录"):
        points_earn(
            person=world.a.person,
            activity_type=ActivityType.SANITATION,
            minutes=60,
            occurred_on=DAY,
            source_type="",
            source_id="",
        )
    assert not Transfer.objects.exists()


def test_rule_input_is_checked_and_scoped(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    with pytest.raises(ValidationError) as error:
        earning_rule_set(actor=staff, unit=world.a.community, activity_type=ActivityType.PATROL)
    assert error.value.field == "points_per_time"
    with pytest.raises(ValidationError) as error:
        earning_rule_set(
            actor=staff, unit=world.a.community, activity_type="dancing", points_per_time=1
        )
    assert error.value.field == "activity_type"
    with pytest.raises(ValidationError) as error:
        earning_rule_set(
            actor=staff,
            unit=world.a.community,
            activity_type=ActivityType.PATROL,
            points_per_time=1,
            daily_cap=10,
            monthly_cap=5,
        )
    assert error.value.field == "monthly_cap"
    with pytest.raises(PermissionDenied):
        earning_rule_set(
            actor=staff,
            unit=world.b.community,
            activity_type=ActivityType.PATROL,
            points_per_time=1,
        )
    assert not EarningRule.objects.exists()
