"""The REST API as site staff and integrators use it: the site directory (create, edit,
hours, closures), rooms and slots, the request queue with its transitions and
checklists, programs with enrolment and attendance, service records and person-times,
partners with their services, agreements and settlements, and the 15-minute circle.

Every write goes through its service. Bad input is a 400 naming the field and changes
nothing; a row in the path outside the caller's scope is 404; an action the service
forbids on a row the caller sees is 403; a create that must not happen twice is refused
the second time (409 or 400) and leaves one row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.conftest import outsider
from doorstep.core import geo
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.people.services import person_create
from doorstep.sites.choices import SiteLevel
from doorstep.sites.models import (
    AppointmentSlot,
    Attendance,
    Booking,
    Enrolment,
    OpeningHours,
    Partner,
    PartnerService,
    Program,
    RequestEvent,
    RevenueShare,
    Room,
    ServiceRecord,
    ServiceRequest,
    Settlement,
    Site,
    SiteClosure,
    SiteEvent,
)
from doorstep.sites.services import request_submit, site_hours_set

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)  # a Monday morning


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("doorstep.core.timeutils.now", lambda: NOW)


def client_for(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(user)
    return client


def merged(body: dict[str, Any], changes: Any) -> dict[str, Any]:
    return {**body, **changes}


def refused(response: Any, field: str | None, status: int = 400, text: str = "") -> None:
    assert response.status_code == status, response.content.decode()
    error = response.json()["errors"][0]
    assert error["field"] == field, error
    assert text in error["message"], error


def counts() -> tuple[int, ...]:
    models = (Site, SiteEvent, OpeningHours, SiteClosure, Room, AppointmentSlot, Booking,
              ServiceRequest, RequestEvent, ServiceRecord, Program, Enrolment, Attendance,
              Partner, PartnerService, RevenueShare, Settlement)  # fmt: skip
    return tuple(m.objects.count() for m in models)  # type: ignore[attr-defined]


def site_body(world: Any, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "甲社区党群服务中心", "level": SiteLevel.COMMUNITY_CENTER,
        "unit": world.a.community.pk, "lat": 28.88, "lng": 105.44, "datum": "gcj02",
        "address": "甲社区1号", "manager_kind": "community", "manager_name": "甲社区党委",
        "phone": "0830-1234567", "categories": ["general", "elderly"],
        "station_types": ["government"], "amenities": ["drinking_water", "wifi"],
    }  # fmt: skip
    body.update(overrides)
    return body


def test_staff_set_up_a_site_with_hours_closures_rooms_and_slots(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    before = counts()
    for overrides, field, status in [
        ({"unit": world.b.community.pk}, "unit", 400),
        ({"level": "palace"}, "level", 400),
        ({"level": SiteLevel.STATION}, "parent", 400),
        ({"parent": 999999}, "parent", 400),
        ({"categories": ["nonsense"]}, "categories", 400),
        ({"lat": "北纬"}, "lat", 400),
        ({"lat": 48.85, "lng": 2.35}, "location", 400),
        ({"datum": "mars"}, "datum", 400),
        ({"name": ""}, "name", 400),
        ({"unit": 2**70}, "unit", 400),
    ]:
        refused(client.post("/api/v1/site-directory/", site_body(world, **overrides),
                            format="json"), field, status)  # fmt: skip
    # A grid member sees the community but does not run its sites.
    refused(
        client_for(world.user(Role.GRID_MEMBER)).post(
            "/api/v1/site-directory/", site_body(world), format="json"
        ),
        "unit", 403,
    )  # fmt: skip
    assert counts() == before

    created = client.post("/api/v1/site-directory/", site_body(world), format="json")
    assert created.status_code == 201, created.content
    site = created.json()
    expected = geo.to_wgs84(28.88, 105.44, "gcj02")
    assert site["lat"] == pytest.approx(expected[0], abs=1e-6) and site["lat"] != 28.88
    assert (site["categories"], site["manages"], site["is_active"]) == (
        ["elderly", "general"], True, True,
    )  # fmt: skip
    before = counts()
    refused(client.post("/api/v1/site-directory/", site_body(world), format="json"), "name",
            text="同名")  # fmt: skip
    assert counts() == before
    listing = client.get("/api/v1/site-directory/", {"level": "community_center"}).json()
    assert [s["name"] for s in listing["results"]] == ["甲社区党群服务中心"]
    assert client.get("/api/v1/site-directory/", {"unit": world.a.compound.pk}).json()["count"] == 0
    assert client.get("/api/v1/site-directory/", {"unit": world.b.community.pk}).status_code == 404

    url = f"/api/v1/site-directory/{site['id']}/"
    changed = client.patch(url, {"phone": "0830-7654321", "description": "周末有书法课"},
                           format="json")  # fmt: skip
    assert changed.status_code == 200, changed.content
    assert changed.json()["phone"] == "0830-7654321"
    assert changed.json()["categories"] == ["elderly", "general"]  # untouched
    assert changed.json()["lat"] == site["lat"]  # kept coordinates are not converted again
    before = counts()
    refused(client.patch(url, {"lat": 28.9}, format="json"), "lng")
    refused(client.patch(url, {"party_org": world.b.party_org.pk}, format="json"), "party_org")
    refused(client.patch(url, {"level": SiteLevel.HOME}, format="json"), "parent")
    assert counts() == before
    assert client.get(url).json()["description"] == "周末有书法课"

    hours_url = f"{url}hours/"
    week = [{"day": d, "opens": "08:30", "closes": "12:00"} for d in range(5)] + [
        {"day": 5, "opens": "18:00", "closes": "21:00", "extended": True}
    ]
    set_hours = client.put(hours_url, {"hours": week}, format="json")
    assert set_hours.status_code == 200, set_hours.content
    assert [(h["day_label"], h["extended"]) for h in set_hours.json()][-1] == ("周六", True)
    before = counts()
    refused(client.put(hours_url, {"hours": [{"day": 0, "opens": "25:00", "closes": "12:00"}]},
                       format="json"), "hours")  # fmt: skip
    refused(client.put(hours_url, {"hours": [{"day": 0, "opens": "09:00", "closes": "08:00"}]},
                       format="json"), "hours")  # fmt: skip
    refused(client.put(hours_url, {"hours": [{"day": 8, "opens": "09:00", "closes": "10:00"}]},
                       format="json"), "hours.day")  # fmt: skip
    closure_url = f"{url}closures/"
    refused(client.post(closure_url, {"starts_on": "2026-05-05", "ends_on": "2026-05-01",
                                      "reason": "装修"}, format="json"), "ends_on")  # fmt: skip
    assert counts() == before
    closure = client.post(closure_url, {"starts_on": "2026-05-01", "ends_on": "2026-05-05",
                                        "reason": "值班", "opens": "09:00", "closes": "12:00"},
                          format="json")  # fmt: skip
    assert closure.status_code == 201 and closure.json()["opens"] == "09:00:00"

    rooms_url = f"/api/v1/sites/{site['id']}/rooms/"
    before = counts()
    for body, field in [
        ({"name": "书画室", "capacity": 0}, "capacity"),
        ({"name": "书画室", "capacity": 12, "functions": ["painting"]}, "functions"),
        ({"name": "", "capacity": 12}, "name"),
    ]:
        refused(client.post(rooms_url, body, format="json"), field)
    refused(client_for(world.user(Role.GRID_MEMBER)).post(
        rooms_url, {"name": "书画室", "capacity": 12}, format="json"), None, 403)  # fmt: skip
    assert counts() == before
    room = client.post(rooms_url, {"name": "书画室", "capacity": 12,
                                   "functions": ["culture_sports"]}, format="json")  # fmt: skip
    assert room.status_code == 201, room.content
    room_id = room.json()["id"]
    Booking.objects.create(
        room_id=room_id, booked_by=staff, purpose="书法课", attendees=10,
        starts_at=NOW + dt.timedelta(days=1), ends_at=NOW + dt.timedelta(days=1, hours=1),
    )  # fmt: skip
    refused(client.patch(f"/api/v1/site-rooms/{room_id}/", {"capacity": 8}, format="json"),
            "capacity", text="10")  # fmt: skip
    edited = client.patch(
        f"/api/v1/site-rooms/{room_id}/", {"capacity": 16, "bookable_by_residents": False},
        format="json",
    )  # fmt: skip
    assert edited.status_code == 200
    assert (edited.json()["capacity"], edited.json()["functions"]) == (16, ["culture_sports"])
    assert client_for(world.user(Role.RESIDENT)).get(rooms_url).json()["count"] == 0

    slots_url = f"/api/v1/sites/{site['id']}/slots/"
    slot = {"category": "employment", "service": "就业登记", "starts_at": "2026-03-03T09:00",
            "ends_at": "2026-03-03T09:30", "capacity": 3}  # fmt: skip
    before = counts()
    for bad, field in [
        ({"ends_at": "2026-03-03T08:00"}, "ends_at"),
        ({"category": "cooking"}, "category"),
        ({"starts_at": "2026-13-01T09:00"}, "starts_at"),
        ({"capacity": -1}, "capacity"),
    ]:
        refused(client.post(slots_url, merged(slot, bad), format="json"), field)
    assert counts() == before
    made = client.post(slots_url, slot, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["starts_at"] == "2026-03-03T09:00:00+08:00"
    assert made.json()["remaining"] == 3
    history = SiteEvent.objects.filter(site_id=site["id"]).order_by("at", "id")
    assert list(history.values_list("object_type", "action")) == [
        ("site", "created"), ("site", "updated"), ("site", "hours_set"),
        ("siteclosure", "closure_added"), ("room", "created"), ("room", "updated"),
        ("appointmentslot", "created"),
    ]  # fmt: skip


def test_staff_work_the_request_queue(world: Any, django_assert_max_num_queries: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    site = f.site(world.a.community)
    other_site = f.site(world.b.community)
    resident = world.user(Role.RESIDENT)
    proxy = request_submit(
        actor=resident, site_id=site.pk, category="general", mode="proxy", matter="代办居住证",
        documents=["身份证", "照片"],
    )  # fmt: skip
    request_submit(actor=resident, site_id=other_site.pk, category="general", mode="proxy",
                   matter="别处的事")  # fmt: skip
    for _n in range(5):
        f.request(site)
    # Staff register a matter handled on the spot, for a person they serve.
    before = counts()
    refused(client.post("/api/v1/site-requests/", {"site": site.pk, "mode": "on_receipt",
            "category": "general", "matter": "开证明", "person": world.b.person.pk},
            format="json"), "person")  # fmt: skip
    assert counts() == before
    on_spot = client.post(
        "/api/v1/site-requests/",
        {"site": site.pk, "mode": "on_receipt", "category": "legal", "matter": "法律咨询",
         "person": world.a.person.pk},
        format="json",
    )  # fmt: skip
    assert on_spot.status_code == 201, on_spot.content
    assert on_spot.json()["status"] == "done" and on_spot.json()["person_id"] == world.a.person.pk
    assert ServiceRecord.objects.filter(request_id=on_spot.json()["id"]).exists()

    with django_assert_max_num_queries(8):
        queue = client.get("/api/v1/site-requests/", {"status": "open", "site": str(site.pk)})
    assert queue.json()["count"] == 6
    assert client.get("/api/v1/site-requests/", {"category": "legal"}).json()["count"] == 1
    row = client.get(f"/api/v1/site-requests/{proxy.pk}/").json()
    assert row["next_statuses"] == ["accepted", "cancelled", "returned"] and not row["mine"]

    move = f"/api/v1/site-requests/{proxy.pk}/transition/"
    documents = f"/api/v1/site-requests/{proxy.pk}/documents/"
    assert client.post(move, {"status": "accepted"}, format="json").json()["status"] == "accepted"
    before = counts()
    refused(client.post(move, {"status": "in_progress"}, format="json"), "documents", text="身份证")
    refused(client.post(documents, {"received": ["户口本"]}, format="json"), "documents")
    refused(client.post(documents, {"received": []}, format="json"), "received")
    refused(client.post(move, {"status": "returned"}, format="json"), "note")
    refused(client.post(move, {"status": "done"}, format="json"), "status", 409)
    refused(client.post(move, {}, format="json"), "status")
    assert counts() == before
    assert ServiceRequest.objects.get(pk=proxy.pk).status == "accepted"
    marked = client.post(documents, {"received": ["身份证", "照片"]}, format="json").json()
    assert all(d["received"] for d in marked["documents"])
    client.post(move, {"status": "in_progress"}, format="json")
    done = client.post(move, {"status": "done", "note": "已办结"}, format="json").json()
    assert done["status"] == "done" and done["done_at"] is not None and done["next_statuses"] == []
    assert ServiceRecord.objects.filter(request_id=proxy.pk).count() == 1
    assert list(RequestEvent.objects.filter(request_id=proxy.pk).values_list("to_status", flat=True)) == [
        "submitted", "accepted", "in_progress", "done",
    ]  # fmt: skip
    # Another tree's staff see none of it.
    other = client_for(outsider(world))
    assert other.get("/api/v1/site-requests/").json()["count"] == 1
    assert other.get(f"/api/v1/site-requests/{proxy.pk}/").status_code == 404
    assert other.post(move, {"status": "cancelled"}, format="json").status_code == 404
    assert other.post(documents, {"received": ["照片"]}, format="json").status_code == 404


def test_staff_run_programs_with_enrolment_and_attendance(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    site = f.site(world.a.community)
    partner = f.partner(world.a.community)
    stopped = f.partner(world.a.community, "已停用的社工站")
    Partner.objects.filter(pk=stopped.pk).update(is_active=False)
    foreign = f.partner(world.b.community)
    url = f"/api/v1/sites/{site.pk}/programs/"
    body = {"kind": "day_care", "name": "日间照料", "category": "elderly", "capacity": 1,
            "starts_on": "2026-02-01", "ends_on": "2026-06-30", "partner": partner.pk}  # fmt: skip
    before = counts()
    for bad, field in [
        ({"kind": "cinema"}, "kind"),
        ({"ends_on": "2026-01-01"}, "ends_on"),
        ({"capacity": 0}, "capacity"),
        ({"category": "x"}, "category"),
        ({"partner": stopped.pk}, "partner"),
        ({"partner": foreign.pk}, "partner"),
        ({"starts_on": "1999-12-31"}, "starts_on"),
    ]:
        refused(client.post(url, merged(body, bad), format="json"), field)
    assert counts() == before
    created = client.post(url, body, format="json")
    assert created.status_code == 201, created.content
    program = created.json()
    assert (program["audience"], program["partner"], program["remaining"]) == (
        "old",
        partner.name,
        1,
    )
    assert (
        client.get("/api/v1/site-programs/", {"site": str(site.pk), "current": "1"}).json()["count"]
        == 1
    )
    assert client.get(f"/api/v1/site-programs/{program['id']}/").json()["name"] == "日间照料"

    elder = person_create(name="张秀英", household=world.a.household, relation="parent")
    enrol = {"program": program["id"], "person": world.a.person.pk}
    before = counts()
    refused(client.post("/api/v1/site-enrolments/", enrol | {"person": world.b.person.pk},
                        format="json"), "person")  # fmt: skip
    refused(client.post("/api/v1/site-enrolments/", enrol | {"program": 999999}, format="json"),
            "program")  # fmt: skip
    assert counts() == before
    first = client.post("/api/v1/site-enrolments/", enrol, format="json")
    assert first.status_code == 201, first.content
    before = counts()
    refused(client.post("/api/v1/site-enrolments/", enrol, format="json"), "person", 409, "已报名")
    refused(client.post("/api/v1/site-enrolments/", enrol | {"person": elder.pk}, format="json"),
            "program", 409, "名额已满")  # fmt: skip
    assert counts() == before

    attendance = f"/api/v1/site-programs/{program['id']}/attendance/"
    present = {"date": "2026-02-27", "enrolments": [first.json()["id"]]}
    for bad, field in [
        ({"date": "2026-03-03"}, "date"),  # not yet
        ({"date": "2026-01-30"}, "date"),  # before the program
        ({"enrolments": [999999]}, "enrolments"),
        ({"enrolments": ["一"]}, "enrolments"),
    ]:
        refused(client.post(attendance, merged(present, bad), format="json"), field)
    assert counts() == before
    marked = client.post(attendance, present, format="json")
    assert marked.json() == {"program": program["id"], "date": "2026-02-27", "marked": 1}
    # Marking the same day again counts nobody twice.
    assert client.post(attendance, present, format="json").json()["marked"] == 0
    assert ServiceRecord.objects.get(program_id=program["id"]).person_times == 1

    withdraw = f"/api/v1/site-enrolments/{first.json()['id']}/withdraw/"
    assert client.post(withdraw).json()["status"] == "withdrawn"
    refused(client.post(withdraw), "status", 409)
    assert client.post("/api/v1/site-enrolments/", enrol | {"person": elder.pk},
                       format="json").status_code == 201  # fmt: skip
    listed = client.get("/api/v1/site-enrolments/", {"program": program["id"], "status": "active"})
    assert [e["person"] for e in listed.json()["results"]] == ["张秀英"]

    other = client_for(outsider(world))
    assert other.get(f"/api/v1/site-programs/{program['id']}/").status_code == 404
    assert other.post(attendance, present, format="json").status_code == 404
    assert other.post(withdraw).status_code == 404
    assert other.post(url, body, format="json").status_code == 404
    assert other.get("/api/v1/site-enrolments/").json()["count"] == 0


def test_staff_record_services_and_read_person_times(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    site = f.site(world.a.community)
    free = f.partner_service(f.partner(world.a.community), site, pricing="free")
    elsewhere = f.site(world.b.community)
    body = {"site": site.pk, "category": "elderly", "person_times": 30,
            "delivered_at": "2026-01-10T10:00:00+08:00"}  # fmt: skip
    before = counts()
    for bad, field in [
        ({"person_times": 0}, "person_times"),
        ({"person_times": 10**12}, "person_times"),
        ({"amount_fen": 100}, "amount_fen"),
        ({"partner_service": free.pk, "amount_fen": 100}, "amount_fen"),
        ({"site": elsewhere.pk}, "site"),
        ({"delivered_at": "2026-03-09T10:00:00+08:00"}, "delivered_at"),
        ({"category": ""}, "category"),
    ]:
        refused(client.post("/api/v1/site-records/", merged(body, bad), format="json"), field)
    assert counts() == before
    assert client.post("/api/v1/site-records/", body, format="json").status_code == 201
    second = client.post(
        "/api/v1/site-records/",
        body | {"category": "health", "person_times": 5, "delivered_at": "2026-02-03T09:00",
                "partner_service": free.pk},
        format="json",
    )  # fmt: skip
    assert second.status_code == 201 and second.json()["partner_service_id"] == free.pk

    january = client.get("/api/v1/site-records/", {"start": "2026-01-01", "end": "2026-01-31"})
    assert [r["person_times"] for r in january.json()["results"]] == [30]
    refused(client.get("/api/v1/site-records/", {"start": "2026/01/01"}), "start")
    report = client.get(
        "/api/v1/site-person-times/", {"start": "2026-01-01", "end": "2026-02-28", "by": "category"}
    ).json()
    assert [(r["label"], r["person_times"]) for r in report["rows"]] == [
        ("养老", 30),
        ("医疗健康", 5),
    ]
    assert (report["total_person_times"], report["total_records"]) == (35, 2)
    by_month = client.get("/api/v1/site-person-times/", {"by": "month"}).json()
    assert [r["key"] for r in by_month["rows"]] == ["2026-01", "2026-02"]
    refused(client.get("/api/v1/site-person-times/", {"by": "weather"}), "by")
    refused(client.get("/api/v1/site-person-times/", {"start": "2026-03-01", "end": "2026-02-01"}),
            "end")  # fmt: skip
    assert client_for(outsider(world)).get("/api/v1/site-person-times/").json()["rows"] == []


def test_partners_services_agreements_and_settlements(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    site = f.site(world.a.community)
    elsewhere = f.site(world.b.community)
    bad: Any
    body = {"name": "某国有企业", "kind": "state_enterprise", "unit": world.a.community.pk,
            "contact": "0830-1111111"}  # fmt: skip
    before = counts()
    for bad, field in [
        ({"kind": "bank"}, "kind"),
        ({"unit": world.b.community.pk}, "unit"),
        ({"name": ""}, "name"),
    ]:
        refused(client.post("/api/v1/site-partners/", merged(body, bad), format="json"), field)
    assert counts() == before
    created = client.post("/api/v1/site-partners/", body, format="json")
    assert created.status_code == 201, created.content
    partner = created.json()
    refused(client.post("/api/v1/site-partners/", body, format="json"), "name", text="同名")
    assert Partner.objects.filter(name="某国有企业").count() == 1
    detail = f"/api/v1/site-partners/{partner['id']}/"
    edited = client.patch(detail, {"contact": "0830-2222222"}, format="json").json()
    assert (edited["contact"], edited["name"], edited["is_active"]) == (
        "0830-2222222", "某国有企业", True,
    )  # fmt: skip
    # The partner's own account sees itself only, and may not edit itself.
    own = world.a.extras["partner"]
    as_partner = client_for(world.user(Role.PARTNER))
    assert [p["id"] for p in as_partner.get("/api/v1/site-partners/").json()["results"]] == [own.pk]
    refused(as_partner.patch(f"/api/v1/site-partners/{own.pk}/", {"name": "改名"},
                             format="json"), "partner", 403)  # fmt: skip
    assert as_partner.get(detail).status_code == 404

    service = {"partner": partner["id"], "site": site.pk, "category": "elderly", "name": "助餐",
               "pricing": "low_cost", "price_fen": 1000}  # fmt: skip
    before = counts()
    for bad, field in [
        ({"pricing": "free"}, "price_fen"),
        ({"price_fen": 0}, "price_fen"),
        ({"pricing": "barter"}, "pricing"),
        ({"site": elsewhere.pk}, "site"),
        ({"partner": own.pk + 1000}, "partner"),
    ]:
        refused(
            client.post("/api/v1/site-partner-services/", merged(service, bad), format="json"),
            field,
        )
    assert counts() == before
    meals = client.post("/api/v1/site-partner-services/", service, format="json")
    assert meals.status_code == 201, meals.content
    assert (
        client.get("/api/v1/site-partner-services/", {"partner": partner["id"]}).json()["count"]
        == 1
    )

    agreement = {"partner": partner["id"], "site": site.pk, "partner_share_bp": 6667,
                 "valid_from": "2026-01-01", "terms": "按月结算"}  # fmt: skip
    before = counts()
    for bad, field, status in [
        ({"partner_share_bp": 10001}, "partner_share_bp", 400),
        ({"valid_to": "2025-12-31"}, "valid_to", 400),
        ({"valid_from": "2026-02-30"}, "valid_from", 400),
    ]:
        refused(
            client.post("/api/v1/site-agreements/", merged(agreement, bad), format="json"),
            field,
            status,
        )
    assert counts() == before
    share = client.post("/api/v1/site-agreements/", agreement, format="json")
    assert share.status_code == 201, share.content
    refused(client.post("/api/v1/site-agreements/", agreement | {"valid_from": "2026-02-01"},
                        format="json"), "valid_from", 409, "同期")  # fmt: skip
    assert RevenueShare.objects.count() == 1

    for day, amount in ((5, 1000), (20, 2001)):
        client.post("/api/v1/site-records/", {
            "site": site.pk, "category": "elderly", "person_times": 1, "amount_fen": amount,
            "partner_service": meals.json()["id"], "delivered_at": f"2026-02-{day:02d}T12:00",
        }, format="json")  # fmt: skip
    issue = {"agreement": share.json()["id"], "period_start": "2026-02-01",
             "period_end": "2026-02-28"}  # fmt: skip
    before = counts()
    for bad, field in [
        ({"period_end": "2026-03-31"}, "period_end"),  # not over yet
        ({"period_start": "2025-12-01"}, "period_start"),  # before the agreement
        ({"agreement": f.agreement(f.partner(world.b.community), elsewhere).pk},
         "agreement"),
    ]:  # fmt: skip
        refused(client.post("/api/v1/site-settlements/", merged(issue, bad), format="json"), field)
    assert Settlement.objects.count() == 0
    statement = client.post("/api/v1/site-settlements/", issue, format="json")
    assert statement.status_code == 201, statement.content
    assert {k: statement.json()[k] for k in ("gross_fen", "partner_fen", "community_fen",
                                             "records")} == {
        "gross_fen": 3001, "partner_fen": 2000, "community_fen": 1001, "records": 2,
    }  # fmt: skip
    refused(client.post("/api/v1/site-settlements/", issue, format="json"), "period_start", 409)
    assert Settlement.objects.count() == 1
    assert client.get("/api/v1/site-settlements/").json()["count"] == 1
    assert as_partner.get("/api/v1/site-settlements/").json()["count"] == 0

    stop = client.patch(detail, {"is_active": False}, format="json")
    assert stop.json()["is_active"] is False
    refused(client.post("/api/v1/site-partner-services/", service | {"name": "助浴"},
                        format="json"), "partner", text="停用")  # fmt: skip
    other = client_for(outsider(world))
    assert other.get(detail).status_code == 404
    assert other.patch(detail, {"is_active": True}, format="json").status_code == 404
    for listing in (
        "site-partners",
        "site-partner-services",
        "site-agreements",
        "site-settlements",
    ):
        assert [
            r for r in other.get(f"/api/v1/{listing}/").json()["results"]
            if r.get("partner_id", r.get("id")) == partner["id"]
        ] == []  # fmt: skip


def test_the_fifteen_minute_circle_of_a_unit(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    site = f.site(world.a.community)  # at the city's coordinates, where the households are
    site.categories.set([f.category("elderly")])
    site_hours_set(actor=staff, site=site, intervals=[(d, "08:30", "18:00") for d in range(7)])
    url = f"/api/v1/site-coverage/{world.a.community.pk}/"
    report = client.get(url).json()
    assert report["unit_id"] == world.a.community.pk and report["planned"] is None
    covered = report["report"]
    assert (covered["households"], covered["covered"], covered["share"]) == (1, 1, 1.0)
    assert covered["by_community"][0]["name"] == world.a.community.name
    assert "points" not in covered
    assert client.get(url, {"points": "1"}).json()["report"]["points"][0]["covered"] is True
    # Only sites of the category asked, open at the moment asked, count.
    assert client.get(url, {"category": "legal"}).json()["report"]["covered"] == 0
    at21 = client.get(url, {"open_at": "2026-03-02T21:00:00+08:00"}).json()
    assert at21["report"]["covered"] == 0 and at21["report"]["uncovered_compounds"]
    planned = client.get(url, {"category": "legal", "cand_lat": "30.0", "cand_lng": "110.0",
                               "cand_category": "legal"}).json()  # fmt: skip
    assert planned["report"]["covered"] == 0 and planned["planned"]["covered"] == 1
    assert planned["planned"]["sites"][-1]["id"] == 0
    for params, field in [
        ({"level": "castle"}, "level"),
        ({"category": "x"}, "category"),
        ({"open_at": "晚上九点"}, "open_at"),
        ({"cand_lat": "北", "cand_lng": "110"}, "cand_lat"),
        ({"cand_lat": "30", "cand_lng": "1"}, "candidate"),
        ({"cand_lat": "30", "cand_lng": "110", "cand_level": "x"}, "cand_level"),
    ]:
        refused(client.get(url, params), field)
    assert client_for(world.user(Role.GRID_MEMBER)).get(url).status_code == 404
    assert client_for(outsider(world)).get(url).status_code == 404


def test_another_trees_staff_get_404_for_every_row_in_the_path(world: Any) -> None:
    site = f.site(world.a.community)
    room = f.room(site)
    booking = f.booking(room, world.user(Role.RESIDENT), start=NOW + dt.timedelta(days=1))
    other = client_for(outsider(world))
    body: Any
    for method, url, body in [
        ("get", f"/api/v1/site-directory/{site.pk}/", None),
        ("patch", f"/api/v1/site-directory/{site.pk}/", {"phone": "1"}),
        ("put", f"/api/v1/site-directory/{site.pk}/hours/", {"hours": []}),
        ("post", f"/api/v1/site-directory/{site.pk}/closures/",
         {"starts_on": "2026-05-01", "ends_on": "2026-05-01", "reason": "x"}),
        ("post", f"/api/v1/sites/{site.pk}/rooms/", {"name": "x", "capacity": 1}),
        ("patch", f"/api/v1/site-rooms/{room.pk}/", {"capacity": 2}),
        ("post", f"/api/v1/sites/{site.pk}/slots/",
         {"category": "general", "service": "x", "starts_at": "2026-03-03T09:00",
          "ends_at": "2026-03-03T10:00", "capacity": 1}),
        ("get", f"/api/v1/site-bookings/{booking.pk}/", None),
        ("post", f"/api/v1/site-bookings/{booking.pk}/cancel/", {}),
    ]:  # fmt: skip
        before = counts()
        response = getattr(other, method)(url, body, format="json")
        assert response.status_code == 404, (url, response.content)
        assert counts() == before
    assert other.get("/api/v1/site-directory/").json()["count"] == 0
    assert other.get("/api/v1/site-bookings/").json()["count"] == 0
    # The public read of a site's rooms is still open to them, as to anyone.
    assert other.get(f"/api/v1/sites/{site.pk}/rooms/").json()["count"] == 1


FIELDS = [
    "site",
    "mode",
    "category",
    "matter",
    "slot",
    "person",
    "documents",
    "note",
    "room",
    "starts_at",
    "ends_at",
    "purpose",
    "attendees",
    "weekdays",
    "first_date",
    "last_date",
    "starts",
    "ends",
    "interval_weeks",
    "status",
    "received",
    "name",
    "capacity",
    "functions",
    "bookable_by_residents",
    "is_active",
    "service",
    "kind",
    "starts_on",
    "ends_on",
    "partner",
    "program",
    "date",
    "enrolments",
    "person_times",
    "delivered_at",
    "partner_service",
    "amount_fen",
    "level",
    "unit",
    "lat",
    "lng",
    "datum",
    "address",
    "manager_kind",
    "manager_name",
    "parent",
    "party_org",
    "setting",
    "phone",
    "description",
    "categories",
    "station_types",
    "amenities",
    "hours",
    "reason",
    "opens",
    "closes",
    "contact",
    "pricing",
    "price_fen",
    "partner_share_bp",
    "valid_from",
    "valid_to",
    "terms",
    "agreement",
    "period_start",
    "period_end",
]
# Values wrong for at least one field of every write (0 and true would be a fine name and
# a fine flag for an edit, so they are not here).
POISON: list[Any] = [None, "", "x", "\x00", -1, 2**70, 1e308, "NaN", "9999-12-31T23:59:59Z",
                     "9999-12-31", ["a"], [2**70], {"a": 1}, [{"day": 9}]]  # fmt: skip


def test_garbage_in_any_field_is_a_clear_error_never_a_500(world: Any) -> None:
    """Every write gets each poison value in every field at once (and a list for a
    body); every list and report gets it in every query parameter. Each answer is an
    error naming a field or the row, never a 500, and nothing is written."""
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    client.raise_request_exception = False
    site = f.site(world.a.community)
    room = f.room(site)
    program = f.program(site)
    f.booking(room, staff, start=NOW + dt.timedelta(days=1))
    req = f.request(site)
    enrolment = f.enrolment(program, world.a.person)
    partner = f.partner(world.a.community)
    writes = [
        ("post", "/api/v1/site-requests/"), ("post", f"/api/v1/site-requests/{req.pk}/transition/"),
        ("post", f"/api/v1/site-requests/{req.pk}/documents/"), ("post", "/api/v1/site-bookings/"),
        ("post", "/api/v1/site-booking-series/"), ("post", f"/api/v1/sites/{site.pk}/rooms/"),
        ("patch", f"/api/v1/site-rooms/{room.pk}/"), ("post", f"/api/v1/sites/{site.pk}/slots/"),
        ("post", f"/api/v1/sites/{site.pk}/programs/"),
        ("post", f"/api/v1/site-programs/{program.pk}/attendance/"),
        ("post", "/api/v1/site-enrolments/"), ("post", "/api/v1/site-records/"),
        ("post", "/api/v1/site-directory/"), ("patch", f"/api/v1/site-directory/{site.pk}/"),
        ("put", f"/api/v1/site-directory/{site.pk}/hours/"),
        ("post", f"/api/v1/site-directory/{site.pk}/closures/"),
        ("post", "/api/v1/site-partners/"), ("patch", f"/api/v1/site-partners/{partner.pk}/"),
        ("post", "/api/v1/site-partner-services/"), ("post", "/api/v1/site-agreements/"),
        ("post", "/api/v1/site-settlements/"),
    ]  # fmt: skip
    before = counts()
    for method, url in writes:
        for body in [[], *({name: value for name in FIELDS} for value in POISON)]:
            response = getattr(client, method)(url, body, format="json")
            assert 400 <= response.status_code < 500, (method, url, body, response.content)
            assert response.json()["errors"][0]["message"], (url, body)
    assert counts() == before
    assert Enrolment.objects.get(pk=enrolment.pk).status == "active"
    # Withdrawing twice: the second is a conflict, not an error of the server.
    assert client.post(f"/api/v1/site-enrolments/{enrolment.pk}/withdraw/").status_code == 200
    assert client.post(f"/api/v1/site-enrolments/{enrolment.pk}/withdraw/").status_code == 409

    reads = [
        "/api/v1/sites/", "/api/v1/sites/near/", "/api/v1/sites/open-now/",
        f"/api/v1/sites/{site.pk}/", f"/api/v1/sites/{site.pk}/rooms/",
        f"/api/v1/sites/{site.pk}/slots/", f"/api/v1/sites/{site.pk}/programs/",
        "/api/v1/site-bookings/", "/api/v1/site-requests/", "/api/v1/site-programs/",
        "/api/v1/site-enrolments/", "/api/v1/site-records/", "/api/v1/site-person-times/",
        "/api/v1/site-directory/", "/api/v1/site-partners/", "/api/v1/site-partner-services/",
        "/api/v1/site-agreements/", "/api/v1/site-settlements/",
        f"/api/v1/site-coverage/{world.a.community.pk}/",
    ]  # fmt: skip
    params = [
        "level",
        "category",
        "at",
        "open_now",
        "lat",
        "lng",
        "datum",
        "radius",
        "date",
        "kind",
        "audience",
        "available",
        "site",
        "current",
        "program",
        "status",
        "room",
        "upcoming",
        "mode",
        "start",
        "end",
        "by",
        "unit",
        "q",
        "active",
        "partner",
        "agreement",
        "open_at",
        "cand_lat",
        "cand_lng",
        "cand_level",
        "cand_category",
        "points",
        "page",
        "page_size",
    ]
    for url in reads:
        for value in ["x", "\x00", "-1", "99999999999999999999999", "9999-12-31", "NaN", "1e999"]:
            response = client.get(url, {name: value for name in params})
            assert response.status_code < 500, (url, value, response.content)
