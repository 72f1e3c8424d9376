"""Browser tests of the sites pages: a resident finds the sites near them with the
browser's location (a Leaflet map and a list), and a community worker creates a site
through the console form, first with a bad coordinate (told which field, nothing made),
then right. axe-core on both pages.

Run with ``pytest -m browser``; needs Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from playwright.sync_api import Geolocation, Page, expect

from doorstep.web.tests import conftest as web_fixtures
from doorstep.web.tests.conftest import PASSWORD
from doorstep.web.tests.test_browser import _assert_accessible

# The web app's browser fixtures (Chromium, a page on the live server, a community and
# its worker), used here as they are.
community = web_fixtures.community
worker = web_fixtures.worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HERE: Geolocation = {"latitude": 36.5540, "longitude": 104.1765}


@pytest.fixture
def sites(community: Any, worker: Any) -> dict[str, Any]:
    from django.apps import apps

    from doorstep.sites.choices import SiteLevel
    from doorstep.sites.services import site_create, site_hours_set

    # A transactional test flushes the rows the data migration made; put them back.
    defaults = importlib.import_module(
        "doorstep.sites.migrations.0002_default_vocabularies_and_booking_exclusion"
    )
    defaults.add_defaults(apps, None)

    center = site_create(
        actor=worker, name="颐和社区党群服务中心", level=SiteLevel.COMMUNITY_CENTER,
        unit=community, lat=36.5545, lng=104.1770, address="颐和路 1 号",
        manager_kind="community", manager_name="颐和社区党委", categories=["general"],
        amenities=["drinking_water"],
    )  # fmt: skip
    station = site_create(
        actor=worker, name="红立方党群服务站", level=SiteLevel.STATION, unit=community,
        parent=center, lat=36.5560, lng=104.1790, address="颐和广场",
        manager_kind="community", manager_name="颐和社区党委", categories=["general"],
    )  # fmt: skip
    every_day = [(d, "00:00", "24:00") for d in range(8)]
    site_hours_set(actor=worker, site=station, intervals=every_day)
    return {"center": center, "station": station}


def _login(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/console/")


def test_sites_near_me_with_the_browser_location(page: Page, sites: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation(HERE)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto("/sites/")
    page.get_by_role("button", name="用我的位置").click()
    page.wait_for_url("**/sites/?*lat=*")
    expect(page.locator("#sites-map.leaflet-container")).to_be_visible()
    # One marker per site (with its dashed reach circle drawn only on coverage maps)
    # and one for where I am.
    expect(page.locator("#sites-map path.leaflet-interactive")).to_have_count(3)
    cards = page.locator("ul.card-list > li")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("颐和社区党群服务中心")
    expect(cards.nth(1)).to_contain_text("正在开放")
    assert errors == [], errors
    _assert_accessible(page, "/sites/ (phone)")


def test_worker_creates_a_site_through_the_console_form(
    page: Page, worker: Any, sites: dict[str, Any]
) -> None:
    from doorstep.sites.models import Site

    _login(page, worker.username)
    page.goto("/console/sites/new/")
    page.get_by_label("名称", exact=True).fill("颐和小区红立方之家")
    page.get_by_label("层级").select_option("home")
    page.get_by_label("所属单元").select_option(label="白银区 / 人民路街道 / 颐和社区")
    page.get_by_label("上级阵地").select_option(
        label="颐和社区党群服务中心 · 人民路街道 / 颐和社区"
    )
    # Swapped: the longitude typed as latitude.
    page.get_by_label("纬度").fill("104.1770")
    page.get_by_label("经度").fill("36.5545")
    page.get_by_label("坐标来源").select_option("gcj02")
    page.get_by_label("地址", exact=True).fill("颐和小区 3 栋架空层")
    page.get_by_label("管理主体类型").select_option("property_company")
    page.get_by_label("管理主体", exact=True).fill("颐和物业")
    page.get_by_label("饮用水").check()
    page.get_by_role("button", name="保存").click()
    alert = page.locator("#site-form div.error")
    expect(alert).to_contain_text("纬度：")
    expect(alert).to_contain_text("填反")
    assert not Site.objects.filter(name="颐和小区红立方之家").exists()
    _assert_accessible(page, "/console/sites/new/ with errors")

    page.get_by_label("纬度").fill("36.5545")
    page.get_by_label("经度").fill("104.1770")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("颐和小区红立方之家")
    site = Site.objects.get(name="颐和小区红立方之家")
    assert site.parent_id == sites["center"].pk and site.manager_kind == "property_company"
    from doorstep.core import geo

    expected = geo.to_wgs84(36.5545, 104.1770, "gcj02")  # converted, not stored as typed
    assert (site.lat, site.lng) == (pytest.approx(expected[0], abs=1e-6),
                                    pytest.approx(expected[1], abs=1e-6))  # fmt: skip
    assert abs(site.lng - 104.1770) > 1e-3


def test_a_long_list_of_places_is_narrowed_by_typing(
    page: Page, worker: Any, community: Any, sites: dict[str, Any]
) -> None:
    """Thirty compounds make the unit list long: a search box appears above it, typing
    keeps only the matching places (named with their street and community), and the
    place chosen is the one saved."""
    from doorstep.orgs.services import unit_create
    from doorstep.sites.models import Site

    for n in range(1, 31):
        unit_create(kind="compound", name=f"{n}号小区", parent=community)
    _login(page, worker.username)
    page.goto("/console/sites/new/")
    units = page.get_by_label("所属单元")
    box = page.get_by_role("searchbox", name="输入名称筛选").first
    expect(box).to_be_visible()
    assert units.locator("option").count() > 30
    box.fill("23号")
    expect(units.locator("option")).to_have_count(2)  # the blank choice and 23号小区
    units.select_option(label="人民路街道 / 颐和社区 / 23号小区")
    box.fill("")
    expect(units.locator("option")).to_have_count(
        32
    )  # all back (blank, community, 30), the choice kept
    expect(units).to_have_value(str(community.children.get(name="23号小区").pk))
    page.get_by_label("名称", exact=True).fill("23号小区红立方之家")
    page.get_by_label("层级").select_option("home")
    page.get_by_label("上级阵地").select_option(
        label="颐和社区党群服务中心 · 人民路街道 / 颐和社区"
    )
    page.get_by_label("纬度").fill("36.5545")
    page.get_by_label("经度").fill("104.1770")
    page.get_by_label("地址", exact=True).fill("23号小区门口")
    page.get_by_label("管理主体类型").select_option("property_company")
    page.get_by_label("管理主体", exact=True).fill("颐和物业")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("23号小区红立方之家")
    assert Site.objects.get(name="23号小区红立方之家").unit.name == "23号小区"
    _assert_accessible(page, "/console/sites/<id>/ after the filtered form")


def test_the_desk_registers_a_walk_in_for_the_resident_found(
    page: Page, sites: dict[str, Any], worker: Any, community: Any
) -> None:
    from doorstep.orgs.services import unit_create
    from doorstep.people.services import household_create, person_create
    from doorstep.sites.models import ServiceRecord, ServiceRequest

    building = unit_create(kind="building", name="3号楼", parent=community)
    household = household_create(unit=building, entrance="1", room="202")
    elder = person_create(name="任秀珍", household=household, phone="13912345678")
    center = sites["center"]
    _login(page, worker.username)
    page.goto(f"/console/sites/{center.pk}/")
    page.get_by_role("link", name="办事登记").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("办事登记")
    page.fill("#q", "5678")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("main")).to_contain_text("139****5678")
    page.get_by_role("link", name="选择").click()
    expect(page.locator("#selected-person")).to_contain_text("任秀珍")
    _assert_accessible(page, "the desk")
    page.fill("#id_matter", "开具居住证明")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator("main")).to_contain_text("已登记：开具居住证明（已办结）")
    req = ServiceRequest.objects.get(site=center)
    assert (req.person_id, req.status) == (elder.pk, "done")
    assert ServiceRecord.objects.filter(request=req).count() == 1
    # The slip to hand over, and a mistake taken back on the day.
    page.get_by_role("link", name="回执").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("办事回执")
    expect(page.locator("main")).to_contain_text("任*珍")
    expect(page.get_by_role("button", name="打印回执")).to_be_visible()
    _assert_accessible(page, "the desk's receipt")
    page.get_by_label("撤销原因").fill("选错了事项")
    page.get_by_role("button", name="撤销登记").click()
    expect(page.locator("main")).to_contain_text("已撤销登记：开具居住证明")
    req.refresh_from_db()
    assert req.status == "cancelled" and not ServiceRecord.objects.filter(request=req).exists()
