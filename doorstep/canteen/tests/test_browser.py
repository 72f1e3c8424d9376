"""Browser test of the canteen counter on a tablet: find the elderly diner by the last
four digits of their phone, see the ¥10 set meal with the rule named, pay part in
points (a first try with more points than the diner has is refused beside the button,
keeping what was typed), see the receipt; then the staff's canteen page draws the daily
diner chart with the vendored ECharts, without a script error. axe-core on the counter
and the receipt. On a phone, a resident's bills and the public menu are cards that fit
the screen, in Chinese, in English and in the elder-friendly mode.

Run with ``pytest -m browser``; needs Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from doorstep.web.tests import conftest as web_fixtures
from doorstep.web.tests.test_browser import _assert_accessible

# The web app's browser fixtures, used here by name.
PASSWORD = web_fixtures.PASSWORD
community = web_fixtures.community
worker = web_fixtures.worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def canteen(community: Any, worker: Any) -> dict[str, Any]:
    from doorstep.accounts.roles import Role
    from doorstep.accounts.services import role_grant, user_create
    from doorstep.orgs.services import unit_create
    from doorstep.people.services import person_create
    from doorstep.points.services import points_grant, resident_account

    from . import factories as f

    compound = unit_create(kind="compound", name="棉纺厂小区", parent=community)
    row = f.canteen(community, "颐和食堂")
    dishes = f.dishes(row)
    f.menu(row, dishes)
    elder = person_create(
        name="张秀英", unit=compound, phone="13912345678", birth_date=f.born_years_ago(70)
    )
    account = resident_account(person=elder)
    points_grant(actor=worker, account=account, amount=20, reason="清理楼道", idempotency_key="s")
    clerk = user_create(username="cook", password=PASSWORD, display_name="李收银")
    role_grant(actor=None, user=clerk, role=Role.OUTLET_CLERK, scope=row.outlet)
    return {
        "canteen": row,
        "dishes": dishes,
        "account": account,
        "clerk": clerk,
        "elder": elder,
    }


def _login(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/console/**")


def test_the_clerk_bills_an_elderly_diner_and_staff_see_the_chart(
    page: Page, canteen: dict[str, Any], worker: Any
) -> None:
    from doorstep.points.models import Account

    from ..models import MealOrder

    page.set_viewport_size({"width": 1024, "height": 768})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, canteen["clerk"].username)
    page.goto("/console/canteen/counter/?meal=lunch")
    expect(page.get_by_role("heading", level=1)).to_contain_text("颐和食堂")
    page.get_by_label("查找就餐者").fill("5678")
    page.get_by_role("button", name="查找", exact=True).click()
    diner = page.locator("#diner-title")
    expect(diner).to_contain_text("张*英")
    expect(diner).not_to_contain_text("张秀英")
    expect(page.locator("#balance")).to_have_text("20")
    expect(page.locator("table").first).to_contain_text("60岁以上 ¥10")
    page.mouse.move(0, 0)
    _assert_accessible(page, "/console/canteen/counter/ with a diner")

    page.get_by_label("荤素套餐").fill("1")
    page.get_by_label("牛肉面").fill("1")
    page.get_by_role("button", name="计算价格").click()
    expect(page.locator("#total")).to_have_text("¥22.00")
    page.get_by_label("积分抵扣").fill("21")
    page.get_by_role("button", name="确认收款").click()
    # Refused beside the buttons; the dishes and points typed are still there.
    expect(page.locator("#bill-error")).to_have_text("积分余额不足（可用 20）。")
    expect(page.locator("#bill-error + p > button").first).to_have_text("计算价格")
    expect(page.get_by_label("荤素套餐")).to_have_value("1")
    expect(page.get_by_label("积分抵扣")).to_have_value("21")
    page.mouse.move(0, 0)
    _assert_accessible(page, "/console/canteen/counter/ with a refused payment")
    assert not MealOrder.objects.exists()
    page.get_by_label("积分抵扣").fill("12")
    page.get_by_role("button", name="确认收款").click()
    page.wait_for_url("**/console/canteen/orders/*/")
    receipt = page.locator("article.receipt")
    expect(receipt).to_contain_text("就餐凭条")
    expect(receipt).to_contain_text("60岁以上 ¥10")
    expect(receipt).to_contain_text("¥10.00")  # the cash part
    expect(receipt).not_to_contain_text("张秀英")
    _assert_accessible(page, "canteen receipt")
    order = MealOrder.objects.get()
    assert (order.total_fen, order.points, order.cash_fen) == (2200, 12, 1000)
    assert Account.objects.get(pk=canteen["account"].pk).balance == 8

    page.context.clear_cookies()
    _login(page, worker.username)
    page.goto("/console/canteen/")
    expect(page.locator("#person-times")).to_have_text("1")
    expect(page.locator("#diner-chart canvas")).to_have_count(1)
    assert errors == [], errors


PHONE: ViewportSize = {"width": 390, "height": 844}


def _fits_the_phone(page: Page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: the page is {width}px wide"
    # Each card's cells name their column and keep a short value on one line.
    status = page.locator("td[data-label]").last
    label = status.evaluate("el => getComputedStyle(el, '::before').content")
    assert label == f'"{status.get_attribute("data-label")}"', (what, label)
    box = status.bounding_box()
    assert box is not None and box["height"] < 60 and box["width"] > 200, (what, box)


def test_a_resident_reads_bills_and_menus_on_a_phone(page: Page, canteen: dict[str, Any]) -> None:
    from doorstep.accounts.roles import Role
    from doorstep.conftest import PASSWORD as RESIDENT_PASSWORD
    from doorstep.conftest import make_user
    from doorstep.people.services import person_link_account

    from ..services import order_create

    order_create(
        actor=canteen["clerk"],
        canteen=canteen["canteen"],
        meal="lunch",
        items={canteen["dishes"]["set"].pk: 1, canteen["dishes"]["noodles"].pk: 1},
        person=canteen["elder"],
        points=2,
        idempotency_key="phone",
    )
    resident = make_user("elder_phone", Role.RESIDENT)
    person_link_account(person=canteen["elder"], user=resident)
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    page.fill("input[name=username]", resident.username)
    page.fill("input[name=password]", RESIDENT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()
    for path in ("/me/canteen/", "/canteen/"):
        page.goto(path)
        _fits_the_phone(page, f"{path} in Chinese")
        _assert_accessible(page, f"{path} on a phone")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/me/canteen/")
    expect(page.locator("main p").first).to_contain_text("Points available: 18")
    for path in ("/me/canteen/", "/canteen/"):
        page.goto(path)
        _fits_the_phone(page, f"{path} in English")
    page.get_by_role("button", name="Large text").click()
    for path in ("/me/canteen/", "/canteen/"):
        page.goto(path)
        _fits_the_phone(page, f"{path} in English, large text")
