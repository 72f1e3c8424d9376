"""Browser tests of the registry and grid pages: live search, the grid map drawn by
Leaflet, the grid member's phone view, and axe-core on each."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from doorstep.web.tests.conftest import PASSWORD
from doorstep.web.tests.test_browser import _assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def estate(community: Any) -> dict[str, Any]:
    from doorstep.accounts.services import role_grant, user_create
    from doorstep.grids.selectors import balance_plan
    from doorstep.grids.services import grid_balance_apply, grid_create
    from doorstep.orgs.services import unit_create
    from doorstep.people.services import household_create, person_create

    compound = unit_create(
        kind="compound", name="棉纺厂小区", parent=community, lat=36.5535, lng=104.1762
    )
    names = iter(["王秀英", "李建国", "张伟", "刘芳", "陈明", "杨丽", "赵强", "黄娟"])
    for b in (1, 2):
        building = unit_create(
            kind="building",
            name=f"{b}号楼",
            parent=compound,
            lat=36.5535 + b * 0.0004,
            lng=104.1762,
        )
        for room in ("101", "102", "201", "202"):
            household = household_create(unit=building, entrance="1", room=room)
            person_create(
                name=next(names), household=household, relation="head", phone="13900000000"
            )
    grid = grid_create(unit=community, name="第一网格")
    member = user_create(username="gridder", password=PASSWORD, display_name="孙网格")
    role_grant(actor=None, user=member, role="grid_member", scope=grid)
    grid_balance_apply(plan=balance_plan(unit=community, max_size=50))
    return {"community": community, "grid": grid, "member": member}


def _login(page: Page, username: str, landing: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**{landing}")


def test_registry_live_search_by_pinyin(page: Page, worker: Any, estate: dict[str, Any]) -> None:
    _login(page, worker.username, "/console/")
    page.goto("/console/registry/")
    expect(page.locator("main")).to_contain_text("王秀英")
    page.get_by_role("searchbox").first.fill("lj")
    expect(page.locator("main")).to_contain_text("李建国")
    expect(page.locator("main")).not_to_contain_text("王秀英")
    expect(page.locator("main")).to_contain_text("139****0000")
    expect(page.locator("main")).not_to_contain_text("13900000000")
    _assert_accessible(page, "/console/registry/")


def test_grid_map_draws_grids_and_households(
    page: Page, worker: Any, estate: dict[str, Any]
) -> None:
    _login(page, worker.username, "/console/")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"/console/grids/units/{estate['community'].pk}/map/")
    expect(page.locator("#grid-map.leaflet-container")).to_be_visible()
    # One dashed outline for the grid and one circle per building.
    expect(page.locator("#grid-map path.leaflet-interactive")).to_have_count(3)
    assert errors == [], errors
    _assert_accessible(page, "grid map")


def test_grid_member_phone_view(page: Page, estate: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, "gridder", "/console/")
    page.goto("/console/my-grid/")
    expect(page.locator("main")).to_contain_text("1号楼")
    expect(page.locator("main")).to_contain_text("2号楼")
    _assert_accessible(page, "/console/my-grid/ (phone)")


def test_worker_registers_a_member_and_puts_a_newcomer_in_a_grid(
    page: Page, worker: Any, estate: dict[str, Any]
) -> None:
    from doorstep.people.models import Household, Person, Tag

    # A transactional test's database is flushed after each test, migration data too.
    Tag.objects.get_or_create(code="living_alone", defaults={"name": "独居"})
    household = Household.objects.get(unit__name="1号楼", room="101")
    _login(page, worker.username, "/console/")
    page.goto(f"/console/registry/households/{household.pk}/")
    page.get_by_role("link", name="登记家庭成员").click()
    expect(page.get_by_label("门牌号/室号")).to_have_value("101")
    _assert_accessible(page, "the registration form")
    page.get_by_label("与户主关系").select_option("spouse")
    page.get_by_label("姓名").fill("周敏")
    page.get_by_label("电话").fill("13700001234")
    page.get_by_label("独居").check()
    page.get_by_role("button", name="确认登记").click()
    expect(page.locator("main")).to_contain_text("已登记周敏")
    expect(page.locator("main")).to_contain_text("137****1234")
    expect(page.get_by_role("table").last).to_contain_text("登记于")
    _assert_accessible(page, "the person's page with its history")
    # A refused correction keeps what was typed and says why, beside the field.
    page.get_by_role("link", name="修改信息").click()
    page.get_by_label("新的身份证号码").fill("123")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.get_by_label("新的身份证号码")).to_have_attribute("aria-invalid", "true")
    _assert_accessible(page, "a refused correction")
    # A newcomer at a new address is in no grid until put in one.
    page.goto("/console/registry/people/new/")
    page.get_by_label("楼栋/小区/自然村").select_option(label="棉纺厂小区 · 2号楼")
    page.get_by_label("单元").fill("2")
    page.get_by_label("门牌号/室号").fill("301")
    page.get_by_label("姓名").fill("吴刚")
    page.get_by_role("button", name="确认登记").click()
    expect(page.locator("main")).to_contain_text("已登记吴刚")
    newcomer = Person.objects.get(name="吴刚")
    page.goto(f"/console/grids/units/{estate['community'].pk}/")
    expect(page.locator("main")).to_contain_text("2号楼2单元301")
    page.get_by_role("link", name="划入网格").click()
    page.get_by_label("网格", exact=True).select_option(label="第一网格")
    page.get_by_label("联系网格员").select_option(label="第一网格 · 孙网格")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("main")).to_contain_text("每一户都在网格中")
    assert (
        newcomer.household is not None
        and newcomer.household.grid_link.member_id == estate["member"].pk
    )


def test_worker_records_a_death_closes_the_empty_flat_and_can_undo_it(
    page: Page, worker: Any, estate: dict[str, Any]
) -> None:
    from doorstep.people.models import Household, Person

    person = Person.objects.get(name="刘芳")  # alone in 1号楼1单元202
    _login(page, worker.username, "/console/")
    page.goto(f"/console/registry/people/{person.pk}/")
    page.get_by_role("link", name="登记迁出或去世").click()
    _assert_accessible(page, "the leave form")
    # A day in the future is refused beside the field, and nothing changes.
    page.get_by_label("去世").check()
    page.get_by_label("日期").fill("2099-01-01")
    page.get_by_role("button", name="确认登记").click()
    expect(page.get_by_label("日期")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main")).to_contain_text("日期不能晚于今天")
    page.get_by_label("日期").fill("2026-01-05")
    page.get_by_label("说明").fill("病故")
    page.get_by_role("button", name="确认登记").click()
    expect(page.locator("main")).to_contain_text("已登记刘芳去世")
    expect(page.locator("main")).to_contain_text("可在住户页面注销住户")
    expect(page.locator("p.notice")).to_contain_text("已于 2026-01-05 去世")
    _assert_accessible(page, "the record of someone who died")
    # The console home counts the flat nobody on the register lives in; its list links it.
    page.goto("/console/")
    page.get_by_role("link", name="已无在册成员、待注销的住户").click()
    page.get_by_role("link", name="棉纺厂小区 · 1号楼1单元202").click()
    expect(page.locator("main")).to_contain_text("已迁出或去世的成员")
    page.get_by_role("button", name="注销住户").click()
    expect(page.locator("main")).to_contain_text("已注销该住户")
    assert Household.objects.filter(members=person, is_active=False).exists()
    # A mistake is undone from the record: on the register again, the flat open again.
    page.get_by_role("link", name="刘芳").click()
    page.get_by_role("button", name="恢复在册").click()
    expect(page.locator("main")).to_contain_text("刘芳已恢复在册")
    person.refresh_from_db()
    assert person.left_on is None
    assert Household.objects.filter(members=person, is_active=True).exists()
