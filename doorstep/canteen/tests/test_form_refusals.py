"""A refused form of the canteen console comes back as it was sent: status 400 (409 for a
rule changed since the page was loaded), the message beside the field it names and in
the summary above, what was typed still in the inputs, the page's other form empty, and
nothing written."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import Client

from doorstep.core.testing import error_beside, selected, summary, tag, value

from ..models import Canteen, Dish, MealOrder, Menu, MenuItem, PriceRule
from ..services import order_create, price_rule_set
from . import factories as f

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def django_message(field: forms.Field, typed: str) -> str:
    """The message Django's own field gives ``typed``, in the language of the test."""
    with pytest.raises(DjangoValidationError) as refused:
        field.clean(typed)
    return str(refused.value.messages[0])


# --- The community's canteens: a new canteen --------------------------------------------


def test_a_refused_canteen_keeps_the_site_name_and_hours(place: dict[str, Any]) -> None:
    site = f.site(place["compound"])
    client = _client(place["staff"])
    form = {"site": str(site.pk), "name": "棉纺厂食堂", "lunch_from": "13:00",
            "lunch_until": "11:30", "dinner_from": "17:30", "dinner_until": "19:00"}  # fmt: skip
    before = Canteen.objects.count()
    response = client.post("/console/canteen/", form)
    assert response.status_code == 400
    assert Canteen.objects.count() == before
    page = response.content.decode()
    message = "用餐时段的开始时间须早于结束时间。"
    # Lunch is a pair of times: the message follows the pair.
    assert error_beside(page, "c-lunch_from", after="</span>") == message
    assert summary(page) == [f"午餐：{message}"]
    assert selected(page, "c-site") == [str(site.pk)]
    for name in ("name", "lunch_from", "lunch_until", "dinner_from", "dinner_until"):
        assert value(page, f"c-{name}") == form[name], name
    assert error_beside(page, "c-dinner_from", after="</span>") is None


def test_a_time_that_is_no_time_is_refused_beside_it(place: dict[str, Any]) -> None:
    site = f.site(place["compound"])
    client = _client(place["staff"])
    form = {"site": str(site.pk), "name": "棉纺厂食堂", "lunch_from": "11:00",
            "lunch_until": "13:00", "dinner_from": "24:00", "dinner_until": "19:00"}  # fmt: skip
    response = client.post("/console/canteen/", form)
    assert response.status_code == 400 and not Canteen.objects.filter(site=site).exists()
    page = response.content.decode()
    assert error_beside(page, "c-dinner_from", after="</span>") == "时间格式应为 HH:MM。"
    assert value(page, "c-dinner_from") == "24:00"


# --- A canteen's page: dishes and price rules ---------------------------------------------


def _page(place: dict[str, Any]) -> str:
    return f"/console/canteen/{place['canteen'].pk}/"


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"price_yuan": "-1"}, "price_yuan", "不能为负数。"),  # the service's, as price_fen
        ({"price_yuan": "1e308"}, "price_yuan", "数值过大。"),
        ({"name": "牛肉面"}, "name", "该食堂已有同名菜品。"),
        ({"dish": "²"}, "dish", "所选菜品不存在。"),
    ],
)
def test_a_refused_dish_keeps_what_was_typed(
    place: dict[str, Any], typed: dict[str, str], field: str, message: str
) -> None:
    client = _client(place["staff"])
    form = {"action": "dish", "dish": "", "name": "红烧肉", "kind": "a_la_carte",
            "price_yuan": "20.5", "is_active": "0"} | typed  # fmt: skip
    before = list(Dish.objects.order_by("pk").values_list("name", "price_fen", "is_active"))
    response = client.post(_page(place), form)
    assert response.status_code == 400
    assert list(Dish.objects.order_by("pk").values_list("name", "price_fen", "is_active")) == before
    page = response.content.decode()
    assert error_beside(page, f"d-{field}") == message
    label = {"price_yuan": "价格（元）", "name": "名称", "dish": "修改"}[field]
    assert summary(page) == [f"{label}：{message}"]
    assert value(page, "d-name") == form["name"]
    assert value(page, "d-price_yuan") == form["price_yuan"]
    assert selected(page, "d-kind") == ["a_la_carte"]
    assert selected(page, "d-is_active") == ["0"]
    # The rule form, which also has a price, a dish and a state, stays as new.
    assert value(page, "r-price_yuan") is None and error_beside(page, "r-price_yuan") is None
    assert selected(page, "r-is_active") == ["1"]


def test_a_price_with_fractions_of_a_fen_is_refused_by_the_form(place: dict[str, Any]) -> None:
    client = _client(place["staff"])
    form = {"action": "dish", "name": "红烧肉", "kind": "a_la_carte", "price_yuan": "12.345"}
    response = client.post(_page(place), form)
    assert response.status_code == 400 and not Dish.objects.filter(name="红烧肉").exists()
    page = response.content.decode()
    expected = django_message(forms.DecimalField(decimal_places=2), "12.345")
    assert error_beside(page, "d-price_yuan") == expected
    assert value(page, "d-price_yuan") == "12.345"


def _rule(place: dict[str, Any], **typed: str) -> dict[str, str]:
    return {"action": "rule", "supersedes": "", "group": "living_alone", "target": "dish",
            "dish": str(place["dishes"]["noodles"].pk), "meal": "lunch", "price_yuan": "8.5",
            "priority": "5", "valid_from": "2026-03-01", "valid_until": "2026-12-31",
            "is_active": "0"} | typed  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "field", "label", "message"),
    [
        ({"valid_until": "2026-02-01"}, "valid_until", "截止日期", "截止日期不能早于起始日期。"),
        ({"valid_from": "2026-02-30"}, "valid_from", "起始日期", "日期格式应为 YYYY-MM-DD。"),
        ({"priority": "101"}, "priority", "优先级", "数值过大。"),
        ({"target": "dish", "dish": ""}, "dish", "菜品", "指定菜品的规则须选择菜品。"),
    ],
)
def test_a_refused_rule_keeps_what_was_typed(
    place: dict[str, Any], typed: dict[str, str], field: str, label: str, message: str
) -> None:
    client = _client(place["staff"])
    form = _rule(place, **typed)
    before = PriceRule.objects.count()
    response = client.post(_page(place), form)
    assert response.status_code == 400
    assert PriceRule.objects.count() == before
    page = response.content.decode()
    assert error_beside(page, f"r-{field}") == message
    assert summary(page) == [f"{label}：{message}"]
    for name in ("price_yuan", "priority", "valid_from", "valid_until"):
        assert value(page, f"r-{name}") == form[name], name
    for name in ("group", "target", "meal", "is_active"):
        assert selected(page, f"r-{name}") == [form[name]], name
    assert selected(page, "r-dish") == [form["dish"]]
    # The dish form stays as new.
    assert value(page, "d-name") is None and selected(page, "d-is_active") == ["1"]


def test_a_new_version_of_a_rule_changed_meanwhile_is_a_conflict(place: dict[str, Any]) -> None:
    """Two managers change rule #1 from pages loaded before either saved: the second is
    told (409) beside the rule it picked, and no second version is written."""
    canteen = place["canteen"]
    rule = PriceRule.objects.get(canteen=canteen)
    price_rule_set(
        actor=None, canteen=canteen, group=rule.group, target=rule.target, price_fen=900,
        valid_from=rule.valid_from, supersedes=rule,
    )  # fmt: skip
    before = PriceRule.objects.count()
    client = _client(place["staff"])
    form = _rule(place, supersedes=str(rule.pk), group="age_60", target="set_meals", dish="")
    response = client.post(_page(place), form)
    assert response.status_code == 409
    assert PriceRule.objects.count() == before
    page = response.content.decode()
    message = "该规则已有更新的版本，请刷新后再改。"
    assert error_beside(page, "r-supersedes") == message
    assert summary(page) == [f"修改规则：{message}"]
    assert value(page, "r-price_yuan") == "8.5"


def test_a_refused_rule_is_worded_in_english_too(place: dict[str, Any]) -> None:
    client = _client(place["staff"])
    form = _rule(place, valid_until="2026-02-01")
    response = client.post(_page(place), form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    message = "The end date cannot be before the start date."
    assert error_beside(page, "r-valid_until") == message
    [line] = summary(page)
    assert re.fullmatch(rf"[A-Za-z ]+: {re.escape(message)}", line), line


def test_a_valid_dish_still_redirects_with_the_flash(place: dict[str, Any]) -> None:
    client = _client(place["staff"])
    url = _page(place) + "?week=2026-06-01"
    form = {"action": "dish", "dish": "", "name": "红烧肉", "kind": "a_la_carte",
            "price_yuan": "20.5", "is_active": "1"}  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 302 and response["Location"] == url
    assert Dish.objects.get(name="红烧肉").price_fen == 2050
    page = client.get(url).content.decode()
    assert "已保存。" in page and 'class="error"' not in page


# --- A meal's menu ----------------------------------------------------------------------


def _menu(place: dict[str, Any]) -> str:
    return f"/console/canteen/{place['canteen'].pk}/menu/"


def _portions() -> list[tuple[Any, ...]]:
    return list(MenuItem.objects.order_by("pk").values_list("menu_id", "dish_id", "portions"))


def test_portions_that_are_no_number_are_refused_beside_their_dish(
    place: dict[str, Any],
) -> None:
    client = _client(place["staff"])
    noodles, light = place["dishes"]["noodles"], place["dishes"]["set_light"]
    day = f.today().isoformat()
    form = {"date": day, "meal": "dinner", f"on_{noodles.pk}": "on", f"portions_{noodles.pk}": "x",
            f"on_{light.pk}": "on", f"portions_{light.pk}": "20"}  # fmt: skip
    before = (Menu.objects.count(), _portions())
    response = client.post(_menu(place), form)
    assert response.status_code == 400
    assert (Menu.objects.count(), _portions()) == before
    page = response.content.decode()
    assert error_beside(page, f"portions_{noodles.pk}") == "请输入整数。"
    assert summary(page) == ["牛肉面的供应份数：请输入整数。"]
    # What was ticked and typed, not what the menu had: the set meal was on it, and is not.
    assert value(page, f"portions_{noodles.pk}") == "x"
    assert value(page, f"portions_{light.pk}") == "20"
    assert " checked" in tag(page, f"on_{noodles.pk}") and " checked" in tag(page, f"on_{light.pk}")
    assert " checked" not in tag(page, f"on_{place['dishes']['set'].pk}")
    assert error_beside(page, f"portions_{light.pk}") is None


def test_a_menu_refused_as_a_whole_is_told_beside_its_button(place: dict[str, Any]) -> None:
    """The service refuses portions below those sold against the menu, not one input: the
    message stands above 发布菜单 and in the summary; the portions typed are kept."""
    dish = place["dishes"]["set"]
    order_create(actor=place["clerk"], canteen=place["canteen"], meal="dinner",
                 items={dish.pk: 2}, idempotency_key="sold-2")  # fmt: skip
    client = _client(place["staff"])
    day = f.today().isoformat()
    form = {"date": day, "meal": "dinner", f"on_{dish.pk}": "on", f"portions_{dish.pk}": "1"}
    before = _portions()
    response = client.post(_menu(place), form)
    assert response.status_code == 400
    assert _portions() == before and MealOrder.objects.count() == 1
    page = response.content.decode()
    message = "“荤素套餐”的供应份数不能少于已售的 2 份。"
    assert summary(page) == [message]
    assert re.search(
        rf'<p class="error" id="menu-error" role="alert">{message}</p>\s*'
        r'<p><button type="submit" class="button" aria-describedby="menu-error">发布菜单',
        page,
    )
    assert value(page, f"portions_{dish.pk}") == "1"


def test_a_valid_menu_still_redirects(place: dict[str, Any]) -> None:
    client = _client(place["staff"])
    dish = place["dishes"]["noodles"]
    day = f.today().isoformat()
    form = {"date": day, "meal": "dinner", f"on_{dish.pk}": "on", f"portions_{dish.pk}": "30"}
    response = client.post(_menu(place), form)
    assert response.status_code == 302
    assert response["Location"] == f"/console/canteen/{place['canteen'].pk}/?week={day}"
    items = Menu.objects.get(date=f.today(), meal="dinner").items
    assert list(items.values_list("dish_id", "portions")) == [(dish.pk, 30)]


# --- A bill's refund ----------------------------------------------------------------------


def test_a_refused_refund_keeps_the_reason_typed(place: dict[str, Any]) -> None:
    order = order_create(actor=place["clerk"], canteen=place["canteen"], meal="lunch",
                         items={place["dishes"]["noodles"].pk: 1}, idempotency_key="refund-1")  # fmt: skip
    client = _client(place["staff"])
    reason = "没" * 201
    response = client.post(f"/console/canteen/orders/{order.pk}/", {"reason": reason})
    assert response.status_code == 400
    page = response.content.decode()
    expected = django_message(forms.CharField(max_length=200), reason)
    assert error_beside(page, "reason") == expected
    assert summary(page) == [f"退款原因：{expected}"]
    assert value(page, "reason") == reason
    order.refresh_from_db()
    assert order.state == "paid"
