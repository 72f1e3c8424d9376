"""Browser test of the clerk's counter on a tablet: find the resident by the last four
digits of their phone (masked name, balance), add goods, redeem, see the receipt; then
an over-balance redemption is refused beside its button, keeps the quantities typed and
changes nothing. axe-core on the counter (before and after the refusal) and the receipt.

Run with ``pytest -m browser``; needs Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from doorstep.web.tests import conftest as web_fixtures
from doorstep.web.tests.conftest import PASSWORD
from doorstep.web.tests.test_browser import _assert_accessible

# The web app's browser fixtures (Chromium, a page on the live server, a community and
# its worker), used here as they are.
community = web_fixtures.community
worker = web_fixtures.worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(community: Any, worker: Any) -> dict[str, Any]:
    from doorstep.accounts.roles import Role
    from doorstep.accounts.services import role_grant, user_create
    from doorstep.orgs.services import unit_create
    from doorstep.people.services import person_create

    from ..choices import OutletKind
    from ..services import goods_save, outlet_create, points_grant, resident_account

    compound = unit_create(kind="compound", name="颐和小区", parent=community)
    outlet = outlet_create(
        actor=worker, unit=community, kind=OutletKind.CHARITY_SHOP, name="颐和爱心屋"
    )
    soap = goods_save(
        actor=worker, outlet=outlet, name="洗衣粉", points_price=20, value_fen=1500, stock=5
    )
    oil = goods_save(
        actor=worker, outlet=outlet, name="食用油", points_price=50, value_fen=4990, stock=1
    )
    person = person_create(name="张秀英", unit=compound, phone="13912345678")
    account = resident_account(person=person)
    points_grant(
        actor=worker, account=account, amount=100, reason="清理楼道杂物", idempotency_key="seed"
    )
    clerk = user_create(username="clerk", password=PASSWORD, display_name="李收银")
    role_grant(actor=None, user=clerk, role=Role.OUTLET_CLERK, scope=outlet)
    return {"outlet": outlet, "soap": soap, "oil": oil, "account": account, "clerk": clerk}


def _login(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/console/**")


def test_the_clerk_finds_a_resident_redeems_and_prints_the_receipt(
    page: Page, shop: dict[str, Any]
) -> None:
    from ..models import Account, Goods, Redemption

    page.set_viewport_size({"width": 1024, "height": 768})  # a tablet, landscape
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, shop["clerk"].username)
    page.goto("/console/counter/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("颐和爱心屋")
    page.get_by_label("查找居民").fill("5678")
    page.get_by_role("button", name="查找", exact=True).click()
    holder = page.locator("#holder-title")
    expect(holder).to_contain_text("张*英")
    expect(holder).not_to_contain_text("张秀英")
    expect(holder).to_contain_text("139****5678")
    expect(page.locator("#balance")).to_have_text("100")
    # The mouse still hovers the search button just pressed: hover colours are checked too.
    _assert_accessible(page, "/console/counter/ with a resident")

    page.get_by_label("洗衣粉").fill("2")
    page.get_by_role("button", name="确认兑换").click()
    page.wait_for_url("**/console/counter/receipts/*/")
    receipt = page.locator("article.receipt")
    expect(receipt).to_contain_text("兑换凭条")
    expect(receipt).to_contain_text("洗衣粉")
    expect(receipt).to_contain_text("¥30.00")
    expect(receipt).to_contain_text("当前余额：60")
    expect(receipt).not_to_contain_text("张秀英")
    expect(page.get_by_role("button", name="打印凭条")).to_be_visible()
    _assert_accessible(page, "receipt")
    redemption = Redemption.objects.get()
    assert redemption.points == 40 and redemption.clerk_id == shop["clerk"].pk
    assert Goods.objects.get(pk=shop["soap"].pk).stock == 3

    # Back at the counter: by pinyin this time, and more than the balance pays for.
    page.get_by_role("link", name="返回柜台").click()
    page.get_by_label("查找居民").fill("zhangxiuying")
    page.get_by_role("button", name="查找", exact=True).click()
    expect(page.locator("#balance")).to_have_text("60")
    page.get_by_label("洗衣粉").fill("1")
    page.get_by_label("食用油").fill("1")
    page.get_by_role("button", name="确认兑换").click()
    # The refusal stands above the button it refused, and the quantities are kept.
    refusal = page.locator("#redeem-error")
    expect(refusal).to_have_text("积分余额不足。")
    expect(page.locator("#redeem-error + p > button")).to_have_text("确认兑换")
    expect(page.get_by_label("洗衣粉")).to_have_value("1")
    expect(page.get_by_label("食用油")).to_have_value("1")
    expect(page.locator("#balance")).to_have_text("60")
    _assert_accessible(page, "/console/counter/ with a refused redemption")
    assert Redemption.objects.count() == 1
    assert Account.objects.get(pk=shop["account"].pk).balance == 60
    assert Goods.objects.get(pk=shop["oil"].pk).stock == 1
    assert errors == [], errors
