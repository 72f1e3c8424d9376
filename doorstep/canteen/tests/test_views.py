"""The canteen pages through the test client: the clerk's counter from search to
receipt, refunds, the community's canteen pages, the public menus with "your price"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import scoped
from doorstep.conftest import make_user
from doorstep.orgs.models import Unit
from doorstep.orgs.services import unit_create
from doorstep.people.services import person_link_account
from doorstep.points.checking import ledger_check
from doorstep.points.choices import OutletKind
from doorstep.points.services import outlet_create

from ..choices import Meal, OrderState
from ..models import Canteen, Dish, MealOrder, Menu, PriceRule
from . import factories as f

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_counter_from_search_to_receipt(place: dict[str, Any]) -> None:
    client = _client(place["clerk"])
    page = client.get("/console/canteen/counter/", {"q": "5678", "meal": "lunch"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "王*英" in text and "王秀英" not in text
    # One hit opens the diner at once, with the price they pay and why.
    assert "60岁以上 ¥10" in text
    ticket = page.context["ticket"]
    dishes = place["dishes"]
    form = {
        "canteen": place["canteen"].pk,
        "meal": "lunch",
        "ticket": ticket,
        "key": "counter-1",
        f"qty_{dishes['set'].pk}": "1",
        f"qty_{dishes['noodles'].pk}": "1",
    }
    quote = client.post("/console/canteen/counter/", {**form, "action": "quote"})
    assert quote.status_code == 200
    assert quote.context["quote"].total_fen == 2200
    assert "¥22.00" in quote.content.decode()
    paid = client.post("/console/canteen/counter/", {**form, "action": "pay", "cash_yuan": "22"})
    assert paid.status_code == 302
    order = MealOrder.objects.get()
    assert paid["Location"] == f"/console/canteen/orders/{order.pk}/"
    assert (order.person, order.cash_fen, order.clerk) == (place["elder"], 2200, place["clerk"])
    receipt = client.get(paid["Location"])
    assert receipt.status_code == 200
    body = receipt.content.decode()
    assert "60岁以上 ¥10" in body and order.number in body
    assert "退款原因" not in body  # a clerk does not refund


def test_the_canteen_counter_search_is_audited_and_shares_the_clerks_limit(
    place: dict[str, Any], settings: Any
) -> None:
    from doorstep.accounts.models import AuditAction, AuditEvent, AuditOutcome

    settings.DOORSTEP_COUNTER_SEARCH_LIMIT = 2
    client = _client(place["clerk"])
    for _ in range(2):
        assert "王*英" in client.get("/console/canteen/counter/", {"q": "5678"}).content.decode()
    page = client.get("/console/canteen/counter/", {"q": "5678"}).content.decode()
    assert "查找过于频繁" in page and "王*英" not in page
    rows = AuditEvent.objects.filter(action=AuditAction.COUNTER_SEARCH).order_by("id")
    assert [(r.outcome, r.detail["counter"], r.detail.get("shown")) for r in rows] == [
        (AuditOutcome.SUCCESS, f"canteen:{place['canteen'].pk}", [place["elder"].pk]),
        (AuditOutcome.SUCCESS, f"canteen:{place['canteen'].pk}", [place["elder"].pk]),
        (AuditOutcome.DENIED, f"canteen:{place['canteen'].pk}", None),
    ]


def test_counter_refuses_with_a_message_and_changes_nothing(place: dict[str, Any]) -> None:
    client = _client(place["clerk"])
    dishes = place["dishes"]
    response = client.post(
        "/console/canteen/counter/",
        {
            "canteen": place["canteen"].pk,
            "meal": "lunch",
            "walkin": "1",
            "key": "walk-1",
            "action": "pay",
            "points": "3",
            f"qty_{dishes['set'].pk}": "1",
        },
    )
    assert response.status_code == 400
    assert "散客不能使用积分付款" in response.content.decode()
    assert not MealOrder.objects.exists()
    # A forged ticket is not a diner.
    assert client.get("/console/canteen/counter/", {"ticket": "forged"}).status_code == 404


def test_walk_in_pays_list_price(place: dict[str, Any]) -> None:
    client = _client(place["clerk"])
    dishes = place["dishes"]
    response = client.post(
        "/console/canteen/counter/",
        {
            "canteen": place["canteen"].pk,
            "meal": "dinner",
            "walkin": "1",
            "key": "walk-2",
            "action": "pay",
            f"qty_{dishes['set'].pk}": "1",
        },
    )
    assert response.status_code == 302
    order = MealOrder.objects.get()
    assert (order.person, order.total_fen, order.meal) == (None, 1800, Meal.DINNER)


def test_clerk_of_another_outlet_finds_no_canteen(place: dict[str, Any]) -> None:
    shop = outlet_create(
        actor=None, unit=place["community"], kind=OutletKind.CHARITY_SHOP, name="颐和爱心屋"
    )
    client = _client(make_user("shop_clerk", Role.OUTLET_CLERK, shop))
    page = client.get("/console/canteen/counter/")
    assert page.status_code == 200
    assert "还没有幸福食堂" in page.content.decode()
    assert (
        client.get("/console/canteen/counter/", {"canteen": place["canteen"].pk}).status_code == 200
    )
    assert client.get(f"/console/canteen/{place['canteen'].pk}/").status_code == 404


def test_staff_refund_on_the_receipt(place: dict[str, Any]) -> None:
    from ..services import order_create

    account = f.funded(place["elder"], 20, "v1")
    order = order_create(
        actor=place["clerk"],
        canteen=place["canteen"],
        meal="lunch",
        items={place["dishes"]["set"].pk: 1},
        person=place["elder"],
        points=10,
        idempotency_key="r1",
    )
    client = _client(place["staff"])
    assert client.post(f"/console/canteen/orders/{order.pk}/", {"reason": ""}).status_code == 400
    order.refresh_from_db()
    assert order.state == OrderState.PAID  # no reason, no refund
    client.post(f"/console/canteen/orders/{order.pk}/", {"reason": "没吃上"})
    order.refresh_from_db()
    account.refresh_from_db()
    assert order.state == OrderState.REFUNDED and account.balance == 20
    assert ledger_check().ok
    clerk = _client(place["clerk"])
    assert clerk.post(f"/console/canteen/orders/{order.pk}/", {"reason": "x"}).status_code == 404


def test_staff_run_dishes_rules_menus_and_see_the_report(place: dict[str, Any]) -> None:
    client = _client(place["staff"])
    canteen = place["canteen"]
    url = f"/console/canteen/{canteen.pk}/"
    assert client.get(url).status_code == 200
    client.post(url, {"action": "dish", "name": "红烧肉", "kind": "a_la_carte", "price_yuan": "20"})
    dish = Dish.objects.get(name="红烧肉")
    assert dish.price_fen == 2000
    bad = client.post(
        url, {"action": "dish", "name": "坏", "kind": "a_la_carte", "price_yuan": "-1"}
    )
    assert bad.status_code == 400 and "不能为负数" in bad.content.decode()
    client.post(
        url,
        {
            "action": "rule",
            "group": "living_alone",
            "target": "set_meals",
            "price_yuan": "8",
            "valid_from": "2026-01-01",
        },
    )
    assert PriceRule.objects.filter(group="living_alone", price_fen=800).exists()
    menu_url = f"/console/canteen/{canteen.pk}/menu/"
    day = f.today().isoformat()
    assert client.get(menu_url, {"date": day, "meal": "dinner"}).status_code == 200
    response = client.post(
        menu_url, {"date": day, "meal": "dinner", f"on_{dish.pk}": "1", f"portions_{dish.pk}": "30"}
    )
    assert response.status_code == 302
    assert Menu.objects.get(date=f.today(), meal="dinner").items.get(dish=dish).portions == 30
    index = client.get("/console/canteen/")
    assert index.status_code == 200
    assert "颐和食堂" in index.content.decode()
    assert "diner-chart-data" in index.content.decode()
    # A mistyped period is named, not silently replaced by the default one.
    for params, expected in [
        ({"start": "2026-13-01"}, "起始日期：日期格式应为 YYYY-MM-DD。"),
        ({"end": "x"}, "截止日期：日期格式应为 YYYY-MM-DD。"),
        ({"start": "2026-05-02", "end": "2026-05-01"}, "起始日期：起始日期不能晚于截止日期。"),
    ]:
        refused = client.get("/console/canteen/", params)
        assert refused.status_code == 400 and expected in refused.content.decode(), params
    # Another community's worker sees none of it.
    other = unit_create(
        kind="community", name="四龙社区", code="620402001009", parent=place["community"].parent
    )
    outsider = _client(make_user("silong", Role.COMMUNITY_STAFF, other))
    assert outsider.get(url).status_code == 404
    assert outsider.get(menu_url).status_code == 404
    assert "颐和食堂" not in outsider.get("/console/canteen/").content.decode()


def test_staff_create_a_canteen_at_a_site(place: dict[str, Any]) -> None:
    site = f.site(place["compound"])
    client = _client(place["staff"])
    response = client.post(
        "/console/canteen/",
        {"site": site.pk, "name": "棉纺厂食堂", "lunch_from": "11:00", "lunch_until": "13:00",
         "dinner_from": "17:00", "dinner_until": "19:00"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Canteen.objects.get(site=site).name == "棉纺厂食堂"
    bad = client.post(
        "/console/canteen/",
        {"site": site.pk, "name": "晚", "lunch_from": "13:00", "lunch_until": "11:00",
         "dinner_from": "17:00", "dinner_until": "19:00"},
    )  # fmt: skip
    assert bad.status_code == 400 and "开始时间须早于结束时间" in bad.content.decode()


def test_public_menu_and_your_price(place: dict[str, Any]) -> None:
    anonymous = Client().get("/canteen/")
    assert anonymous.status_code == 200
    text = anonymous.content.decode()
    assert "颐和食堂" in text and "荤素套餐" in text and "¥18.00" in text
    assert "您的价格" not in text
    user = make_user("wang", Role.RESIDENT)
    person_link_account(person=place["elder"], user=user)
    mine = _client(user).get("/canteen/").content.decode()
    assert "您的价格" in mine and "60岁以上 ¥10" in mine
    assert _client(user).get("/me/canteen/").status_code == 200


@pytest.mark.parametrize("role", [Role.GRID_MEMBER, Role.COMMUNITY_STAFF, Role.STREET_ADMIN])
def test_console_pages_open_for_community_workers(place: dict[str, Any], role: str) -> None:
    scope: Any = place["community"]
    if role == Role.GRID_MEMBER:
        from doorstep.grids.services import grid_create

        scope = grid_create(unit=place["community"], name="第一网格")
    elif role == Role.STREET_ADMIN:
        scope = place["community"].parent
    client = _client(make_user(f"u_{role}", role, scope))
    assert client.get("/console/canteen/").status_code == 200
    page = client.get(f"/console/canteen/{place['canteen'].pk}/")
    assert page.status_code == 200
    managed = "保存菜品" in page.content.decode()
    assert managed == (role != Role.GRID_MEMBER)
    counter = client.get("/console/canteen/counter/")
    assert counter.status_code == 200
    assert re.search("食堂收银台", counter.content.decode())


def test_every_role_the_console_lists_opens_the_pages(world: Any) -> None:
    """The console entries: the counter for grid managers and clerks, the canteens page
    for everyone who works with residents; each answers 200 (an empty page when there
    is no canteen in scope)."""
    from doorstep.web.nav import COMMUNITY_WORKERS, GRID_MANAGERS

    from .scope import tree_canteen

    tree_canteen(world.a)
    for role in sorted(GRID_MANAGERS | {Role.OUTLET_CLERK}):
        response = _client(world.user(role)).get("/console/canteen/counter/")
        assert response.status_code == 200, role
    for role in sorted(COMMUNITY_WORKERS):
        response = _client(world.user(role)).get("/console/canteen/")
        assert response.status_code == 200, role
        # Listed for those whose scope holds the community (not a building leader's
        # building, nor the fixture's county beside the city).
        covers = scoped(world.user(role), Unit).filter(pk=world.a.community.pk).exists()
        assert ("甲社区幸福食堂" in response.content.decode()) == covers, role
    resident = _client(world.user(Role.RESIDENT))
    assert resident.get("/canteen/").status_code == 200
    assert resident.get("/me/canteen/").status_code == 200


# --- What the pages look like: the phone layout, the buttons, the words -----------------


def _error_before_buttons(page: str, error_id: str) -> str:
    """The refusal's text when it stands right above the form's buttons, else ''."""
    found = re.search(
        rf'<p class="error" id="{error_id}" role="alert">([^<]+)</p>\s*<p><button', page
    )
    return found.group(1) if found else ""


def _typed(page: str, name: str) -> str | None:
    """The value an input of the form shows."""
    tag = re.search(rf'<input[^>]* name="{name}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def test_a_refused_payment_is_told_beside_the_buttons_with_what_was_typed(
    place: dict[str, Any],
) -> None:
    """The clerk typed more points than the diner has: the refusal stands above 确认收款,
    the bill is still there to pay, and the dishes and points typed are kept."""
    account = f.funded(place["elder"], 5, "short")
    client = _client(place["clerk"])
    ticket = client.get("/console/canteen/counter/", {"q": "5678"}).context["ticket"]
    dishes = place["dishes"]
    form = {
        "canteen": place["canteen"].pk,
        "meal": "lunch",
        "ticket": ticket,
        "key": "short-1",
        f"qty_{dishes['set'].pk}": "1",
        f"qty_{dishes['noodles'].pk}": "2",
    }
    response = client.post(
        "/console/canteen/counter/", {**form, "action": "pay", "points": "10", "cash_yuan": "24"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert _error_before_buttons(page, "bill-error") == "积分余额不足（可用 5）。"
    assert _typed(page, f"qty_{dishes['set'].pk}") == "1"
    assert _typed(page, f"qty_{dishes['noodles'].pk}") == "2"
    assert _typed(page, "points") == "10" and _typed(page, "cash_yuan") == "24"
    assert 'value="pay"' in page and 'aria-describedby="bill-error"' in page
    assert 'name="key" value="short-1"' not in page  # a refused bill gets a fresh key
    assert '<div class="messages"' not in page  # not at the top of the page as well
    account.refresh_from_db()
    assert not MealOrder.objects.exists() and account.balance == 5
    # Corrected, the same form pays and goes on to the receipt (POST, then redirect).
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    paid = client.post(
        "/console/canteen/counter/",
        {**form, "key": key, "action": "pay", "points": "5", "cash_yuan": "29"},
    )
    assert paid.status_code == 302
    assert paid["Location"] == f"/console/canteen/orders/{MealOrder.objects.get().pk}/"


def test_a_refused_quote_is_told_beside_the_buttons(place: dict[str, Any]) -> None:
    client = _client(place["clerk"])
    response = client.post(
        "/console/canteen/counter/",
        {"canteen": place["canteen"].pk, "meal": "lunch", "walkin": "1", "action": "quote"},
    )
    assert response.status_code == 400
    assert _error_before_buttons(response.content.decode(), "bill-error")


@pytest.mark.parametrize("cash", ["12.345", "十元", "NaN", "1e308"])
def test_cash_that_is_no_amount_of_yuan_is_refused_in_yuan(
    place: dict[str, Any], cash: str
) -> None:
    """The clerk types yuan: a refusal speaks of yuan (the service counts fen, and would
    ask for a whole number), and nothing is billed."""
    f.funded(place["elder"], 20, "cash")
    client = _client(place["clerk"])
    ticket = client.get("/console/canteen/counter/", {"q": "5678"}).context["ticket"]
    form = {"canteen": place["canteen"].pk, "meal": "lunch", "ticket": ticket, "key": "cash-1",
            f"qty_{place['dishes']['noodles'].pk}": "1", "action": "pay", "cash_yuan": cash}  # fmt: skip
    response = client.post("/console/canteen/counter/", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        _error_before_buttons(page, "bill-error") == "现金金额请按元填写，最多两位小数，如 12.50。"
    )
    assert _typed(page, "cash_yuan") == cash
    assert not MealOrder.objects.exists()


def test_my_meals_is_a_list_of_cards_on_a_phone(place: dict[str, Any]) -> None:
    """Each bill is a card on a narrow screen: the stylesheet is loaded, every cell but
    the title names its column, short values do not wrap, and the price rule is a tag."""
    from ..services import order_create

    f.funded(place["elder"], 20, "mine")
    order_create(
        actor=place["clerk"],
        canteen=place["canteen"],
        meal="lunch",
        items={place["dishes"]["set"].pk: 1, place["dishes"]["noodles"].pk: 1},
        person=place["elder"],
        points=2,
        idempotency_key="mine-1",
    )
    user = make_user("wang_mine", Role.RESIDENT)
    person_link_account(person=place["elder"], user=user)
    client = _client(user)
    page = client.get("/me/canteen/").content.decode()
    assert "canteen/canteen.css" in page
    assert '<table class="table card-rows">' in page
    for label in ("食堂", "菜品", "应付（元）", "积分", "状态"):
        assert f'<td class="nowrap" data-label="{label}">' in page or (
            f'<td data-label="{label}">' in page
        ), label
    assert '<td class="nowrap" data-label="状态">已付款</td>' in page
    assert (
        '<span class="order-line">荤素套餐×1 <span class="tag-pill nowrap">60岁以上 ¥10</span></span>'
        in page
    )
    assert '<span class="order-line">牛肉面×1</span>' in page
    assert "可用积分：18" in page
    english = client.get("/me/canteen/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        "Points available: 18" in english
        and "：" not in english.split("<h1>")[1].split("<table")[0]
    )
    assert 'data-label="Canteen"' in english
    # The rule that set a price reads in the reader's language, not as billed in Chinese.
    assert '<span class="tag-pill nowrap">Aged 60+ ¥10</span>' in english
    assert "60岁以上" not in english


def test_the_public_menu_labels_its_cells_for_the_phone_layout(place: dict[str, Any]) -> None:
    page = Client().get("/canteen/").content.decode()
    assert "canteen/canteen.css" in page and '<table class="table card-rows">' in page
    assert '<td class="nowrap" data-label="价格">¥18.00</td>' in page
    assert '<td class="nowrap" data-label="剩余">50</td>' in page
    assert 'data-label="您的价格"' not in page  # only for a signed-in resident
    user = make_user("wang_menu", Role.RESIDENT)
    person_link_account(person=place["elder"], user=user)
    mine = _client(user).get("/canteen/").content.decode()
    assert (
        '<td data-label="您的价格"><span class="nowrap">¥10.00</span> <span class="tag-pill nowrap">60岁以上 ¥10</span></td>'
        in mine
    )


def test_the_canteen_console_keeps_short_cells_on_one_line(place: dict[str, Any]) -> None:
    client = _client(place["staff"])
    page = client.get(f"/console/canteen/{place['canteen'].pk}/").content.decode()
    assert "canteen/canteen.css" in page
    assert (
        '<th scope="col" class="nowrap">日期</th><th scope="col" class="nowrap">餐次</th>' in page
    )
    assert '<td class="nowrap"><a class="button secondary"' in page
    assert "荤素套餐" in page and "；" in page  # dishes of a meal, Chinese separator
    english = client.get(
        f"/console/canteen/{place['canteen'].pk}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "；" not in english and "</span>; " in english


def test_the_new_canteen_form_has_a_heading_and_times_in_pairs(place: dict[str, Any]) -> None:
    f.site(place["compound"])
    page = _client(place["staff"]).get("/console/canteen/").content.decode()
    assert '<h2 id="new-canteen-title">设立新食堂</h2>' in page
    pairs = re.findall(r'<span class="time-range">(.*?)</span>', page)
    assert len(pairs) == 2
    assert 'name="lunch_from"' in pairs[0] and 'name="lunch_until"' in pairs[0]
    assert 'name="dinner_from"' in pairs[1] and 'name="dinner_until"' in pairs[1]


def test_a_mistyped_period_is_named_with_the_pages_own_punctuation(
    place: dict[str, Any],
) -> None:
    client = _client(place["staff"])
    chinese = client.get("/console/canteen/", {"start": "x"})
    assert chinese.status_code == 400 and "起始日期：" in chinese.content.decode()
    english = client.get("/console/canteen/", {"start": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    error = re.search(r'<p class="error" role="alert">([^<]+)</p>', english.content.decode())
    assert error and "：" not in error.group(1) and ": " in error.group(1), error


def test_receipt_labels_carry_their_punctuation_in_each_language(
    place: dict[str, Any],
) -> None:
    from ..services import order_create

    order = order_create(
        actor=place["clerk"],
        canteen=place["canteen"],
        meal="lunch",
        items={place["dishes"]["noodles"].pk: 1},
        idempotency_key="walk-receipt",
    )
    client = _client(place["clerk"])
    url = f"/console/canteen/orders/{order.pk}/"
    assert "凭条号：" in client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    receipt = english.split('<article class="card receipt"')[1].split("</article>")[0]
    assert "Receipt no.: " in receipt and "Served by: " in receipt and "：" not in receipt


# --- Garbage the form fuzz found (doorstep/web/tests/test_form_fuzz.py) --------------------


def test_ids_that_are_no_ids_are_refused_by_name_on_the_canteen_page(
    place: dict[str, Any],
) -> None:
    """A dish or a rule to supersede is picked from a list; any other text in its place
    (a word, "²" that str.isdigit passes and int() does not, a number past every key) is
    refused with a message, not a crash, and saves nothing."""
    client = _client(place["staff"])
    url = f"/console/canteen/{place['canteen'].pk}/"
    dishes, rules = Dish.objects.count(), PriceRule.objects.count()
    dish = {"action": "dish", "name": "红烧肉", "kind": "a_la_carte", "price_yuan": "20"}
    rule = {"action": "rule", "group": "living_alone", "target": "set_meals", "price_yuan": "8"}
    for bad in ["x", "²", str(2**70)]:
        refused = client.post(url, dish | {"dish": bad})
        assert refused.status_code == 400 and "所选菜品不存在。" in refused.content.decode()
        refused = client.post(url, rule | {"target": "dish", "dish": bad})
        assert refused.status_code == 400 and "所选菜品不存在。" in refused.content.decode()
        refused = client.post(url, rule | {"supersedes": bad})
        assert refused.status_code == 400 and "所选价格规则不存在。" in refused.content.decode()
    assert (Dish.objects.count(), PriceRule.objects.count()) == (dishes, rules)
    english = client.post(url, rule | {"supersedes": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "The price rule chosen does not exist." in english.content.decode()


@pytest.mark.parametrize("price", ["1e308", "Infinity", "NaN"])
def test_a_price_no_fen_can_count_is_refused(place: dict[str, Any], price: str) -> None:
    client = _client(place["staff"])
    url = f"/console/canteen/{place['canteen'].pk}/"
    dishes = Dish.objects.count()
    form = {"action": "dish", "name": "红烧肉", "kind": "a_la_carte", "price_yuan": price}
    refused = client.post(url, form)
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    assert Dish.objects.count() == dishes


def test_portions_that_are_no_whole_number_are_refused(place: dict[str, Any]) -> None:
    client = _client(place["staff"])
    dish = place["dishes"]["noodles"]
    menu_url = f"/console/canteen/{place['canteen'].pk}/menu/"
    form = {"date": f.today().isoformat(), "meal": "dinner", f"on_{dish.pk}": "1"}
    menus = Menu.objects.order_by("pk", "items__pk").values_list("pk", "items__portions")
    before = list(menus)
    refused = client.post(menu_url, form | {f"portions_{dish.pk}": "²"})
    assert refused.status_code == 400 and "请输入整数。" in refused.content.decode()
    assert list(menus) == before


def test_units_that_are_no_ids_and_days_past_the_calendar(place: dict[str, Any]) -> None:
    """The unit filter of the console and of the public menus ignores "²"; the report
    names a day no one means instead of counting up to the day after 9999-12-31."""
    client = _client(place["staff"])
    assert client.get("/console/canteen/", {"unit": "²"}).status_code == 200
    assert Client().get("/canteen/", {"unit": "²"}).status_code == 200
    for day in ["9999-12-31", "0001-01-01"]:
        refused = client.get("/console/canteen/", {"start": day, "end": day})
        assert refused.status_code == 400
        assert "日期应在 1900-01-01 至 2999-12-31 之间。" in refused.content.decode()
