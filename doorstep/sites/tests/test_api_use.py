"""The REST API as a resident's phone app uses it: what a site offers (rooms, open slots,
programs), booking a room once or every week and cancelling, asking for service by
appointment or by proxy and cancelling, and their own enrolments. Each bad input is a
400 that names the field (in Chinese or English) and changes nothing; another person's
rows are 404; an action the service forbids on a visible row is 403."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.people.models import Person
from doorstep.sites.choices import ProgramKind
from doorstep.sites.models import (
    AppointmentSlot,
    Booking,
    BookingSeries,
    Enrolment,
    RequestEvent,
    ServiceRecord,
    ServiceRequest,
)
from doorstep.sites.services import (
    program_create,
    program_enrol,
    room_create,
    site_hours_set,
    slot_create,
)

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)  # a Monday morning
TUESDAY = dt.date(2026, 3, 3)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("doorstep.core.timeutils.now", lambda: NOW)


def client_for(user: Any = None, language: str = "zh-hans") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user)
    return client


def at(day: dt.date, hh: int, mm: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=LOCAL_TZ).isoformat()


def merged(body: dict[str, Any], changes: Any) -> dict[str, Any]:
    return {**body, **changes}


def refused(response: Any, field: str | None, status: int = 400, text: str = "") -> str:
    """The first error's message, after checking the status and the field it names."""
    assert response.status_code == status, response.content.decode()
    error = response.json()["errors"][0]
    assert error["field"] == field, error
    assert text in error["message"], error
    return str(error["message"])


def counts() -> tuple[int, ...]:
    return (
        Booking.objects.count(),
        BookingSeries.objects.count(),
        ServiceRequest.objects.count(),
        RequestEvent.objects.count(),
        ServiceRecord.objects.count(),
        Enrolment.objects.count(),
        sum(AppointmentSlot.objects.values_list("booked", flat=True)),
    )


@pytest.fixture
def place(world: Any) -> dict[str, Any]:
    """A community center open on weekdays, with a room for residents, a staff-only
    office, an appointment slot on Tuesday and an after-school class."""
    staff = world.user(Role.COMMUNITY_STAFF)
    site = f.site(world.a.community)
    site_hours_set(
        actor=staff, site=site,
        intervals=[(d, "08:30", "12:00") for d in range(5)] + [(d, "14:00", "21:00") for d in range(5)],
    )  # fmt: skip
    room = room_create(
        actor=staff, site=site, name="活动室", capacity=10, functions=["general", "culture_sports"]
    )
    office = room_create(
        actor=staff, site=site, name="党员活动室", capacity=30, bookable_by_residents=False
    )
    slot = slot_create(
        actor=staff, site=site, category="employment", service="就业登记",
        starts_at=dt.datetime.combine(TUESDAY, dt.time(9), tzinfo=LOCAL_TZ),
        ends_at=dt.datetime.combine(TUESDAY, dt.time(9, 30), tzinfo=LOCAL_TZ), capacity=2,
    )  # fmt: skip
    program = program_create(
        actor=staff, site=site, kind=ProgramKind.AFTER_SCHOOL, name="爱心课堂",
        category="education", capacity=1, starts_on=dt.date(2026, 2, 1),
        ends_on=dt.date(2026, 6, 30),
    )  # fmt: skip
    return {"site": site, "room": room, "office": office, "slot": slot, "program": program}


def test_what_a_site_offers_is_public_and_staff_see_every_room(
    world: Any, place: dict[str, Any]
) -> None:
    site = place["site"]
    anyone = client_for()
    rooms = anyone.get(f"/api/v1/sites/{site.pk}/rooms/").json()
    assert rooms["count"] == 1
    assert rooms["results"][0] | {"id": 0} == {
        "id": 0, "site_id": site.pk, "name": "活动室", "capacity": 10,
        "functions": ["culture_sports", "general"], "bookable_by_residents": True, "is_active": True,
    }  # fmt: skip
    staff_rooms = client_for(world.user(Role.COMMUNITY_STAFF)).get(
        f"/api/v1/sites/{site.pk}/rooms/"
    )
    assert [r["name"] for r in staff_rooms.json()["results"]] == ["党员活动室", "活动室"]

    slots = anyone.get(f"/api/v1/sites/{site.pk}/slots/", {"date": "2026-03-03"}).json()
    assert [(s["service"], s["category"], s["remaining"]) for s in slots["results"]] == [
        ("就业登记", "employment", 2)
    ]
    assert (
        anyone.get(f"/api/v1/sites/{site.pk}/slots/", {"date": "2026-03-04"}).json()["count"] == 0
    )
    refused(anyone.get(f"/api/v1/sites/{site.pk}/slots/", {"date": "3月3日"}), "date", text="YYYY")
    refused(anyone.get(f"/api/v1/sites/{site.pk}/slots/", {"category": "x"}), "category")

    programs = anyone.get(f"/api/v1/sites/{site.pk}/programs/", {"audience": "young"}).json()
    assert [(p["name"], p["audience"], p["remaining"]) for p in programs["results"]] == [
        ("爱心课堂", "young", 1)
    ]
    assert (
        anyone.get(f"/api/v1/sites/{site.pk}/programs/", {"audience": "old"}).json()["count"] == 0
    )
    refused(anyone.get(f"/api/v1/sites/{site.pk}/programs/", {"kind": "cinema"}), "kind")

    site.is_active = False
    site.save(update_fields=["is_active"])
    for what in ("rooms", "slots", "programs"):
        assert anyone.get(f"/api/v1/sites/{site.pk}/{what}/").status_code == 404
    assert anyone.get("/api/v1/sites/999999/rooms/").status_code == 404


def test_resident_books_once_and_weekly_and_cancels(world: Any, place: dict[str, Any]) -> None:
    resident = world.user(Role.RESIDENT)
    client = client_for(resident)
    room = place["room"]
    body = {"room": room.pk, "starts_at": at(TUESDAY, 9), "ends_at": at(TUESDAY, 10),
            "purpose": "读书会", "attendees": 6}  # fmt: skip
    created = client.post("/api/v1/site-bookings/", body, format="json")
    assert created.status_code == 201, created.content
    booking = created.json()
    assert (booking["room_id"], booking["status"], booking["series_id"]) == (
        room.pk,
        "confirmed",
        None,
    )
    # Sending the same booking again (a double tap) books nothing more.
    before = counts()
    refused(
        client.post("/api/v1/site-bookings/", body, format="json"), "starts_at", 409, "已有预订"
    )
    assert counts() == before

    series_body = {"room": room.pk, "purpose": "合唱排练", "weekdays": [2], "first_date": "2026-03-02",
                   "last_date": "2026-03-31", "starts": "15:00", "ends": "16:30", "attendees": 8}  # fmt: skip
    series = client.post("/api/v1/site-booking-series/", series_body, format="json")
    assert series.status_code == 201, series.content
    days = [b["starts_at"][:10] for b in series.json()["bookings"]]
    assert days == ["2026-03-04", "2026-03-11", "2026-03-18", "2026-03-25"]
    before = counts()
    # Every occurrence is checked first: one clash books none, and says which.
    refused(client.post("/api/v1/site-booking-series/", series_body | {"purpose": "再订一次"},
                        format="json"), "starts_at", 409, "2026-03-04 15:00")  # fmt: skip
    for bad, field in [
        ({"weekdays": [7]}, "weekdays"),
        ({"weekdays": []}, "weekdays"),
        ({"starts": "25:00"}, "starts"),
        ({"ends": "14:00"}, "ends"),
        ({"last_date": "2026-02-01"}, "last_date"),
        ({"first_date": "9999-01-01"}, "first_date"),
        ({"interval_weeks": 9}, "interval_weeks"),
        ({"attendees": 11}, "attendees"),
        ({"starts": "21:00", "ends": "22:00"}, "starts_at"),  # not when the site is open
        ({"purpose": ""}, "purpose"),
    ]:
        refused(
            client.post("/api/v1/site-booking-series/", merged(series_body, bad), format="json"),
            field,
        )
    assert counts() == before
    # A staff-only room does not exist for a resident.
    office = series_body | {"room": place["office"].pk}
    assert client.post("/api/v1/site-booking-series/", office, format="json").status_code == 404

    mine = client.get("/api/v1/site-bookings/", {"upcoming": "1"}).json()
    assert mine["count"] == 5
    assert client.get("/api/v1/site-booking-series/").json()["count"] == 1
    # Another resident sees none of it, and cannot cancel it.
    neighbour = client_for(world.user(Role.BUILDING_LEADER))
    assert neighbour.get("/api/v1/site-bookings/").json()["count"] == 0
    assert neighbour.get("/api/v1/site-booking-series/").json()["count"] == 0
    cancel = f"/api/v1/site-bookings/{booking['id']}/cancel/"
    assert neighbour.post(cancel, {}, format="json").status_code == 404
    refused(client.post(cancel, {"note": "x" * 201}, format="json"), "note")
    assert Booking.objects.get(pk=booking["id"]).status == "confirmed"
    done = client.post(cancel, {"note": "改期"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    refused(client.post(cancel, {}, format="json"), "status", 409)
    assert list(Booking.objects.get(pk=booking["id"]).events.values_list("action", flat=True)) == [
        "booked", "cancelled",
    ]  # fmt: skip


def test_resident_asks_by_appointment_and_proxy_and_sees_only_their_own(
    world: Any, place: dict[str, Any]
) -> None:
    resident = world.user(Role.RESIDENT)
    client = client_for(resident)
    site, slot = place["site"], place["slot"]
    before = counts()
    for body, field, status in [
        ({"site": site.pk, "mode": "walk_in", "category": "general", "matter": "x"}, "mode", 400),
        ({"site": site.pk, "mode": "appointment", "category": "general", "matter": "x"}, "slot", 400),
        ({"site": site.pk, "mode": "proxy", "category": "no-such", "matter": "x"}, "category", 400),
        ({"site": site.pk, "mode": "proxy", "category": "general", "matter": "  "}, "matter", 400),
        ({"site": site.pk, "mode": "proxy", "category": "general", "matter": "x",
          "documents": [f"材料{i}" for i in range(31)]}, "documents", 400),
        ({"site": "甲", "mode": "proxy", "category": "general", "matter": "x"}, "site", 400),
        ({"site": site.pk, "mode": "on_receipt", "category": "general", "matter": "x"}, "mode", 403),
        ({"site": 999999, "mode": "proxy", "category": "general", "matter": "x"}, None, 404),
    ]:  # fmt: skip
        refused(client.post("/api/v1/site-requests/", body, format="json"), field, status)
    assert counts() == before
    english = refused(
        client_for(resident, "en").post(
            "/api/v1/site-requests/",
            {"site": site.pk, "mode": "appointment", "category": "general", "matter": "x"},
            format="json",
        ),
        "slot",
    )
    assert english == "Choose an appointment slot."

    # An appointment takes the slot's service and category; a place is taken, once
    # however often the phone sends it with its key.
    booked = client.post(
        "/api/v1/site-requests/", {"site": site.pk, "mode": "appointment", "slot": slot.pk},
        format="json", HTTP_IDEMPOTENCY_KEY="appt-1",
    )  # fmt: skip
    assert booked.status_code == 201, booked.content
    resent = client.post(
        "/api/v1/site-requests/", {"site": site.pk, "mode": "appointment", "slot": slot.pk},
        format="json", HTTP_IDEMPOTENCY_KEY="appt-1",
    )  # fmt: skip
    assert resent.status_code == 200 and resent.json()["id"] == booked.json()["id"]
    reused = client.post(
        "/api/v1/site-requests/",
        {"site": site.pk, "mode": "proxy", "category": "general", "matter": "代办"},
        format="json", HTTP_IDEMPOTENCY_KEY="appt-1",
    )  # fmt: skip
    refused(reused, "idempotency_key", 409)
    appointment = booked.json()
    assert (appointment["matter"], appointment["category_code"], appointment["status"]) == (
        "就业登记", "employment", "booked",
    )  # fmt: skip
    assert appointment["mine"] and appointment["next_statuses"] == ["cancelled"]
    slots = client.get(f"/api/v1/sites/{site.pk}/slots/").json()["results"]
    assert slots[0]["remaining"] == 1
    proxy = client.post(
        "/api/v1/site-requests/",
        {"site": site.pk, "mode": "proxy", "category": "general", "matter": "代办老年优待证",
         "documents": ["身份证复印件", "一寸照片", "身份证复印件"], "note": "下午来取"},
        format="json",
    ).json()  # fmt: skip
    assert [d["name"] for d in proxy["documents"]] == ["身份证复印件", "一寸照片"]
    # The slot fills up: the third person is told so and nothing changes.
    client_for(world.user(Role.GRID_MEMBER)).post(
        "/api/v1/site-requests/", {"site": site.pk, "mode": "appointment", "slot": slot.pk},
        format="json",
    )  # fmt: skip
    before = counts()
    full = client_for(world.user(Role.BUILDING_LEADER)).post(
        "/api/v1/site-requests/", {"site": site.pk, "mode": "appointment", "slot": slot.pk},
        format="json",
    )  # fmt: skip
    refused(full, "slot", 409, "约满")
    assert counts() == before

    mine = client.get("/api/v1/site-requests/").json()
    assert [r["id"] for r in mine["results"]] == [proxy["id"], appointment["id"]]
    assert client.get("/api/v1/site-requests/", {"mode": "proxy"}).json()["count"] == 1
    refused(client.get("/api/v1/site-requests/", {"status": "lost"}), "status")
    refused(client.get("/api/v1/site-requests/", {"site": "one"}), "site")
    others = ServiceRequest.objects.exclude(requester=resident).get()
    assert client.get(f"/api/v1/site-requests/{others.pk}/").status_code == 404
    move = f"/api/v1/site-requests/{others.pk}/transition/"
    assert client.post(move, {"status": "cancelled"}, format="json").status_code == 404

    # The resident may cancel their own open request, and do nothing else to it.
    own = f"/api/v1/site-requests/{proxy['id']}/transition/"
    refused(client.post(own, {"status": "accepted"}, format="json"), None, 403)
    refused(client.post(own, {"status": "closed"}, format="json"), "status")
    documents = f"/api/v1/site-requests/{proxy['id']}/documents/"
    refused(client.post(documents, {"received": ["一寸照片"]}, format="json"), None, 403)
    assert ServiceRequest.objects.get(pk=proxy["id"]).status == "submitted"
    cancelled = client.post(
        f"/api/v1/site-requests/{appointment['id']}/transition/", {"status": "cancelled"},
        format="json",
    )  # fmt: skip
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["next_statuses"] == []
    assert AppointmentSlot.objects.get(pk=slot.pk).booked == 1
    refused(
        client.post(f"/api/v1/site-requests/{appointment['id']}/transition/",
                    {"status": "cancelled"}, format="json"),
        "status", 409,
    )  # fmt: skip


def test_resident_sees_their_enrolments_and_withdraws_but_staff_enrol(
    world: Any, place: dict[str, Any]
) -> None:
    resident = world.user(Role.RESIDENT)
    Person.objects.filter(pk=world.a.person.pk).update(user=resident)
    staff = world.user(Role.COMMUNITY_STAFF)
    program = place["program"]
    enrolment = program_enrol(actor=staff, program_id=program.pk, person=world.a.person)
    client = client_for(resident)
    mine = client.get("/api/v1/site-enrolments/").json()
    assert [(e["program"], e["person_id"], e["status"]) for e in mine["results"]] == [
        ("爱心课堂", world.a.person.pk, "active")
    ]
    assert (
        client_for(world.user(Role.BUILDING_LEADER)).get("/api/v1/site-enrolments/").json()["count"]
        == 0
    )
    full = client.get(f"/api/v1/sites/{place['site'].pk}/programs/", {"available": "1"})
    assert full.json()["count"] == 0
    # Enrolling and withdrawing are the site staff's (services.program_enrol / _withdraw).
    before = counts()
    not_theirs = refused(
        client_for(resident, "en").post(
            "/api/v1/site-enrolments/", {"program": program.pk, "person": world.a.person.pk},
            format="json",
        ),
        "program",
    )  # fmt: skip
    assert not_theirs == "Not found, or outside what you manage."
    english = refused(
        client_for(resident, "en").post(
            "/api/v1/site-enrolments/", {"program": program.pk, "person": 2**70}, format="json"
        ),
        "person",
    )
    assert "less than or equal to" in english
    # The program is staff-only: a resident cannot sign up online either.
    refused(
        client.post(
            f"/api/v1/site-programs/{program.pk}/enrol/", {"person": world.a.person.pk},
            format="json",
        ),
        "program",
    )  # fmt: skip
    assert counts() == before
    assert Enrolment.objects.get(pk=enrolment.pk).status == "active"
    # Withdrawing their own enrolment is the resident's (services.program_self_withdraw).
    withdrawn = client.post(f"/api/v1/site-enrolments/{enrolment.pk}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    refused(client.post(f"/api/v1/site-enrolments/{enrolment.pk}/withdraw/"), "status", 409)
