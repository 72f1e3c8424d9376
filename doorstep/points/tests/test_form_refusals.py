"""A refused form of the points console comes back as it was sent: status 400 (409 when
the grant's key was already spent on another request), the message beside the field it
names and in the summary above, what was typed still in the inputs, the page's other
forms empty, and nothing written. An accepted form still redirects with its flash."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core.testing import error_beside, selected, summary, value

from ..choices import AccountKind, TransferKind
from ..models import Account, EarningRule, Goods, Outlet, Redemption, Transfer
from ..services import (
    goods_save,
    points_grant,
    redemption_create,
    transfer_create,
    unit_account,
)
from .scope import funded_account, tree_goods, tree_outlet

pytestmark = pytest.mark.django_db


def _staff(world: World) -> Client:
    client = Client()
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    return client


def django_message(field: forms.Field, typed: str) -> str:
    """The message Django's own field gives ``typed``, in the language of the test."""
    with pytest.raises(DjangoValidationError) as refused:
        field.clean(typed)
    return str(refused.value.messages[0])


# --- The overview: a new outlet, an earning rule --------------------------------------------

HOME = "/console/points/"


def _rule(world: World, **typed: str) -> dict[str, str]:
    return {"action": "rule", "unit": str(world.a.community.pk), "activity_type": "patrol",
            "points_per_time": "2", "points_per_hour": "6", "daily_cap": "20",
            "monthly_cap": "200"} | typed  # fmt: skip


def _rules() -> list[tuple[Any, ...]]:
    return list(
        EarningRule.objects.order_by("pk").values_list(
            "unit_id", "activity_type", "points_per_time", "points_per_hour", "daily_cap",
            "monthly_cap",
        )
    )  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "field", "label", "message"),
    [
        ({"points_per_time": "0", "points_per_hour": "0"}, "points_per_time", "每次积分",
         "每次积分与每小时积分不能都为零。"),
        ({"monthly_cap": "10"}, "monthly_cap", "每月上限", "每月上限不能小于每日上限。"),
        ({"daily_cap": "0"}, "daily_cap", "每日上限", "必须为正整数。"),
        ({"points_per_hour": "2000000"}, "points_per_hour", "每小时积分", "数值过大。"),
        ({"daily_cap": "1.5"}, "daily_cap", "每日上限", "请输入正整数。"),  # the form's
        ({"points_per_time": "x"}, "points_per_time", "每次积分", "请输入整数。"),
        ({"unit": "²"}, "unit", "适用单元", "请选择社区/村。"),
    ],
)  # fmt: skip
def test_a_refused_rule_keeps_what_was_typed(
    world: World, typed: dict[str, str], field: str, label: str, message: str
) -> None:
    tree_outlet(world.a)
    form = _rule(world, **typed)
    before = _rules()
    response = _staff(world).post(HOME, form)
    assert response.status_code == 400
    assert _rules() == before
    page = response.content.decode()
    assert error_beside(page, f"r-{field}") == message
    assert summary(page) == [f"{label}：{message}"]
    for name in ("points_per_time", "points_per_hour", "daily_cap", "monthly_cap"):
        assert value(page, f"r-{name}") == form[name], name
    assert selected(page, "r-activity_type") == ["patrol"]
    assert selected(page, "r-unit") == ([] if field == "unit" else [form["unit"]])
    # The outlet form stays as new.
    assert value(page, "o-name") is None and error_beside(page, "o-name") is None


def _outlet(world: World, **typed: str) -> dict[str, str]:
    return {"action": "outlet", "unit": str(world.a.community.pk), "kind": "grocery",
            "name": "甲社区平价店", "address": "甲小区3栋底商"} | typed  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"name": "甲社区爱心屋"}, "该社区/村已有同名兑换点。"),  # the service's
        ({"name": "店" * 61}, django_message(forms.CharField(max_length=60), "店" * 61)),
        ({"name": "  "}, django_message(forms.CharField(), "")),
    ],
)
def test_a_refused_outlet_keeps_what_was_typed(
    world: World, typed: dict[str, str], message: str
) -> None:
    tree_outlet(world.a)
    form = _outlet(world, **typed)
    before = list(Outlet.objects.order_by("pk").values_list("pk", "name"))
    accounts = Account.objects.count()
    response = _staff(world).post(HOME, form)
    assert response.status_code == 400
    assert list(Outlet.objects.order_by("pk").values_list("pk", "name")) == before
    assert Account.objects.count() == accounts
    page = response.content.decode()
    assert error_beside(page, "o-name") == message
    assert summary(page) == [f"名称：{message}"]
    assert value(page, "o-name") == form["name"]
    assert value(page, "o-address") == form["address"]
    assert selected(page, "o-kind") == ["grocery"]
    assert selected(page, "o-unit") == [form["unit"]]
    # The rule form stays as new.
    assert value(page, "r-points_per_time") == "0" and value(page, "r-daily_cap") is None
    assert error_beside(page, "r-points_per_time") is None


def test_an_unknown_action_is_refused_above_the_forms(world: World) -> None:
    response = _staff(world).post(HOME, _outlet(world, action="close"))
    assert response.status_code == 400
    assert not Outlet.objects.filter(name="甲社区平价店").exists()
    assert re.search(
        r'<div class="error" role="alert"><p>未知的操作。</p></div>', response.content.decode()
    )


def test_a_refused_rule_is_worded_in_english_too(world: World) -> None:
    response = _staff(world).post(HOME, _rule(world, monthly_cap="10"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    message = "The monthly cap cannot be below the daily cap."
    assert error_beside(page, "r-monthly_cap") == message
    [line] = summary(page)
    assert re.fullmatch(rf"[A-Za-z ]+: {re.escape(message)}", line), line


def test_a_valid_rule_and_outlet_still_redirect_with_the_flash(world: World) -> None:
    client = _staff(world)
    url = f"{HOME}?unit={world.a.community.pk}"
    response = client.post(url, _rule(world))
    assert response.status_code == 302 and response["Location"] == url
    rule = EarningRule.objects.get(activity_type="patrol")
    assert (rule.points_per_time, rule.points_per_hour, rule.daily_cap, rule.monthly_cap) == (
        2, 6, 20, 200,
    )  # fmt: skip
    assert "积分规则已保存。" in client.get(url).content.decode()
    response = client.post(url, _outlet(world))
    assert response.status_code == 302
    assert Outlet.objects.get(name="甲社区平价店").address == "甲小区3栋底商"
    page = client.get(url).content.decode()
    assert "兑换点已设立。" in page and 'class="error"' not in page


# --- An outlet's page: goods and restocking -------------------------------------------------


def _outlet_page(world: World) -> str:
    return f"/console/points/outlets/{tree_outlet(world.a).pk}/"


def _goods() -> list[tuple[Any, ...]]:
    return list(
        Goods.objects.order_by("pk").values_list("name", "points_price", "value_fen", "stock")
    )


def _new_goods(**typed: str) -> dict[str, str]:
    return {"action": "goods", "name": "食用油", "points_price": "50", "value_yuan": "39.9",
            "stock": "12"} | typed  # fmt: skip


YUAN = "价值请按元填写，最多两位小数，如 12.50。"


@pytest.mark.parametrize(
    ("typed", "field", "label", "message"),
    [
        ({"value_yuan": "12.345"}, "value_yuan", "价值（元）", YUAN),  # the view's, in yuan
        ({"value_yuan": "十元"}, "value_yuan", "价值（元）", YUAN),
        ({"value_yuan": "1e308"}, "value_yuan", "价值（元）", YUAN),
        ({"value_yuan": "-1"}, "value_yuan", "价值（元）", "必须为正整数。"),  # the service's value_fen
        ({"value_yuan": "5000"}, "value_yuan", "价值（元）", "数值过大。"),
        ({"points_price": "0"}, "points_price", "所需积分", "必须为正整数。"),
        ({"points_price": "x"}, "points_price", "所需积分", "请输入正整数。"),  # the form's
        ({"stock": "x"}, "stock", "库存", "请输入整数。"),
        ({"name": "洗衣粉"}, "name", "名称", "该兑换点已有同名商品。"),
    ],
)  # fmt: skip
def test_refused_goods_keep_what_was_typed(
    world: World, typed: dict[str, str], field: str, label: str, message: str
) -> None:
    soap = tree_goods(world.a)
    form = _new_goods(**typed)
    before = _goods()
    response = _staff(world).post(_outlet_page(world), form)
    assert response.status_code == 400
    assert _goods() == before
    page = response.content.decode()
    assert error_beside(page, f"g-{field}") == message
    assert summary(page) == [f"{label}：{message}"]
    for name in ("name", "points_price", "value_yuan", "stock"):
        assert value(page, f"g-{name}") == form[name], name
    # The row's restock form stays as new.
    assert value(page, f"restock-{soap.pk}-quantity") is None
    assert error_beside(page, f"restock-{soap.pk}-quantity") is None


def test_a_refused_restock_is_told_in_its_row(world: World) -> None:
    soap = tree_goods(world.a)
    oil = goods_save(actor=None, outlet=soap.outlet, name="食用油", points_price=50, stock=3)
    form = {"action": "restock", "goods": str(oil.pk), "quantity": "0"}
    before = _goods()
    response = _staff(world).post(_outlet_page(world), form)
    assert response.status_code == 400
    assert _goods() == before
    page = response.content.decode()
    assert error_beside(page, f"restock-{oil.pk}-quantity") == "必须为正整数。"
    assert summary(page) == ["食用油的入库数量：必须为正整数。"]
    assert value(page, f"restock-{oil.pk}-quantity") == "0"
    assert value(page, f"restock-{oil.pk}-goods") == str(oil.pk)
    # The other row and the goods form stay as new.
    assert value(page, f"restock-{soap.pk}-quantity") is None
    assert error_beside(page, f"restock-{soap.pk}-quantity") is None
    assert value(page, "g-name") is None and value(page, "g-stock") == "0"


def test_restocking_goods_of_no_row_is_told_in_the_summary(world: World) -> None:
    soap = tree_goods(world.a)
    other = goods_save(
        actor=None, outlet=tree_outlet(world.b), name="洗衣粉", points_price=20, stock=100
    )
    before = _goods()
    response = _staff(world).post(
        _outlet_page(world), {"action": "restock", "goods": str(other.pk), "quantity": "5"}
    )
    assert response.status_code == 400
    assert _goods() == before
    page = response.content.decode()
    assert summary(page) == ["所选商品不存在。"]
    assert error_beside(page, f"restock-{soap.pk}-quantity") is None


def test_valid_goods_and_restock_still_redirect_with_the_flash(world: World) -> None:
    soap = tree_goods(world.a)
    client = _staff(world)
    url = _outlet_page(world)
    response = client.post(url, _new_goods())
    assert response.status_code == 302 and response["Location"] == url
    oil = Goods.objects.get(name="食用油")
    assert (oil.points_price, oil.value_fen, oil.stock) == (50, 3990, 12)
    response = client.post(url, {"action": "restock", "goods": str(soap.pk), "quantity": "5"})
    assert response.status_code == 302
    soap.refresh_from_db()
    assert soap.stock == 105
    page = client.get(url).content.decode()
    assert "已保存。" in page and 'class="error"' not in page
    # The goods' value is shown to the fen, not rounded to whole yuan.
    assert re.search(r"<td>食用油</td><td>50</td><td>39\.90</td><td>12</td>", page)


# --- A resident's points: a manual grant ---------------------------------------------------


def _person_page(world: World) -> str:
    return f"/console/points/people/{world.a.person.pk}/"


def _grants() -> list[tuple[Any, ...]]:
    return list(Transfer.objects.order_by("pk").values_list("kind", "amount", "reason"))


@pytest.mark.parametrize(
    ("typed", "field", "label", "message"),
    [
        ({"amount": "-3"}, "amount", "积分", "必须为正整数。"),  # the service's
        ({"amount": "2000000"}, "amount", "积分", "数值过大。"),
        ({"amount": "ten"}, "amount", "积分", "请输入正整数。"),  # the form's
        ({"reason": "由" * 201}, "reason", "事由",
         django_message(forms.CharField(max_length=200), "由" * 201)),
        ({"reason": " "}, "reason", "事由", django_message(forms.CharField(), "")),
    ],
)  # fmt: skip
def test_a_refused_grant_keeps_what_was_typed(
    world: World, typed: dict[str, str], field: str, label: str, message: str
) -> None:
    account = funded_account(world.a)
    form = {"amount": "15", "reason": "清理楼道杂物", "key": "g-refused"} | typed
    before = _grants()
    response = _staff(world).post(_person_page(world), form)
    assert response.status_code == 400
    assert _grants() == before
    account.refresh_from_db()
    assert account.balance == 100
    page = response.content.decode()
    assert error_beside(page, field) == message
    assert summary(page) == [f"{label}：{message}"]
    assert value(page, "amount") == form["amount"]
    assert value(page, "reason") == form["reason"]


def test_a_grant_whose_key_was_spent_on_another_is_a_conflict(world: World) -> None:
    """A key already used for a different grant is refused with 409 above the form, what
    was typed kept, and a fresh key in the form, so that sending it again is a new grant."""
    account = funded_account(world.a)
    points_grant(actor=world.user(Role.COMMUNITY_STAFF), account=account, amount=5,
                 reason="打扫楼道", idempotency_key="spent")  # fmt: skip
    before = _grants()
    form = {"amount": "15", "reason": "清理楼道杂物", "key": "spent"}
    response = _staff(world).post(_person_page(world), form)
    assert response.status_code == 409
    assert _grants() == before
    page = response.content.decode()
    assert summary(page) == ["该幂等键已用于另一笔不同的请求。"]
    assert value(page, "amount") == "15" and value(page, "reason") == "清理楼道杂物"
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None and key.group(1) != "spent"


def test_a_valid_grant_still_redirects_with_the_flash(world: World) -> None:
    funded_account(world.a)
    client = _staff(world)
    url = _person_page(world)
    response = client.post(url, {"amount": "15", "reason": "清理楼道杂物", "key": "g-ok"})
    assert response.status_code == 302 and response["Location"] == url
    assert Transfer.objects.get(kind=TransferKind.GRANT).amount == 15
    page = client.get(url).content.decode()
    assert "积分已发放。" in page and 'class="error"' not in page


# --- A receipt: reversing a redemption ----------------------------------------------------


def _redemption(world: World) -> Redemption:
    return redemption_create(
        actor=world.user(Role.OUTLET_CLERK),
        outlet=tree_outlet(world.a),
        account=funded_account(world.a),
        items={tree_goods(world.a).pk: 1},
        idempotency_key="r-1",
    )


def test_a_reason_too_long_is_refused_beside_it(world: World) -> None:
    r = _redemption(world)
    reason = "退" * 201
    response = _staff(world).post(f"/console/counter/receipts/{r.pk}/", {"reason": reason})
    assert response.status_code == 400
    assert not Transfer.objects.filter(reverses=r.transfer).exists()
    page = response.content.decode()
    expected = django_message(forms.CharField(max_length=200), reason)
    assert error_beside(page, "reason") == expected
    assert summary(page) == [f"撤销原因：{expected}"]
    assert value(page, "reason") == reason


def test_a_reversal_the_outlet_cannot_pay_back_keeps_the_reason(world: World) -> None:
    """The outlet's points have moved on, so the ledger refuses to take them back: the
    refusal names no field of the form and stands in the summary; the reason typed stays,
    and neither the points nor the goods move."""
    r = _redemption(world)
    outlet = Account.objects.get(kind=AccountKind.OUTLET, outlet=r.outlet)
    issuing = unit_account(unit=r.outlet.unit, kind=AccountKind.ISSUING)
    transfer_create(debit=outlet, credit=issuing, amount=outlet.balance,
                    kind=TransferKind.EXPIRE, reason="结算", idempotency_key="settle")  # fmt: skip
    soap = tree_goods(world.a)
    soap.refresh_from_db()
    r.account.refresh_from_db()
    stock, balance = soap.stock, r.account.balance
    response = _staff(world).post(f"/console/counter/receipts/{r.pk}/", {"reason": "商品退回"})
    assert response.status_code == 400
    assert not Transfer.objects.filter(reverses=r.transfer).exists()
    soap.refresh_from_db()
    r.account.refresh_from_db()
    assert (soap.stock, r.account.balance) == (stock, balance)
    page = response.content.decode()
    assert summary(page) == ["积分余额不足。"]
    assert value(page, "reason") == "商品退回"
    assert error_beside(page, "reason") is None


def test_a_valid_reversal_still_redirects_with_the_flash(world: World) -> None:
    r = _redemption(world)
    client = _staff(world)
    url = f"/console/counter/receipts/{r.pk}/"
    response = client.post(url, {"reason": "商品退回"})
    assert response.status_code == 302 and response["Location"] == url
    assert Transfer.objects.get(reverses=r.transfer).reason == "商品退回"
    page = client.get(url).content.decode()
    assert "已撤销该兑换，积分已退回，商品已回库。" in page
    assert '<div class="error" role="alert">' not in page
