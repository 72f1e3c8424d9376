"""The console forms that set up the network: creating and editing a site (with map-app
coordinates converted), its rooms, appointment slots and programs, partners with their
services and agreements; the person-times report and its export; and area centers seen
by the staff of every unit they serve. Each form's bad input gets an error that names
the field, changes nothing, and is never a 500; each change leaves a history row."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.models import AuditEvent
from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import scoped
from doorstep.conftest import make_user, outsider
from doorstep.core import geo
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.services import unit_create
from doorstep.sites.choices import SiteLevel
from doorstep.sites.models import (
    AppointmentSlot,
    Booking,
    Partner,
    PartnerService,
    Program,
    RevenueShare,
    Room,
    ServiceRecord,
    ServiceRequest,
    Site,
    SiteEvent,
)

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("doorstep.core.timeutils.now", lambda: NOW)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def site_post(world: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "甲社区党群服务中心",
        "level": SiteLevel.COMMUNITY_CENTER,
        "setting": "",
        "unit": world.a.community.pk,
        "parent": "",
        "lat": "28.8800",
        "lng": "105.4400",
        "datum": "wgs84",
        "address": "甲社区1号",
        "phone": "0830-1234567",
        "manager_kind": "community",
        "manager_name": "甲社区党委",
        "party_org": "",
        "categories": ["general", "elderly"],
        "station_types": ["government"],
        "amenities": ["drinking_water", "wifi"],
        "description": "",
    }
    data.update(overrides)
    return data


def test_staff_create_a_site_from_the_console_with_gcj02_converted(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    assert client.get("/console/sites/new/").status_code == 200
    response = client.post("/console/sites/new/", site_post(world, datum="gcj02"))
    site = Site.objects.get(name="甲社区党群服务中心")
    assert response.status_code == 302 and response["Location"] == f"/console/sites/{site.pk}/"
    expected = geo.to_wgs84(28.88, 105.44, "gcj02")
    assert site.lat == pytest.approx(expected[0], abs=1e-6)
    assert site.lng == pytest.approx(expected[1], abs=1e-6)
    assert abs(site.lat - 28.88) > 1e-4  # really converted, not stored as typed
    assert sorted(site.categories.values_list("code", flat=True)) == ["elderly", "general"]
    assert list(site.station_types.values_list("code", flat=True)) == ["government"]
    event = SiteEvent.objects.get(site=site)
    assert (event.action, event.actor_id, event.object_type) == ("created", staff.pk, "site")


@pytest.mark.parametrize(
    "overrides,field_label,message",
    [
        ({"lat": "105.44", "lng": "28.88"}, "纬度", "似乎填反了"),
        ({"lat": "48.85", "lng": "2.35"}, "纬度", "不在中国境内"),
        ({"level": SiteLevel.STATION}, "上级阵地", "站和之家必须挂在上级阵地之下"),
        ({"name": ""}, "名称", "必填"),
        ({"categories": ["nonsense"]}, "服务类别", "nonsense"),
    ],
)
def test_bad_site_input_names_the_field_and_creates_nothing(
    world: Any, overrides: dict[str, Any], field_label: str, message: str
) -> None:
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    response = client.post("/console/sites/new/", site_post(world, **overrides))
    assert response.status_code == 400
    text = response.content.decode()
    assert f"{field_label}：" in text and message in text
    assert not Site.objects.exists() and not SiteEvent.objects.exists()


def test_a_unit_outside_the_staff_scope_is_not_offered(world: Any) -> None:
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    response = client.post("/console/sites/new/", site_post(world, unit=world.b.community.pk))
    assert response.status_code == 400 and "所属单元：" in response.content.decode()
    assert not Site.objects.exists()


def test_roles_that_do_not_run_sites_get_no_create_page(world: Any) -> None:
    assert client_for(world.user(Role.GRID_MEMBER)).get("/console/sites/new/").status_code == 404


def test_staff_edit_a_site_and_the_change_is_recorded(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    site = f.site(world.a.community, "旧名字", lat=28.88, lng=105.44)
    client = client_for(staff)
    assert client.get(f"/console/sites/{site.pk}/edit/").status_code == 200
    response = client.post(
        f"/console/sites/{site.pk}/edit/",
        site_post(world, name="新名字", categories=["health"], is_active="on", datum="bd09"),
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.name == "新名字" and site.lat != 28.88
    assert list(site.categories.values_list("code", flat=True)) == ["health"]
    event = SiteEvent.objects.get(site=site, action="updated")
    assert event.detail["name"] == ["旧名字", "新名字"]
    assert event.detail["categories"] == [[], ["health"]]


def test_bad_edits_change_nothing(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    center = f.site(world.a.community, "中心", lat=28.88, lng=105.44)
    station = f.site(world.a.community, "站", level=SiteLevel.STATION, parent=center)
    client = client_for(staff)
    # A site cannot hang under its own child.
    response = client.post(
        f"/console/sites/{center.pk}/edit/",
        site_post(world, name="中心", level=SiteLevel.STATION, parent=station.pk, is_active="on"),
    )
    assert response.status_code == 400
    assert "上级阵地：" in response.content.decode()
    # A site with active sites under it stays active.
    response = client.post(f"/console/sites/{center.pk}/edit/", site_post(world, name="中心"))
    assert response.status_code == 400 and "启用：" in response.content.decode()
    center.refresh_from_db()
    assert center.is_active and center.level == SiteLevel.COMMUNITY_CENTER
    assert not SiteEvent.objects.exists()


def test_edit_page_is_404_outside_scope_and_for_viewers(world: Any) -> None:
    site_b = f.site(world.b.community)
    site_a = f.site(world.a.community)
    staff = world.user(Role.COMMUNITY_STAFF)
    assert client_for(staff).get(f"/console/sites/{site_b.pk}/edit/").status_code == 404
    assert client_for(world.user(Role.GRID_MEMBER)).get(
        f"/console/sites/{site_a.pk}/edit/"
    ).status_code in (404,)


def test_rooms_are_added_and_edited_from_the_site_page(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    site = f.site(world.a.community)
    client = client_for(staff)
    url = f"/console/sites/{site.pk}/"
    response = client.post(
        url, {"action": "room", "room-name": "书画室", "room-capacity": "12",
              "room-functions": ["culture_sports"], "room-bookable_by_residents": "on",
              "room-is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    room = Room.objects.get(site=site)
    assert room.capacity == 12 and list(room.functions.values_list("code", flat=True)) == [
        "culture_sports"
    ]
    response = client.post(
        url, {"action": "room", "room-room": room.pk, "room-name": "书画室", "room-capacity": "30",
              "room-functions": ["culture_sports", "education"], "room-is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.capacity == 30 and not room.bookable_by_residents
    assert SiteEvent.objects.filter(object_type="room", action="updated").count() == 1
    page = client.get(url).content.decode()
    assert "书画室" in page and "可容纳 30 人" in page


def test_bad_room_input_names_the_field(world: Any) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    site = f.site(world.a.community)
    f.room(site, "议事厅", capacity=20)
    client = client_for(staff)
    url = f"/console/sites/{site.pk}/"
    response = client.post(url, {"action": "room", "room-name": "会议室", "room-capacity": "0"})
    assert response.status_code == 400 and "容纳人数：" in response.content.decode()
    response = client.post(url, {"action": "room", "room-name": "议事厅", "room-capacity": "5"})
    assert response.status_code == 400 and "该阵地已有同名功能室" in response.content.decode()
    booked = f.room(site, "活动室", capacity=20)
    taken = f.booking(booked, staff, start=dt.datetime(2026, 3, 3, 9, tzinfo=LOCAL_TZ))
    Booking.objects.filter(pk=taken.pk).update(attendees=15)
    response = client.post(
        url, {"action": "room", "room-room": booked.pk, "room-name": "活动室",
              "room-capacity": "10", "room-is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 400 and "容纳人数：" in response.content.decode()
    booked.refresh_from_db()
    assert booked.capacity == 20 and Room.objects.count() == 2


def test_slots_are_added_and_bad_ones_refused(world: Any) -> None:
    site = f.site(world.a.community)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/sites/{site.pk}/"
    good = {"action": "slot", "slot-category": "general", "slot-service": "社保卡办理",
            "slot-date": "2026-03-05", "slot-starts": "09:00", "slot-ends": "09:30",
            "slot-capacity": "4"}  # fmt: skip
    assert client.post(url, good).status_code == 302
    slot = AppointmentSlot.objects.get(site=site)
    assert slot.capacity == 4 and slot.starts_at == dt.datetime(2026, 3, 5, 9, tzinfo=LOCAL_TZ)
    response = client.post(url, {**good, "slot-ends": "08:30"})
    assert response.status_code == 400 and "结束：" in response.content.decode()
    response = client.post(url, {**good, "slot-capacity": "0"})
    assert response.status_code == 400 and "名额：" in response.content.decode()
    assert AppointmentSlot.objects.count() == 1
    assert "社保卡办理" in client.get(url).content.decode()


def test_programs_are_created_and_bad_ones_refused(world: Any) -> None:
    site = f.site(world.a.community)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/sites/{site.pk}/"
    good = {"action": "program", "program-kind": "after_school", "program-name": "爱心课堂",
            "program-category": "education", "program-capacity": "30",
            "program-starts_on": "2026-03-01", "program-ends_on": "2026-07-10"}  # fmt: skip
    response = client.post(url, good)
    program = Program.objects.get(site=site)
    assert response.status_code == 302
    assert response["Location"] == f"/console/sites/programs/{program.pk}/"
    response = client.post(url, {**good, "program-name": "暑期", "program-ends_on": "2026-02-01"})
    assert response.status_code == 400 and "结束日期：" in response.content.decode()
    response = client.post(url, {**good, "program-name": "暑期", "program-kind": "circus"})
    assert response.status_code == 400 and "类型：" in response.content.decode()
    assert Program.objects.count() == 1


def test_partners_services_and_agreements_from_the_console(world: Any) -> None:
    site = f.site(world.a.community)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    url = "/console/sites/partners/"
    response = client.post(
        url, {"action": "partner", "partner-name": "阳光社工", "partner-kind": "social_org",
              "partner-unit": world.a.community.pk, "partner-contact": "0830-0000000"},
    )  # fmt: skip
    assert response.status_code == 302
    partner = Partner.objects.get(name="阳光社工")
    response = client.post(
        url, {"action": "service", "service-partner": partner.pk, "service-site": site.pk,
              "service-category": "elderly", "service-name": "助浴", "service-pricing": "low_cost",
              "service-price_yuan": "12.50"},
    )  # fmt: skip
    assert response.status_code == 302
    assert PartnerService.objects.get(partner=partner).price_fen == 1250
    response = client.post(
        url, {"action": "agreement", "agreement-partner": partner.pk, "agreement-site": site.pk,
              "agreement-partner_share_percent": "70", "agreement-valid_from": "2026-01-01"},
    )  # fmt: skip
    assert response.status_code == 302
    assert RevenueShare.objects.get(partner=partner).partner_share_bp == 7000
    assert set(SiteEvent.objects.values_list("object_type", flat=True)) == {
        "partner",
        "partnerservice",
        "revenueshare",
    }
    page = client.get(url).content.decode()
    assert "助浴" in page and "阳光社工" in page


def test_bad_partner_input_names_the_field_and_changes_nothing(world: Any) -> None:
    site = f.site(world.a.community)
    partner = f.partner(world.a.community)
    f.agreement(partner, site)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    url = "/console/sites/partners/"
    cases = [
        ({"action": "partner", "partner-name": "", "partner-kind": "merchant",
          "partner-unit": world.a.community.pk}, "合伙人名称："),
        ({"action": "partner", "partner-name": "外面的", "partner-kind": "merchant",
          "partner-unit": world.b.community.pk}, "所在社区："),
        ({"action": "service", "service-partner": partner.pk, "service-site": site.pk,
          "service-category": "elderly", "service-name": "理发", "service-pricing": "free",
          "service-price_yuan": "5"}, "单价（元）："),
        ({"action": "service", "service-partner": partner.pk, "service-site": site.pk,
          "service-category": "elderly", "service-name": "理发", "service-pricing": "paid"},
         "单价（元）："),
        ({"action": "agreement", "agreement-partner": partner.pk, "agreement-site": site.pk,
          "agreement-partner_share_percent": "120", "agreement-valid_from": "2026-01-01"},
         "合伙人分成（%）："),
        ({"action": "agreement", "agreement-partner": partner.pk, "agreement-site": site.pk,
          "agreement-partner_share_percent": "50", "agreement-valid_from": "2026-02-01"},
         "同期协议"),
    ]  # fmt: skip
    before = (Partner.objects.count(), PartnerService.objects.count(), RevenueShare.objects.count())
    for data, expected in cases:
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert expected in response.content.decode(), (data, expected)
    after = (Partner.objects.count(), PartnerService.objects.count(), RevenueShare.objects.count())
    assert before == after and not SiteEvent.objects.exists()


def test_a_partner_is_edited_and_stopped_from_the_console(world: Any) -> None:
    site = f.site(world.a.community)
    partner = f.partner(world.a.community)
    f.partner(world.a.community, "爱心理发店")
    agreement = f.agreement(partner, site)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    url = "/console/sites/partners/"
    edit = {"action": "partner_update", "edit-partner": partner.pk, "edit-is_active": "on"}
    # A blank name, a name another partner of the community has, a partner out of scope.
    outside = f.partner(world.b.community, "乙社区合伙人")
    for data, expected in [
        ({**edit, "edit-name": ""}, "合伙人名称"),
        ({**edit, "edit-name": "爱心理发店"}, "同名合伙人"),
        ({**edit, "edit-partner": outside.pk, "edit-name": "改名"}, "合伙人"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert expected in response.content.decode(), (data, expected)
    assert not SiteEvent.objects.filter(object_type="partner").exists()
    old_name = partner.name
    response = client.post(url, {**edit, "edit-name": "阳光社工站", "edit-contact": "0830-1234567"})
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.name, partner.contact, partner.is_active) == (
        "阳光社工站",
        "0830-1234567",
        True,
    )
    # Unticking 合作中 stops the partner: its agreement stays, new ones cannot name it.
    response = client.post(url, {"action": "partner_update", "edit-partner": partner.pk,
                                 "edit-name": "阳光社工站", "edit-contact": "0830-1234567"})  # fmt: skip
    assert response.status_code == 302
    partner.refresh_from_db()
    assert not partner.is_active
    assert RevenueShare.objects.filter(pk=agreement.pk).exists()
    response = client.post(
        url, {"action": "agreement", "agreement-partner": partner.pk, "agreement-site": site.pk,
              "agreement-partner_share_percent": "50", "agreement-valid_from": "2027-01-01"},
    )  # fmt: skip
    assert response.status_code == 400
    events = list(SiteEvent.objects.filter(object_type="partner").order_by("id"))
    assert events[0].detail["name"] == [old_name, "阳光社工站"]
    assert events[1].detail == {"is_active": [True, False]}
    assert "已停用" in client.get(url).content.decode()
    # Whoever may only look (a grid member) cannot change a partner.
    looker = client_for(world.user(Role.GRID_MEMBER))
    assert looker.post(url, {**edit, "edit-name": "又改名"}).status_code == 404


def test_person_times_report_totals_and_export(world: Any) -> None:
    site = f.site(world.a.community, "甲中心")
    other = f.site(world.a.community, "甲之家", level=SiteLevel.HOME)
    site_b = f.site(world.b.community, "乙中心")
    for s, n, cat, day in [(site, 30, "general", 5), (site, 12, "elderly", 40),
                           (other, 8, "elderly", 10), (site_b, 500, "general", 5)]:  # fmt: skip
        ServiceRecord.objects.create(
            site=s, category=f.category(cat), person_times=n,
            delivered_at=dt.datetime(2026, 1, 1, 12, tzinfo=LOCAL_TZ) + dt.timedelta(days=day),
        )  # fmt: skip
    staff = world.user(Role.COMMUNITY_STAFF)
    client = client_for(staff)
    page = client.get("/console/sites/report/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "共服务 50 人次" in text and "甲中心" in text and "乙中心" not in text
    by_category = client.get(
        "/console/sites/report/", {"start": "2026-01-01", "end": "2026-01-31", "by": "category"}
    ).content.decode()
    assert "共服务 38 人次" in by_category and "养老" in by_category
    by_level = client.get(
        "/console/sites/report/",
        {"start": "2026-01-01", "end": "2026-12-31", "by": "level", "level": "home"},
    ).content.decode()
    assert "共服务 8 人次" in by_level
    export = client.get(
        "/console/sites/report/",
        {"start": "2026-01-01", "end": "2026-12-31", "by": "site", "format": "xlsx"},
    )
    assert export.status_code == 200 and export["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    rows = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ("阵地", "人次", "记录数")
    assert ("甲中心", 42, 2) in rows and ("合计", 50, 3) in rows
    audit = AuditEvent.objects.get(action="export", object_type="sites.servicerecord")
    assert audit.actor_id == staff.pk and audit.detail["person_times"] == 50


def test_bad_report_periods_are_a_clear_400(world: Any) -> None:
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    response = client.get(
        "/console/sites/report/", {"start": "2026-05-01", "end": "2026-01-01", "by": "site"}
    )
    assert response.status_code == 400
    assert "结束日期：" in response.content.decode()
    response = client.get("/console/sites/report/", {"start": "tomorrow", "by": "site"})
    assert response.status_code == 400 and "开始日期：" in response.content.decode()


def test_an_area_center_is_seen_by_the_staff_of_every_unit_it_serves(world: Any) -> None:
    """An area (片区) under tree A's street spans tree A's community and a second
    community; both communities' staff see its center, the outsider does not, and only
    the staff above the area run it."""
    street = world.a.street
    area = unit_create(kind="area", name="甲片区", parent=street)
    second = unit_create(kind="community", name="丙社区", code="510502001002", parent=street)
    area.spans.add(world.a.community, second)
    center = f.site(area, "甲片区党群服务中心", level=SiteLevel.AREA_CENTER)
    other_area = unit_create(kind="area", name="乙片区", parent=street)
    elsewhere = f.site(other_area, "乙片区党群服务中心", level=SiteLevel.AREA_CENTER)
    staff_a = world.user(Role.COMMUNITY_STAFF)
    staff_second = make_user("second_staff", Role.COMMUNITY_STAFF, second)
    grid_member = world.user(Role.GRID_MEMBER)  # anchored below the spanned community
    for user in (staff_a, staff_second, grid_member):
        assert scoped(user, Site).filter(pk=center.pk).exists()
        assert not scoped(user, Site).filter(pk=elsewhere.pk).exists()
    assert not scoped(outsider(world), Site).filter(pk=center.pk).exists()
    page = client_for(staff_second).get(f"/console/sites/{center.pk}/")
    assert page.status_code == 200 and "编辑阵地信息" not in page.content.decode()
    assert client_for(staff_second).get(f"/console/sites/{center.pk}/edit/").status_code == 404
    assert (
        client_for(world.user(Role.STREET_ADMIN))
        .get(f"/console/sites/{center.pk}/edit/")
        .status_code
        == 200
    )


def test_what_an_area_center_offers_is_seen_where_it_serves_who_used_it_is_not(
    world: Any,
) -> None:
    """The staff of a community an area center serves see the center's rooms, slots,
    programs and partners' services, as they see the center; its bookings, requests,
    enrolments and money stay with the area that runs it."""
    street = world.a.street
    area = unit_create(kind="area", name="甲片区", parent=street)
    second = unit_create(kind="community", name="丙社区", code="510502001002", parent=street)
    area.spans.add(second)
    center = f.site(area, "甲片区党群服务中心", level=SiteLevel.AREA_CENTER)
    room, slot, program = f.room(center), f.slot(center), f.program(center)
    offering = f.partner_service(f.partner(area), center)
    resident = world.user(Role.RESIDENT)
    booking, request = f.booking(room, resident), f.request(center, resident)
    agreement = f.agreement(offering.partner, center)
    staff_second = make_user("second_staff", Role.COMMUNITY_STAFF, second)
    stranger, runner = outsider(world), world.user(Role.STREET_ADMIN)
    offered: list[tuple[Any, Any]] = [
        (Room, room), (AppointmentSlot, slot), (Program, program), (PartnerService, offering)
    ]  # fmt: skip
    kept: list[tuple[Any, Any]] = [
        (Booking, booking), (ServiceRequest, request), (RevenueShare, agreement)
    ]  # fmt: skip
    for model, row in offered:
        assert list(scoped(staff_second, model).filter(pk=row.pk)) == [row], model
        assert not scoped(stranger, model).filter(pk=row.pk).exists(), model
    for model, row in kept:
        assert not scoped(staff_second, model).filter(pk=row.pk).exists(), model
        assert scoped(runner, model).filter(pk=row.pk).exists(), model


@pytest.mark.parametrize(
    "role",
    [Role.COMMUNITY_STAFF, Role.PARTY_SECRETARY, Role.STREET_ADMIN, Role.DISTRICT_ADMIN,
     Role.COUNTY_ADMIN, Role.CITY_ADMIN],
)  # fmt: skip
def test_the_report_and_create_pages_answer_every_role_that_runs_sites(
    world: Any, role: str
) -> None:
    client = client_for(world.user(role))
    assert client.get("/console/sites/report/").status_code == 200
    assert client.get("/console/sites/new/").status_code == 200
    assert client.get("/console/sites/partners/").status_code == 200


def desk_post(key: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"key": key, "person": "", "mode": "on_receipt",
                            "category": "general", "matter": "开具居住证明", "documents": "",
                            "note": ""}  # fmt: skip
    data.update(overrides)
    return data


def test_the_desk_registers_a_matter_for_the_resident_it_found(world: Any) -> None:
    site = f.site(world.a.community, "甲社区党群服务中心")
    site.categories.set([f.category("general"), f.category("elderly")])
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    resident = world.a.person
    url = f"/console/sites/{site.pk}/desk/"
    # The site's page leads to the desk.
    assert url in staff.get(f"/console/sites/{site.pk}/").content.decode()
    # Found by name, by whole phone number and by its last four digits; shown masked.
    for q in (resident.name, "13800000000", "0000"):
        page = staff.get(url, {"q": q}).content.decode()
        assert resident.name in page and "138****0000" in page, q
        # Choosing carries the person, not what was typed (a phone, an ID number).
        assert f'href="?person={resident.pk}"' in page
    assert "13800000000" not in staff.get(url, {"q": resident.name}).content.decode()
    # Nobody outside the clerk's scope is found.
    elsewhere = staff.get(url, {"q": world.b.person.name}).content.decode()
    assert f"person={world.b.person.pk}" not in elsewhere and "找到 0 位居民" in elsewhere
    vague = staff.get(url, {"q": "甲"})
    assert vague.status_code == 200 and 'id="q-error"' in vague.content.decode()
    # The ID card handed over: found by the whole number; a wrong check digit is told.
    from doorstep.people.idnumber import make_id_number
    from doorstep.people.services import person_create

    number = make_id_number("510502", dt.date(1950, 3, 15), 123)
    carded = person_create(name="甲持证人", household=world.a.household, id_number=number)
    by_card = staff.get(url, {"q": number.lower()}).content.decode()
    results = by_card.split('id="q"', 1)[1].split("</form>", 1)[1]  # after the search box
    assert f'href="?person={carded.pk}"' in results and number not in results
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    refused = staff.get(url, {"q": wrong}).content.decode()
    assert 'id="q-error"' in refused and f'href="?person={carded.pk}"' not in refused
    chosen = staff.get(url, {"person": resident.pk}).content.decode()
    assert f"为 <strong>{resident.name}</strong> 登记" in chosen
    assert f'name="person" value="{resident.pk}"' in chosen
    # Someone the clerk may not serve, or junk, is not chosen: the form stays unnamed.
    for junk in (world.b.person.pk, "abc", 2**70):
        page = staff.get(url, {"person": junk}).content.decode()
        assert 'name="person" value=' not in page and "不记名（过路群众）" in page, junk

    # Handled on receipt: done at once, one service record, counted for the resident.
    done = staff.post(url, desk_post("k1", person=resident.pk), follow=True)
    assert done.status_code == 200 and "已登记" in done.content.decode()
    req = ServiceRequest.objects.get(site=site)
    assert (req.status, req.mode, req.person, req.requester) == (
        "done",
        "on_receipt",
        resident,
        None,
    )
    assert req.done_at == NOW and ServiceRecord.objects.filter(request=req).count() == 1
    # The same form sent twice (a double click) registers it once.
    assert staff.post(url, desk_post("k1", person=resident.pk)).status_code == 302
    assert ServiceRequest.objects.filter(site=site).count() == 1
    # Today's list at the desk shows it.
    today = staff.get(url).content.decode()
    assert "开具居住证明" in today and resident.name in today

    # A passer-by's matter for proxy handling joins the queue with its checklist.
    staff.post(url, desk_post("k2", mode="proxy", category="elderly", matter="高龄津贴申请",
                              documents="身份证复印件\n户口簿\n", note="下午来取"))  # fmt: skip
    proxy = ServiceRequest.objects.get(site=site, mode="proxy")
    assert proxy.status == "submitted" and proxy.person is None
    assert [d["name"] for d in proxy.documents] == ["身份证复印件", "户口簿"]
    assert not ServiceRecord.objects.filter(request=proxy).exists()
    queue = staff.get(f"/console/sites/{site.pk}/").content.decode()
    assert "高龄津贴申请" in queue and "不记名" in queue and "下午来取" in queue
    # When the resident comes back, the desk shows what they have under way here.
    staff.post(url, desk_post("k3", person=resident.pk, mode="proxy", matter="代办居住证",
                              documents="身份证复印件"))  # fmt: skip
    back = staff.get(url, {"person": resident.pk}).content.decode()
    pending = back.split('id="pending-matters"', 1)[1].split("</ul>", 1)[0]
    assert "代办居住证" in pending and "身份证复印件" in pending
    assert "高龄津贴申请" not in pending and "开具居住证明" not in pending  # unnamed; done


def test_the_desk_prints_a_receipt_and_takes_back_a_mistake_on_the_day(world: Any) -> None:
    site = f.site(world.a.community, "甲社区党群服务中心")
    site.categories.set([f.category("general")])
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    desk = f"/console/sites/{site.pk}/desk/"
    resident = world.a.person
    staff.post(desk, desk_post("r1", person=resident.pk))
    staff.post(desk, desk_post("r2", mode="proxy", matter="代办居住证",
                               documents="身份证复印件\n户口簿", person=resident.pk))  # fmt: skip
    done = ServiceRequest.objects.get(site=site, mode="on_receipt")
    proxy = ServiceRequest.objects.get(site=site, mode="proxy")
    # Registered "today" on the clock the services read.
    ServiceRequest.objects.filter(site=site).update(created_at=NOW)
    receipt = f"/console/sites/requests/{done.pk}/receipt/"
    assert receipt in staff.get(desk).content.decode()  # today's list links each slip
    queue = staff.get(f"/console/sites/{site.pk}/").content.decode()  # and the queue, its own
    assert f"/console/sites/requests/{proxy.pk}/receipt/" in queue
    slip = staff.get(receipt).content.decode()
    # What was done, for whom (masked, as on any slip a resident carries away), where.
    assert "开具居住证明" in slip and "已办结" in slip and site.address in slip
    assert resident.name not in slip and resident.name[0] + "*" in slip
    assert 'id="void-form"' in slip and "data-print" in slip
    proxy_slip = staff.get(f"/console/sites/requests/{proxy.pk}/receipt/").content.decode()
    assert (
        "身份证复印件" in proxy_slip and "未收" in proxy_slip and "领取时请带上本回执" in proxy_slip
    )

    # Taking back needs a reason; a refusal changes nothing.
    refused = staff.post(receipt, {"reason": "  "})
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    done.refresh_from_db()
    assert done.status == "done" and ServiceRecord.objects.filter(request=done).count() == 1
    # With one, the matter is cancelled, its person-time leaves the site's figures, and the
    # reason, who and when are kept on the request, in the audit log and on the slip.
    back = staff.post(receipt, {"reason": "选错了居民"}, follow=True)
    assert back.status_code == 200 and "已撤销登记" in back.content.decode()
    done.refresh_from_db()
    assert done.status == "cancelled"
    assert not ServiceRecord.objects.filter(request=done).exists()
    event = done.events.order_by("-id")[0]
    assert (event.from_status, event.to_status, event.note) == ("done", "cancelled", "选错了居民")
    audit = AuditEvent.objects.get(action="request_voided")
    assert audit.object_id == str(done.pk) and audit.detail["person_times"] == 1
    slip = staff.get(receipt).content.decode()
    assert 'id="receipt-voided"' in slip and "选错了居民" in slip and 'id="void-form"' not in slip
    assert "<strong>已取消</strong><br>" in slip  # no longer says when it was done
    # Once is enough: a second attempt is refused and writes nothing more.
    again = staff.post(receipt, {"reason": "再撤一次"})
    assert again.status_code == 400 and done.events.count() == 2
    # A proxy matter nobody has accepted leaves the queue the same way.
    staff.post(f"/console/sites/requests/{proxy.pk}/receipt/", {"reason": "居民改天再来"})
    proxy.refresh_from_db()
    assert proxy.status == "cancelled"

    # Yesterday's registration is past taking back here (the day's figures are out).
    staff.post(desk, desk_post("r3", person=resident.pk, matter="开具证明"))
    old = ServiceRequest.objects.get(site=site, matter="开具证明")
    ServiceRequest.objects.filter(pk=old.pk).update(created_at=NOW - dt.timedelta(days=1))
    old_url = f"/console/sites/requests/{old.pk}/receipt/"
    assert 'id="void-form"' not in staff.get(old_url).content.decode()
    late = staff.post(old_url, {"reason": "登记错了"})
    assert late.status_code == 400 and "只能撤销当天的登记" in late.content.decode()
    old.refresh_from_db()
    assert old.status == "done" and ServiceRecord.objects.filter(request=old).exists()

    # Those who do not run the site may not see the slip, let alone take it back.
    for user in (outsider(world), world.user(Role.RESIDENT), world.user(Role.GRID_MEMBER)):
        assert client_for(user).get(old_url).status_code == 404
        assert client_for(user).post(old_url, {"reason": "x"}).status_code == 404
    old.refresh_from_db()
    assert old.status == "done"


def test_a_matter_registered_at_the_desk_is_followed_on_the_residents_phone(world: Any) -> None:
    from doorstep.people.services import household_create, person_create, person_link_account

    site = f.site(world.a.community, "甲社区党群服务中心")
    site.categories.set([f.category("general"), f.category("elderly")])
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    desk = f"/console/sites/{site.pk}/desk/"
    daughter = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=daughter)
    mother = person_create(name="甲老母亲", household=world.a.household, relation="parent")
    next_door = household_create(unit=world.a.building, entrance="1", room="102")
    neighbour = person_create(name="甲邻居", household=next_door, relation="head")
    staff.post(desk, desk_post("m1", person=world.a.person.pk, mode="proxy", matter="代办居住证",
                               documents="身份证复印件"))  # fmt: skip
    staff.post(desk, desk_post("m2", person=mother.pk, mode="proxy", category="elderly",
                               matter="高龄津贴申请"))  # fmt: skip
    staff.post(desk, desk_post("m3", person=neighbour.pk, mode="proxy", matter="邻居的事"))
    staff.post(desk, desk_post("m4", mode="proxy", matter="过路群众的事"))
    assert ServiceRequest.objects.filter(site=site).count() == 4

    phone = client_for(daughter)
    mine = phone.get("/sites/mine/").content.decode()
    # Her own matter and her mother's (said to be for her), with the documents' state.
    assert "代办居住证" in mine and "身份证复印件" in mine
    assert "高龄津贴申请" in mine and "为甲老母亲办理" in mine
    assert "邻居的事" not in mine and "过路群众的事" not in mine
    # The desk's matters are cancelled at the desk, not from the phone.
    own = ServiceRequest.objects.get(matter="代办居住证")
    assert f"/sites/mine/request/{own.pk}/cancel/" not in mine
    assert phone.post(f"/sites/mine/request/{own.pk}/cancel/").status_code == 404
    own.refresh_from_db()
    assert own.status == "submitted"
    # Her home page counts both as under way.
    from doorstep.web.tests.test_todo import todos

    assert todos(daughter, "/")["预约和代办中的事项"] == (2, "/sites/mine/", False)
    # The checkpoint lets her read exactly those two.
    assert set(scoped(daughter, ServiceRequest).values_list("matter", flat=True)) == {
        "代办居住证",
        "高龄津贴申请",
    }


def test_the_desk_refuses_bad_input_beside_the_field_and_registers_nothing(world: Any) -> None:
    site = f.site(world.a.community, "甲社区党群服务中心")
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/sites/{site.pk}/desk/"
    cases = [
        (desk_post("b1", matter=""), "matter"),
        (desk_post("b2", category="nonexistent"), "category"),
        (desk_post("b3", mode="appointment"), "mode"),
        (desk_post("b4", person=world.b.person.pk), "person"),  # outside the clerk's scope
        (desk_post("b5", person="abc"), "person"),
        (desk_post("b6", mode="proxy", documents="\n".join(f"材料{i}" for i in range(40))),
         "documents"),
    ]  # fmt: skip
    for data, field in cases:
        response = staff.post(url, data)
        html = response.content.decode()
        assert response.status_code == 400, field
        assert 'role="alert"' in html, field
        assert f'value="{data["matter"]}"' in html or not data["matter"], field  # kept
    assert not ServiceRequest.objects.filter(site=site).exists()
    # Someone out of scope: named, not found.
    html = staff.post(url, desk_post("b7", person=world.b.person.pk)).content.decode()
    assert "不在您管辖的范围内" in html and world.b.person.name not in html


def test_the_desk_is_404_for_those_who_do_not_run_the_site(world: Any) -> None:
    site = f.site(world.a.community, "甲社区党群服务中心")
    url = f"/console/sites/{site.pk}/desk/"
    for user in (outsider(world), world.user(Role.RESIDENT), world.user(Role.GRID_MEMBER)):
        assert client_for(user).get(url).status_code == 404
        assert client_for(user).post(url, desk_post("x")).status_code == 404
    assert not ServiceRequest.objects.exists()


def test_the_site_page_says_who_booked_and_who_asked(world: Any) -> None:
    from doorstep.people.services import person_link_account

    site = f.site(world.a.community, "甲社区党群服务中心")
    resident = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=resident)
    f.booking(f.room(site), resident, start=NOW + dt.timedelta(days=1))
    f.request(site, resident)
    page = client_for(world.user(Role.COMMUNITY_STAFF)).get(f"/console/sites/{site.pk}/")
    html = page.content.decode()
    # The registry's name and the masked phone to call back, in both tables.
    assert html.count(world.a.person.name) >= 2 and html.count("138****0000") >= 2
    assert "13800000000" not in html


def test_the_desk_lists_at_most_ten_and_says_so(world: Any) -> None:
    from doorstep.people.services import person_create

    site = f.site(world.a.community, "甲社区党群服务中心")
    for i in range(12):
        person_create(name=f"王秀{'一二三四五六七八九十甲乙'[i]}", household=world.a.household)
    page = client_for(world.user(Role.COMMUNITY_STAFF)).get(
        f"/console/sites/{site.pk}/desk/", {"q": "王秀"}
    )
    html = page.content.decode()
    assert html.count('href="?person=') == 10 and "只列出前 10 位" in html
