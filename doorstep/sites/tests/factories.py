"""Rows of the sites app for tests, made directly (the services are tested on their own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from doorstep.accounts.models import User
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.sites.choices import (
    ManagerKind,
    PartnerKind,
    Pricing,
    ProgramKind,
    RequestMode,
    RequestStatus,
    SiteLevel,
)
from doorstep.sites.models import (
    AppointmentSlot,
    Attendance,
    Booking,
    BookingSeries,
    Enrolment,
    Partner,
    PartnerService,
    Program,
    RevenueShare,
    Room,
    ServiceCategory,
    ServiceRecord,
    ServiceRequest,
    Settlement,
    Site,
)

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai


def category(code: str = "general") -> ServiceCategory:
    return ServiceCategory.objects.get(code=code)


def site(unit: Unit, name: str = "党群服务中心", **kwargs: Any) -> Site:
    defaults: dict[str, Any] = {
        "level": SiteLevel.COMMUNITY_CENTER,
        "lat": unit.lat if unit.lat is not None else 30.0,
        "lng": unit.lng if unit.lng is not None else 110.0,
        "address": f"{unit.name}1号",
        "manager_kind": ManagerKind.COMMUNITY,
        "manager_name": f"{unit.name}居委会",
    }
    defaults.update(kwargs)
    return Site.objects.create(unit=unit, name=name, **defaults)


def room(s: Site, name: str = "多功能室", capacity: int = 20) -> Room:
    return Room.objects.create(site=s, name=name, capacity=capacity)


def booking(r: Room, user: User, start: dt.datetime = T0, hours: int = 1) -> Booking:
    return Booking.objects.create(
        room=r,
        booked_by=user,
        purpose="议事",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
    )


def series(r: Room, user: User) -> BookingSeries:
    return BookingSeries.objects.create(
        room=r,
        booked_by=user,
        purpose="合唱排练",
        weekdays=[0],
        first_date=dt.date(2026, 3, 2),
        last_date=dt.date(2026, 3, 30),
        starts=dt.time(9),
        ends=dt.time(10),
    )


def slot(s: Site, capacity: int = 2) -> AppointmentSlot:
    return AppointmentSlot.objects.create(
        site=s,
        category=category(),
        service="社保卡办理",
        starts_at=T0,
        ends_at=T0 + dt.timedelta(minutes=30),
        capacity=capacity,
    )


def request(s: Site, user: User | None = None) -> ServiceRequest:
    return ServiceRequest.objects.create(
        site=s,
        category=category(),
        mode=RequestMode.PROXY,
        status=RequestStatus.SUBMITTED,
        matter="代办居住证",
        requester=user,
    )


def partner(unit: Unit, name: str = "绿益行社工") -> Partner:
    return Partner.objects.create(unit=unit, name=name, kind=PartnerKind.SOCIAL_ORG)


def partner_service(p: Partner, s: Site, pricing: str = Pricing.LOW_COST) -> PartnerService:
    return PartnerService.objects.create(
        partner=p,
        site=s,
        category=category("elderly"),
        name="助浴服务",
        pricing=pricing,
        price_fen=0 if pricing == Pricing.FREE else 2000,
    )


def agreement(p: Partner, s: Site, bp: int = 7000) -> RevenueShare:
    return RevenueShare.objects.create(
        partner=p, site=s, partner_share_bp=bp, valid_from=dt.date(2026, 1, 1)
    )


def settlement(a: RevenueShare) -> Settlement:
    return Settlement.objects.create(
        agreement=a,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 31),
        records=1,
        gross_fen=1000,
        partner_fen=700,
        community_fen=300,
    )


def program(s: Site, capacity: int = 10, p: Partner | None = None) -> Program:
    return Program.objects.create(
        site=s,
        kind=ProgramKind.AFTER_SCHOOL,
        name="爱心课堂",
        category=category("education"),
        partner=p,
        capacity=capacity,
        starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 6, 30),
    )


def enrolment(prog: Program, person: Person) -> Enrolment:
    return Enrolment.objects.create(program=prog, person=person, enrolled_on=dt.date(2026, 3, 1))


def attendance(e: Enrolment) -> Attendance:
    return Attendance.objects.create(enrolment=e, date=dt.date(2026, 3, 2))


def record(s: Site, ps: PartnerService | None = None) -> ServiceRecord:
    return ServiceRecord.objects.create(
        site=s, category=category(), delivered_at=timezone.now(), partner_service=ps
    )
