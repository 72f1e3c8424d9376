"""Browser test of the canteen counter on a tablet: find the elderly diner by the last
four digits of their phone, see the ¥10 set meal with the rule named, pay part in
points, see the receipt; then the staff's canteen page draws the daily diner chart
with the vendored ECharts, without a script error. axe-core on the counter and the
receipt.

Run with ``pytest -m browser``; needs Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

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
    return {"canteen": row, "dishes": dishes, "account": account, "clerk": clerk}


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
