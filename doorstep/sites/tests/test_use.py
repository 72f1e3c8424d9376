"""Using a site: rooms and bookings that never overlap (one-off and recurring), service
requests in the three modes with their states, slot capacity, person-times; programs
with capacity, enrolment and attendance; partners, agreements and settlements."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from doorstep.accounts.roles import Role
from doorstep.conftest import outsider
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.people.services import person_create
from doorstep.sites.choices import (
    TRANSITIONS,
    BookingStatus,
    PartnerKind,
    Pricing,
    ProgramKind,
    RequestMode,
    RequestStatus,
)
from doorstep.sites.models import (
    AppointmentSlot,
    Attendance,
    Booking,
    BookingSeries,
    Enrolment,
    Program,
    RequestEvent,
    ServiceRecord,
    ServiceRequest,
    Settlement,
)
from doorstep.sites.selectors import person_times
from doorstep.sites.services import (
    attendance_mark,
    booking_cancel,
    booking_create,
    booking_series_create,
    partner_create,
    partner_service_create,
    program_create,
    program_enrol,
    program_withdraw,
    record_create,
    request_documents_mark,
    request_submit,
    request_transition,
    revenue_share_create,
    room_create,
    settlement_issue,
    site_hours_set,
    slot_create,
)

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=LOCAL_TZ)  # a Sunday morning
MONDAY = dt.date(2026, 3, 2)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=LOCAL_TZ)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    state = {"now": NOW}
    monkeypatch.setattr("doorstep.core.timeutils.now", lambda: state["now"])
    return state


@pytest.fixture
def site(world: Any, clock: Any) -> Any:
    s = f.site(world.a.community)
    site_hours_set(
        actor=world.user(Role.COMMUNITY_STAFF), site=s,
        intervals=[(d, "08:30", "12:00") for d in range(5)] + [(d, "14:00", "21:00") for d in range(5)],
    )  # fmt: skip
    return s


@pytest.fixture
def room(world: Any, site: Any) -> Any:
    return room_create(
        actor=world.user(Role.COMMUNITY_STAFF), site=site, name="议事厅", capacity=12,
        functions=["general", "legal"],
    )  # fmt: skip


def book(user: Any, room: Any, start: dt.datetime, end: dt.datetime, **kw: Any) -> Booking:
    return booking_create(
        actor=user, room_id=room.pk, starts_at=start, ends_at=end, purpose="议事", **kw
    )


# --- Bookings --------------------------------------------------------------------------------


def test_bookings_never_overlap(world: Any, room: Any) -> None:
    resident = world.user(Role.RESIDENT)
    first = book(resident, room, at(MONDAY, 9), at(MONDAY, 10))
    assert first.events.get().action == "booked"
    book(resident, room, at(MONDAY, 10), at(MONDAY, 11))  # back to back is fine
    for start, end in [(9, 10), (9, 11), (8, 10), (9.5, 9.75)]:
        s = at(MONDAY, int(start), int(start % 1 * 60))
        e = at(MONDAY, int(end), int(end % 1 * 60))
        with pytest.raises(Conflict, match="已有预订") as caught:
            book(world.user(Role.COMMUNITY_STAFF), room, s, e)
        assert caught.value.field == "starts_at"
    assert Booking.objects.count() == 2
    booking_cancel(actor=resident, booking_id=first.pk)
    assert book(resident, room, at(MONDAY, 9), at(MONDAY, 10)).pk


def test_the_database_itself_refuses_an_overlap_on_postgresql(world: Any, room: Any) -> None:
    """On PostgreSQL the exclusion constraint stands even if the service's check is
    bypassed (two transactions racing); SQLite serializes writers instead (IMMEDIATE)."""
    resident = world.user(Role.RESIDENT)
    book(resident, room, at(MONDAY, 9), at(MONDAY, 10))
    clash = Booking(
        room=room, booked_by=resident, purpose="x", starts_at=at(MONDAY, 9, 30),
        ends_at=at(MONDAY, 10, 30),
    )  # fmt: skip
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            clash.save()
    else:
        from django.conf import settings

        assert settings.DATABASES["default"]["OPTIONS"].get("transaction_mode") == "IMMEDIATE"


@pytest.mark.parametrize(
    "start,end,kw,message,field",
    [
        ((MONDAY, 10), (MONDAY, 9), {}, "结束时间必须晚于开始时间", "ends_at"),
        ((MONDAY, 12, 30), (MONDAY, 13), {}, "不在阵地开放时间内", "starts_at"),
        ((MONDAY, 11), (MONDAY, 15), {}, "不在阵地开放时间内", "starts_at"),
        (
            (dt.date(2026, 3, 7), 9),
            (dt.date(2026, 3, 7), 10),
            {},
            "不在阵地开放时间内",
            "starts_at",
        ),
        ((dt.date(2026, 2, 27), 9), (dt.date(2026, 2, 27), 10), {}, "过去", "starts_at"),
        ((MONDAY, 9), (MONDAY, 10), {"attendees": 13}, "人数应在 1 到 12 之间", "attendees"),
    ],
)
def test_bad_bookings_are_refused(
    world: Any, room: Any, start: Any, end: Any, kw: Any, message: str, field: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        book(world.user(Role.RESIDENT), room, at(*start), at(*end), **kw)
    assert caught.value.field == field
    assert not Booking.objects.exists()


def test_a_room_not_open_to_residents_is_not_found_for_them(world: Any, site: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    office = room_create(
        actor=staff, site=site, name="党员活动室", capacity=30, bookable_by_residents=False
    )
    with pytest.raises(NotFound):
        book(world.user(Role.RESIDENT), office, at(MONDAY, 9), at(MONDAY, 10))
    # Staff book outside opening hours too (an evening party meeting).
    assert book(staff, office, at(MONDAY, 21, 30), at(MONDAY, 22, 30)).pk


def test_recurring_bookings_all_or_nothing(world: Any, room: Any) -> None:
    resident = world.user(Role.RESIDENT)
    book(resident, room, at(dt.date(2026, 3, 16), 9), at(dt.date(2026, 3, 16), 10))
    with pytest.raises(Conflict, match="2026-03-16 09:00"):
        booking_series_create(
            actor=resident, room_id=room.pk, purpose="合唱", weekdays=[0, 2],
            first_date=MONDAY, last_date=dt.date(2026, 3, 31), starts="09:00", ends="10:00",
        )  # fmt: skip
    assert Booking.objects.count() == 1 and not BookingSeries.objects.exists()
    series = booking_series_create(
        actor=resident, room_id=room.pk, purpose="合唱", weekdays=[1, 3], interval_weeks=2,
        first_date=MONDAY, last_date=dt.date(2026, 3, 31), starts="15:00", ends="16:30",
    )  # fmt: skip
    days = [b.starts_at.astimezone(LOCAL_TZ).date().isoformat() for b in series.bookings.all()]
    assert days == ["2026-03-03", "2026-03-05", "2026-03-17", "2026-03-19", "2026-03-31"]
    with pytest.raises(ValidationError, match="至少一天") as caught:
        booking_series_create(
            actor=resident, room_id=room.pk, purpose="x", weekdays=[], first_date=MONDAY,
            last_date=MONDAY, starts="09:00", ends="10:00",
        )  # fmt: skip
    assert caught.value.field == "weekdays"


def test_cancelling_is_for_the_booker_or_the_site_staff(world: Any, room: Any) -> None:
    booking = book(world.user(Role.RESIDENT), room, at(MONDAY, 9), at(MONDAY, 10))
    with pytest.raises(Exception) as caught:
        booking_cancel(actor=outsider(world), booking_id=booking.pk)
    assert caught.type.__name__ == "Http404"
    cancelled = booking_cancel(actor=world.user(Role.COMMUNITY_STAFF), booking_id=booking.pk)
    assert cancelled.status == BookingStatus.CANCELLED
    assert list(cancelled.events.values_list("action", flat=True)) == ["booked", "cancelled"]
    with pytest.raises(Conflict):
        booking_cancel(actor=world.user(Role.RESIDENT), booking_id=booking.pk)


# --- Requests ------------------------------------------------------------------------------


def test_handled_on_receipt_is_done_at_once_with_a_record(world: Any, site: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    req = request_submit(
        actor=staff, site_id=site.pk, category="general", mode=RequestMode.ON_RECEIPT,
        matter="开具居住证明", person=world.a.person,
    )  # fmt: skip
    assert req.status == RequestStatus.DONE and req.done_at == NOW
    assert req.record.person_times == 1
    with pytest.raises(PermissionDenied, match="接件即办"):
        request_submit(
            actor=world.user(Role.RESIDENT), site_id=site.pk, category="general",
            mode=RequestMode.ON_RECEIPT, matter="x",
        )  # fmt: skip


def test_appointments_respect_slot_capacity(world: Any, site: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    slot = slot_create(
        actor=staff, site=site, category="employment", service="就业登记",
        starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 9, 30), capacity=2,
    )  # fmt: skip
    resident = world.user(Role.RESIDENT)

    def appoint(user: Any) -> ServiceRequest:
        return request_submit(
            actor=user, site_id=site.pk, category="employment", mode=RequestMode.APPOINTMENT,
            matter="就业登记", slot_id=slot.pk,
        )  # fmt: skip

    first = appoint(resident)
    appoint(world.user(Role.GRID_MEMBER))
    with pytest.raises(Conflict, match="已约满") as caught:
        appoint(world.user(Role.BUILDING_LEADER))
    assert caught.value.field == "slot"
    assert ServiceRequest.objects.count() == 2
    request_transition(actor=resident, request_id=first.pk, to_status=RequestStatus.CANCELLED)
    slot.refresh_from_db()
    assert slot.booked == 1
    third = appoint(world.user(Role.BUILDING_LEADER))
    request_transition(actor=staff, request_id=third.pk, to_status=RequestStatus.DONE)
    assert ServiceRecord.objects.filter(request=third).exists()
    with pytest.raises(ValidationError, match="请选择预约时段"):
        request_submit(
            actor=resident, site_id=site.pk, category="general", mode=RequestMode.APPOINTMENT,
            matter="x",
        )  # fmt: skip


def test_an_appointment_sent_twice_with_its_key_is_one_request(
    world: Any, site: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double tap or a retry on a bad network: the same key from the same user gives
    back the first request and takes no second place; the key used for something else
    is refused; another user's key is theirs alone. A send that loses the race to the
    database's unique index gives back the winner and its place in the slot stays one."""
    from doorstep.sites import services

    staff = world.user(Role.COMMUNITY_STAFF)
    slot = slot_create(
        actor=staff, site=site, category="employment", service="就业登记",
        starts_at=at(MONDAY, 9), ends_at=at(MONDAY, 9, 30), capacity=5,
    )  # fmt: skip
    resident = world.user(Role.RESIDENT)

    def appoint(user: Any, key: str, slot_id: int = slot.pk) -> ServiceRequest:
        return request_submit(
            actor=user, site_id=site.pk, category="employment", mode=RequestMode.APPOINTMENT,
            matter="就业登记", slot_id=slot_id, idempotency_key=key,
        )  # fmt: skip

    first = appoint(resident, "tap-1")
    again = appoint(resident, "tap-1")
    assert again.pk == first.pk and getattr(again, "replayed", False)
    slot.refresh_from_db()
    assert slot.booked == 1 and ServiceRequest.objects.count() == 1
    other_slot = slot_create(
        actor=staff, site=site, category="employment", service="就业登记",
        starts_at=at(MONDAY, 10), ends_at=at(MONDAY, 10, 30), capacity=5,
    )  # fmt: skip
    with pytest.raises(Conflict) as caught:
        appoint(resident, "tap-1", other_slot.pk)
    assert caught.value.field == "idempotency_key"
    other_slot.refresh_from_db()
    assert other_slot.booked == 0
    with pytest.raises(ValidationError) as bad:
        appoint(resident, "x" * 65)
    assert bad.value.field == "idempotency_key"
    neighbour = appoint(world.user(Role.GRID_MEMBER), "tap-1")  # same key, another user
    assert neighbour.pk != first.pk
    # The race: the look-up misses a request committed a moment later by the other send.
    monkeypatch.setattr(services, "_sent_before", lambda submitter, key: None)
    raced = appoint(resident, "tap-1")
    assert raced.pk == first.pk and getattr(raced, "replayed", False)
    slot.refresh_from_db()
    assert slot.booked == 2  # the resident's one place and the neighbour's
    assert ServiceRequest.objects.count() == 2


def test_proxy_requests_follow_their_checklist_and_states(world: Any, site: Any) -> None:
    resident = world.user(Role.RESIDENT)
    staff = world.user(Role.COMMUNITY_STAFF)
    req = request_submit(
        actor=resident, site_id=site.pk, category="general", mode=RequestMode.PROXY,
        matter="代办老年优待证", documents=["身份证复印件", "一寸照片", "身份证复印件"],
    )  # fmt: skip
    assert [d["name"] for d in req.documents] == ["身份证复印件", "一寸照片"]
    with pytest.raises(PermissionDenied):
        request_transition(actor=resident, request_id=req.pk, to_status=RequestStatus.ACCEPTED)
    request_transition(actor=staff, request_id=req.pk, to_status=RequestStatus.ACCEPTED)
    with pytest.raises(ValidationError, match="材料未齐：一寸照片") as caught:
        request_documents_mark(actor=staff, request_id=req.pk, received=["身份证复印件"])
        request_transition(actor=staff, request_id=req.pk, to_status=RequestStatus.IN_PROGRESS)
    assert caught.value.field == "documents"
    with pytest.raises(ValidationError, match="清单中没有这些材料"):
        request_documents_mark(actor=staff, request_id=req.pk, received=["户口本"])
    request_documents_mark(actor=staff, request_id=req.pk, received=["一寸照片"])
    request_transition(actor=staff, request_id=req.pk, to_status=RequestStatus.IN_PROGRESS)
    with pytest.raises(Conflict, match="不能从"):
        request_transition(actor=staff, request_id=req.pk, to_status=RequestStatus.ACCEPTED)
    done = request_transition(actor=staff, request_id=req.pk, to_status=RequestStatus.DONE)
    assert done.done_at == NOW
    assert list(RequestEvent.objects.filter(request=req).values_list("to_status", flat=True)) == [
        "submitted", "accepted", "in_progress", "done",
    ]  # fmt: skip


def test_every_transition_in_the_table_is_reachable_and_others_refused(
    world: Any, site: Any
) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    for mode, table in TRANSITIONS.items():
        for source, targets in table.items():
            for target in RequestStatus.values:
                req = f.request(site)
                ServiceRequest.objects.filter(pk=req.pk).update(
                    mode=mode, status=source, documents=[]
                )
                if target in targets:
                    note = "材料不符" if target == RequestStatus.RETURNED else ""
                    moved = request_transition(
                        actor=staff, request_id=req.pk, to_status=target, note=note
                    )
                    assert moved.status == target
                else:
                    with pytest.raises(Conflict):
                        request_transition(actor=staff, request_id=req.pk, to_status=target)
                    req.refresh_from_db()
                    assert req.status == source


def test_person_times_by_site_category_level_and_month(world: Any, site: Any, clock: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    record_create(actor=staff, site=site, category="elderly", person_times=30,
                  delivered_at=at(dt.date(2026, 1, 10), 10))  # fmt: skip
    record_create(actor=staff, site=site, category="general", person_times=12,
                  delivered_at=at(dt.date(2026, 2, 3), 10))  # fmt: skip
    by_cat = person_times(
        actor=staff, start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 28), by="category"
    )
    assert [(r["label"], r["person_times"]) for r in by_cat] == [("养老", 30), ("综合", 12)]
    by_month = person_times(
        actor=staff, start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 28), by="month"
    )
    assert [(r["key"], r["person_times"]) for r in by_month] == [("2026-01", 30), ("2026-02", 12)]
    by_level = person_times(
        actor=staff, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31), by="level"
    )
    assert [(r["label"], r["person_times"]) for r in by_level] == [("社区党群服务中心", 30)]
    assert (
        person_times(actor=outsider(world), start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
        == []
    )
    with pytest.raises(ValidationError, match="人次至少为 1"):
        record_create(actor=staff, site=site, category="general", person_times=0)


# --- Programs ------------------------------------------------------------------------------


def test_programs_enrol_to_capacity_and_count_attendance(world: Any, site: Any, clock: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    program = program_create(
        actor=staff, site=site, kind=ProgramKind.AFTER_SCHOOL, name="爱心课堂", category="education",
        capacity=2, starts_on=dt.date(2026, 2, 1), ends_on=dt.date(2026, 6, 30),
    )  # fmt: skip
    kids = [
        person_create(name=f"学生{i}", household=world.a.household, relation="child")
        for i in range(3)
    ]
    first = program_enrol(actor=staff, program_id=program.pk, person=kids[0])
    program_enrol(actor=staff, program_id=program.pk, person=kids[1])
    with pytest.raises(Conflict, match="名额已满"):
        program_enrol(actor=staff, program_id=program.pk, person=kids[2])
    with pytest.raises(Conflict, match="已报名"):
        program_enrol(actor=staff, program_id=program.pk, person=kids[0])
    program_withdraw(actor=staff, enrolment_id=first.pk)
    third = program_enrol(actor=staff, program_id=program.pk, person=kids[2])
    assert Program.objects.get(pk=program.pk).enrolled == 2
    active = list(
        Enrolment.objects.filter(program=program, status="active").values_list("pk", flat=True)
    )
    assert (
        attendance_mark(
            actor=staff, program_id=program.pk, date=dt.date(2026, 2, 27), enrolment_ids=active
        )
        == 2
    )
    assert (
        attendance_mark(
            actor=staff, program_id=program.pk, date=dt.date(2026, 2, 27), enrolment_ids=[third.pk]
        )
        == 0
    )
    assert Attendance.objects.count() == 2
    assert ServiceRecord.objects.get(program=program).person_times == 2
    with pytest.raises(ValidationError, match="未报名"):
        attendance_mark(
            actor=staff, program_id=program.pk, date=dt.date(2026, 2, 28), enrolment_ids=[first.pk]
        )
    with pytest.raises(ValidationError, match="将来"):
        attendance_mark(
            actor=staff, program_id=program.pk, date=dt.date(2026, 3, 2), enrolment_ids=active
        )
    assert Attendance.objects.count() == 2


# --- Partners ------------------------------------------------------------------------------


def test_partner_services_agreement_and_settlement(world: Any, site: Any, clock: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    partner = partner_create(
        actor=staff, name="某国有企业", kind=PartnerKind.STATE_ENTERPRISE, unit=world.a.community
    )
    with pytest.raises(ValidationError, match="须填写单价") as caught:
        partner_service_create(actor=staff, partner=partner, site=site, category="elderly",
                               name="助餐", pricing=Pricing.LOW_COST)  # fmt: skip
    assert caught.value.field == "price_fen"
    meals = partner_service_create(actor=staff, partner=partner, site=site, category="elderly",
                                   name="助餐", pricing=Pricing.LOW_COST, price_fen=1000)  # fmt: skip
    free = partner_service_create(actor=staff, partner=partner, site=site, category="health",
                                  name="义诊", pricing=Pricing.FREE)  # fmt: skip
    agreement = revenue_share_create(actor=staff, partner=partner, site=site, partner_share_bp=6667,
                                     valid_from=dt.date(2026, 1, 1))  # fmt: skip
    with pytest.raises(Conflict, match="同期协议"):
        revenue_share_create(actor=staff, partner=partner, site=site, partner_share_bp=5000,
                             valid_from=dt.date(2026, 2, 1))  # fmt: skip
    for day, amount in ((5, 1000), (20, 2001)):
        record_create(actor=staff, site=site, category="elderly", person_times=1,
                      delivered_at=at(dt.date(2026, 1, day), 12), partner_service=meals,
                      amount_fen=amount)  # fmt: skip
    record_create(actor=staff, site=site, category="health", person_times=5,
                  delivered_at=at(dt.date(2026, 1, 8), 9), partner_service=free)  # fmt: skip
    record_create(actor=staff, site=site, category="elderly", person_times=1,
                  delivered_at=at(dt.date(2026, 2, 2), 12), partner_service=meals, amount_fen=1000)  # fmt: skip
    with pytest.raises(ValidationError, match="只有低偿或有偿"):
        record_create(actor=staff, site=site, category="health", person_times=1,
                      partner_service=free, amount_fen=100)  # fmt: skip
    statement = settlement_issue(actor=staff, agreement_id=agreement.pk,
                                 period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 31))  # fmt: skip
    assert (statement.gross_fen, statement.partner_fen, statement.community_fen) == (
        3001,
        2000,
        1001,
    )
    assert statement.records == 7
    with pytest.raises(Conflict, match="已出具"):
        settlement_issue(actor=staff, agreement_id=agreement.pk,
                         period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 31))  # fmt: skip
    with pytest.raises(ValidationError, match="尚未结束"):
        settlement_issue(actor=staff, agreement_id=agreement.pk,
                         period_start=dt.date(2026, 2, 1), period_end=dt.date(2026, 3, 31))  # fmt: skip
    assert Settlement.objects.count() == 1


def test_a_partner_sees_its_own_settlements_only(world: Any, site: Any) -> None:
    from doorstep.accounts.scoping import scoped

    mine = world.a.extras["partner"]
    other = f.partner(world.a.community, "别家")
    f.settlement(f.agreement(mine, site))
    f.settlement(f.agreement(other, site))
    user = world.user(Role.PARTNER)
    assert [s.agreement.partner for s in scoped(user, Settlement)] == [mine]
    f.partner_service(mine, site)
    assert list(scoped(user, type(site))) == [site]
    assert AppointmentSlot.objects.count() == 0
