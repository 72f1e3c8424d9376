"""The demo builder on the real demo tree at a small scale: the network of the case study
is there, with a year of use, and it builds fast."""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

import pytest
from django.db.models import Sum

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.core import timeutils
from doorstep.orgs import demo as orgs_demo
from doorstep.people import demo as people_demo
from doorstep.people.models import Person
from doorstep.people.services import person_link_account
from doorstep.sites import demo
from doorstep.sites.models import (
    Booking,
    Enrolment,
    HolidayDay,
    Program,
    ServiceRecord,
    ServiceRequest,
    Settlement,
    Site,
)

pytestmark = pytest.mark.django_db


def test_the_demo_network_and_its_year() -> None:
    rng = random.Random(1)
    tree = orgs_demo.build(rng)
    people_demo.build(rng, tree, scale=0.02)
    partners = demo.build_partners(tree)
    users: list[Any] = [make_user("demo_resident_x", Role.RESIDENT), make_user("demo_staff_x")]
    # The demo resident lives with an elder: the household signs up online.
    elder = (
        Person.objects.filter(household__isnull=False, birth_date__lte=dt.date(1960, 1, 1))
        .order_by("id")
        .first()
    )
    assert elder is not None
    person_link_account(person=elder, user=users[0])
    started = time.perf_counter()
    out = demo.build(rng, tree, partners, users, scale=0.05, today=dt.date(2026, 11, 1))
    assert time.perf_counter() - started < 30
    # The demo year's holiday calendar, from the file shipped with the app.
    assert out.holidays == 39
    assert HolidayDay.objects.filter(kind="holiday").count() == 33
    workdays = HolidayDay.objects.filter(kind="workday").values_list("date", flat=True)
    assert [d.isoformat() for d in workdays] == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ]  # fmt: skip
    assert HolidayDay.objects.get(date=dt.date(2026, 2, 17)).name == "春节"
    area = out.sites["area_center"]
    assert area.level == "area_center" and area.unit.name == "大山坪片区"
    station = out.sites["jiale_station"]
    assert station.station_types.count() == 9
    assert station.hours.filter(extended=True, closes__hour=22).exists()
    assert station.hours.filter(day=7).exists()  # open on holidays
    assert {p.unit.name for p in partners.values()} == {"江悦社区"}
    assert (
        Site.objects.filter(level="home", parent__level="community_center").count() == 10
    )  # nine in 江阳区, one in 颐和
    assert set(Program.objects.values_list("kind", flat=True)) >= {
        "day_care",
        "short_stay",
        "rehabilitation",
        "after_school",
    }
    assert Program.objects.get(name="上平日间照料").site.name == "上平社区党群服务中心"
    household = Enrolment.objects.filter(
        person__household=elder.household, program__open_to_residents=True, status="active"
    )
    assert household.exists()
    # Classes take sign-ups online; care that needs an assessment stays with the staff.
    assert set(Program.objects.filter(open_to_residents=True).values_list("kind", flat=True)) == {
        "senior_university",
        "after_school",
        "summer_care",
    }
    assert Booking.objects.count() > 100
    # The staff book rooms for their groups; the resident books at their own center now
    # and then, with one booking coming up.
    mine = Booking.objects.filter(booked_by=users[0])
    assert 0 < mine.count() < Booking.objects.count() / 10
    assert set(mine.values_list("room__site__name", flat=True)) == {"颐和社区党群服务中心"}
    assert mine.filter(starts_at__gt=timeutils.now(), status="confirmed").exists()
    # Matters at the desks are registered for residents of the site's area, or unnamed;
    # the resident's own online requests are few and at their center.
    asked = ServiceRequest.objects.filter(requester=users[0])
    assert asked.count() < 30
    assert set(asked.values_list("site__name", flat=True)) <= {"颐和社区党群服务中心"}
    assert not ServiceRequest.objects.filter(requester=users[1]).exists()
    named = ServiceRequest.objects.filter(person__isnull=False)
    assert named.count() > ServiceRequest.objects.count() / 3
    pairs = named.values_list("person__unit__path", "site__unit__path")[:200]
    assert all(lives.startswith(serves) for lives, serves in pairs)
    assert ServiceRecord.objects.aggregate(n=Sum("person_times"))["n"] > 1000
    statement = Settlement.objects.filter(agreement__partner=partners["state_enterprise"]).first()
    assert (
        statement is not None
        and statement.gross_fen == statement.partner_fen + statement.community_fen > 0
    )
    assert (
        Settlement.objects.filter(agreement__partner=partners["state_enterprise"]).count() == 12
    )  # Nov 2025 – Oct 2026
