"""Sites, their hours and the holiday calendar: creating a site (datums, bad
coordinates, levels), who may run it, weekly hours with extended and holiday hours,
closures, the calendar file, and "open at" in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from doorstep.accounts.models import AuditEvent
from doorstep.accounts.roles import Role
from doorstep.core import geo
from doorstep.core.errors import PermissionDenied, ValidationError
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.services import unit_create
from doorstep.sites import hours
from doorstep.sites.choices import HOLIDAY_DAY, ManagerKind, SiteLevel
from doorstep.sites.models import HolidayDay, OpeningHours, ServiceCategory, Site, StationType
from doorstep.sites.services import (
    holiday_calendar_load,
    site_closure_add,
    site_create,
    site_hours_set,
    site_move,
)

pytestmark = pytest.mark.django_db

LUZHOU = (28.885, 105.445)


def create(world: Any, **kwargs: Any) -> Site:
    args: dict[str, Any] = {
        "actor": world.user(Role.COMMUNITY_STAFF),
        "name": "上平社区党群服务中心",
        "level": SiteLevel.COMMUNITY_CENTER,
        "unit": world.a.community,
        "lat": LUZHOU[0],
        "lng": LUZHOU[1],
        "address": "大山坪街道上平路1号",
        "manager_kind": ManagerKind.COMMUNITY,
        "manager_name": "上平社区居委会",
        "categories": ["general", "elderly"],
        "amenities": ["drinking_water", "wifi"],
    }
    args.update(kwargs)
    return site_create(**args)


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm), tzinfo=LOCAL_TZ)


def test_defaults_are_eight_categories_and_nine_station_types() -> None:
    names = list(ServiceCategory.objects.values_list("name", flat=True))
    assert names[:4] == ["综合", "养老", "教育培训", "医疗健康"]
    assert len(names) == 8
    stations = set(StationType.objects.values_list("name", flat=True))
    assert len(stations) == 9
    assert {"两新党建指导站", "政务服务站", "联动警务站", "就业服务站", "小哥能量站"} <= stations


def test_community_staff_create_a_site_with_categories_and_amenities(world: Any) -> None:
    site = create(world)
    assert (site.lat, site.lng) == LUZHOU
    assert {c.code for c in site.categories.all()} == {"general", "elderly"}
    assert {a.code for a in site.amenities.all()} == {"drinking_water", "wifi"}


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_map_app_coordinates_are_converted_to_wgs84(world: Any, datum: str) -> None:
    lat, lng = geo.wgs84_to_gcj02(*LUZHOU)
    if datum == "bd09":
        # BD-09 forward transform, the inverse of core.geo.bd09_to_gcj02.
        import math

        z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * math.pi * 3000 / 180)
        theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * math.pi * 3000 / 180)
        lat, lng = z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065
    site = create(world, lat=lat, lng=lng, datum=datum)
    assert abs(site.lat - LUZHOU[0]) < 2e-5 and abs(site.lng - LUZHOU[1]) < 2e-5
    assert geo.haversine_m(geo.Point(site.lat, site.lng), geo.Point(*LUZHOU)) < 2


@pytest.mark.parametrize(
    "lat,lng,message",
    [
        (105.445, 28.885, "填反"),
        (48.85, 2.35, "不在中国境内"),
        ("abc", 1, "数字"),
        (None, 105.0, "同时提供"),
    ],
)
def test_bad_coordinates_are_refused_and_nothing_is_created(
    world: Any, lat: Any, lng: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        create(world, lat=lat, lng=lng)
    assert caught.value.field == "location"
    assert not Site.objects.exists()


def test_levels_hang_under_the_level_above(world: Any) -> None:
    center = create(world)
    compound = world.a.compound
    home = create(
        world, name="小区之家", level=SiteLevel.HOME, unit=compound, parent=center,
        manager_kind=ManagerKind.PROPERTY_COMPANY, manager_name="某物业服务有限公司",
    )  # fmt: skip
    assert home.parent == center and home.manager_kind == "property_company"
    with pytest.raises(ValidationError, match="站和之家必须挂在上级阵地之下") as caught:
        create(world, name="孤立之家", level=SiteLevel.HOME, unit=compound)
    assert caught.value.field == "parent"
    with pytest.raises(ValidationError, match="上级阵地的层级不对"):
        create(world, name="错挂中心", level=SiteLevel.COMMUNITY_CENTER, parent=home)
    with pytest.raises(ValidationError, match="不能设在这一级单元") as caught:
        create(world, name="楼里中心", unit=world.a.building)
    assert caught.value.field == "unit"
    with pytest.raises(ValidationError, match="未知的代码") as caught:
        create(world, name="怪中心", categories=["nonsense"])
    assert caught.value.field == "categories"
    assert Site.objects.count() == 2


def test_an_area_center_may_be_a_street_level_site_with_stations_under_it(world: Any) -> None:
    area = unit_create(kind="area", name="甲片区", parent=world.a.street)
    center = create(
        world, actor=world.user(Role.STREET_ADMIN), name="片区中心", level=SiteLevel.AREA_CENTER,
        unit=area,
    )  # fmt: skip
    station = create(
        world, actor=world.user(Role.STREET_ADMIN), name="红立方", level=SiteLevel.STATION,
        unit=area, parent=center, setting="shopping_area",
        station_types=["party_guidance", "government", "police", "employment", "rider_energy"],
    )  # fmt: skip
    assert station.station_types.count() == 5


def test_only_staff_over_the_unit_create_or_move_sites(world: Any) -> None:
    for role in (Role.RESIDENT, Role.GRID_MEMBER, Role.PARTNER, Role.DEPARTMENT_STAFF):
        with pytest.raises(PermissionDenied):
            create(world, actor=world.user(role))
    assert not Site.objects.exists()
    site = create(world)
    from doorstep.conftest import outsider

    with pytest.raises(Exception) as caught:
        site_move(actor=outsider(world), site=site, lat=29, lng=105)
    assert caught.type.__name__ == "Http404"
    moved = site_move(actor=world.user(Role.CITY_ADMIN), site=site, lat=28.9, lng=105.4)
    assert (moved.lat, moved.lng) == (28.9, 105.4)


def test_weekly_hours_with_extended_and_holiday_hours(world: Any) -> None:
    site = create(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    schedule: list[tuple[Any, ...]] = [(d, "09:00", "12:00") for d in range(5)] + [
        (d, "14:00", "18:00") for d in range(5)
    ]
    schedule += [(d, "18:00", "21:00", True) for d in range(5)] + [(HOLIDAY_DAY, "10:00", "16:00")]
    site_hours_set(actor=staff, site=site, intervals=schedule)
    monday = dt.date(2026, 3, 2)
    hol: dict[dt.date, str] = {}
    assert hours.site_state(site, at(monday, 9), hol).is_open
    assert not hours.site_state(site, at(monday, 12, 30), hol).is_open
    evening = hours.site_state(site, at(monday, 20, 59), hol)
    assert evening.is_open and evening.extended and evening.closes_at == dt.time(21)
    assert not hours.site_state(site, at(monday, 21), hol).is_open
    saturday = dt.date(2026, 3, 7)
    assert not hours.site_state(site, at(saturday, 10), hol).is_open
    # A moment given in UTC is judged in Shanghai: 01:30 UTC is 09:30 there.
    assert hours.site_state(site, dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC), hol).is_open


def test_bad_hours_are_refused_whole(world: Any) -> None:
    site = create(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    site_hours_set(actor=staff, site=site, intervals=[(0, "09:00", "17:00")])
    for bad, message in [
        ([(0, "18:00", "09:00")], "关门时间必须晚于开门时间"),
        ([(0, "09:00", "12:00"), (0, "11:00", "13:00")], "重叠"),
        ([(9, "09:00", "12:00")], "星期无效"),
        ([(0, "9点", "12:00")], "时间格式无效"),
    ]:
        with pytest.raises(ValidationError, match=message) as caught:
            site_hours_set(actor=staff, site=site, intervals=[(1, "09:00", "17:00"), *bad])
        assert caught.value.field == "hours"
    assert list(OpeningHours.objects.filter(site=site).values_list("day", flat=True)) == [0]


CSV_2026 = """date,kind,name
2026-01-01,holiday,元旦
2026-01-04,workday,元旦调休
2026-10-01,holiday,国庆节
2026-10-10,上班,国庆调休
"""


def test_calendar_holidays_and_adjusted_working_days(world: Any) -> None:
    site = create(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    site_hours_set(
        actor=staff, site=site,
        intervals=[(0, "09:00", "17:00"), (3, "09:00", "17:00"), (HOLIDAY_DAY, "10:00", "12:00")],
    )  # fmt: skip
    loaded = holiday_calendar_load(actor=world.user(Role.SYSTEM_ADMIN), year=2026, content=CSV_2026)
    assert loaded == 4
    assert AuditEvent.objects.filter(action="import", object_id="2026").exists()
    new_year = dt.date(2026, 1, 1)  # a Thursday, but a holiday: holiday hours
    hol = hours.holidays_between(new_year, dt.date(2026, 12, 31))
    assert not hours.site_state(site, at(new_year, 9), hol).is_open
    assert hours.site_state(site, at(new_year, 11), hol).is_open
    swapped = dt.date(2026, 1, 4)  # a Sunday worked: the Monday schedule
    assert hours.site_state(site, at(swapped, 9), hol).is_open
    assert not hours.site_state(site, at(dt.date(2026, 1, 11), 9), hol).is_open


def test_calendar_json_and_reload_replaces_the_year(world: Any) -> None:
    admin = world.user(Role.SYSTEM_ADMIN)
    holiday_calendar_load(actor=admin, year=2026, content=CSV_2026)
    holiday_calendar_load(
        actor=admin,
        year=2026,
        filename="2026.json",
        content='{"year": 2026, "days": [{"date": "2026-02-17", "kind": "holiday", "name": "春节"}]}',
    )
    assert list(HolidayDay.objects.values_list("name", flat=True)) == ["春节"]


@pytest.mark.parametrize(
    "content,message",
    [
        ("date,kind,name\n2026-13-01,holiday,x\n", "第 2 行：日期无效"),
        ("date,kind,name\n2026-01-01,rest,x\n", "第 2 行：类型必须是"),
        ("date,kind,name\n2025-12-31,holiday,x\n", "第 2 行：日期不在 2026 年内"),
        ("date,kind,name\n2026-01-01,holiday,x\n2026-01-01,holiday,y\n", "第 3 行：日期重复"),
        ("date,kind,name\n2026-01-05,workday,x\n", "第 2 行：调休上班日应在周六或周日"),
        ("day,type\n2026-01-01,holiday\n", "表头"),
        ('{"days": [', "不是有效的 JSON"),
        (b"\xff\xfe\x00", "UTF-8"),
    ],
)
def test_a_malformed_calendar_loads_nothing(world: Any, content: Any, message: str) -> None:
    admin = world.user(Role.SYSTEM_ADMIN)
    holiday_calendar_load(actor=admin, year=2026, content=CSV_2026)
    with pytest.raises(ValidationError, match=message) as caught:
        holiday_calendar_load(actor=admin, year=2026, content=content)
    assert caught.value.field == "file"
    assert HolidayDay.objects.count() == 4


def test_every_bad_line_is_reported() -> None:
    from doorstep.sites.calendar_file import parse

    with pytest.raises(ValidationError) as caught:
        parse("date,kind,name\nx,holiday,a\n2026-01-01,holiday,b\ny,holiday,c\n", year=2026)
    messages = [str(m) for m in caught.value.errors["file"]]
    assert len(messages) == 2 and "第 2 行" in messages[0] and "第 4 行" in messages[1]


def test_only_configuring_admins_load_the_calendar(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        holiday_calendar_load(actor=world.user(Role.COMMUNITY_STAFF), year=2026, content=CSV_2026)
    assert not HolidayDay.objects.exists()


def test_closures_and_special_hours_override_the_week(world: Any) -> None:
    site = create(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    site_hours_set(actor=staff, site=site, intervals=[(d, "09:00", "17:00") for d in range(7)])
    site_closure_add(
        actor=staff, site=site, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 3, 3),
        reason="设备检修",
    )  # fmt: skip
    site_closure_add(
        actor=staff, site=site, starts_on=dt.date(2026, 3, 4), ends_on=dt.date(2026, 3, 4),
        reason="节日值守", opens="18:00", closes="22:00",
    )  # fmt: skip
    hol: dict[dt.date, str] = {}
    assert not hours.site_state(site, at(dt.date(2026, 3, 3), 10), hol).is_open
    assert not hours.site_state(site, at(dt.date(2026, 3, 4), 10), hol).is_open
    assert hours.site_state(site, at(dt.date(2026, 3, 4), 21), hol).is_open
    assert hours.site_state(site, at(dt.date(2026, 3, 5), 10), hol).is_open
    with pytest.raises(ValidationError, match="关门时间必须晚于开门时间") as caught:
        site_closure_add(
            actor=staff, site=site, starts_on=dt.date(2026, 3, 9), ends_on=dt.date(2026, 3, 9),
            reason="x", opens="20:00", closes="08:00",
        )  # fmt: skip
    assert caught.value.field == "closes"
    with pytest.raises(ValidationError, match="结束日期不能早于开始日期"):
        site_closure_add(
            actor=staff, site=site, starts_on=dt.date(2026, 3, 9), ends_on=dt.date(2026, 3, 8),
            reason="x",
        )  # fmt: skip
    assert site.closures.count() == 2
