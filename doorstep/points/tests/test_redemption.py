"""Outlets, goods and redemptions: stock and balance in one transaction, receipts,
reversal, and every refused redemption changing nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import grants
from doorstep.conftest import World, make_user
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError

from ..checking import ledger_check
from ..choices import OutletKind
from ..models import Account, Goods, Redemption, Transfer
from ..selectors import counter_find, mask_name, points_report
from ..services import (
    goods_save,
    outlet_create,
    points_grant,
    redemption_create,
    redemption_reverse,
)
from .scope import funded_account, tree_goods, tree_outlet

pytestmark = pytest.mark.django_db


def state() -> tuple[Any, ...]:
    return (
        list(Account.objects.order_by("pk").values_list("pk", "balance")),
        list(Goods.objects.order_by("pk").values_list("pk", "stock")),
        Transfer.objects.count(),
        Redemption.objects.count(),
    )


@pytest.fixture
def shop(world: World) -> dict[str, Any]:
    outlet = tree_outlet(world.a)
    soap = tree_goods(world.a)  # 20 points, ¥15, 100 in stock
    oil = goods_save(
        actor=None, outlet=outlet, name="食用油", points_price=50, value_fen=4990, stock=1
    )
    return {
        "outlet": outlet,
        "soap": soap,
        "oil": oil,
        "account": funded_account(world.a, 100),
        "clerk": world.user(Role.OUTLET_CLERK),
    }


def redeem(shop: dict[str, Any], items: Any, key: str = "k1", **kw: Any) -> Redemption:
    args = {
        "actor": shop["clerk"],
        "outlet": shop["outlet"],
        "account": shop["account"],
        "items": items,
        "idempotency_key": key,
    }
    args.update(kw)
    return redemption_create(**args)


def test_a_redemption_takes_stock_and_points_together_and_issues_a_receipt(
    shop: dict[str, Any],
) -> None:
    r = redeem(shop, {shop["soap"].pk: 2, shop["oil"].pk: 1})
    assert (r.points, r.value_fen) == (2 * 20 + 50, 2 * 1500 + 4990)
    assert [(line.name, line.quantity) for line in r.lines.all()] == [("洗衣粉", 2), ("食用油", 1)]
    shop["soap"].refresh_from_db()
    shop["oil"].refresh_from_db()
    shop["account"].refresh_from_db()
    assert (shop["soap"].stock, shop["oil"].stock, shop["account"].balance) == (98, 0, 10)
    assert r.number == f"R{r.pk:08d}" and r.clerk == shop["clerk"]
    assert ledger_check().ok


@pytest.mark.parametrize(
    "case,match",
    [
        ("over_balance", "余额不足"),
        ("out_of_stock", "库存不足"),
        ("no_items", "请选择"),
        ("zero_quantity", "正整数"),
        ("unknown_goods", "不存在或已下架"),
    ],
)
def test_bad_redemptions_are_refused_and_change_nothing(
    shop: dict[str, Any], case: str, match: str
) -> None:
    items = {
        "over_balance": {shop["soap"].pk: 6},
        "out_of_stock": {shop["oil"].pk: 2},
        "no_items": {},
        "zero_quantity": {shop["soap"].pk: 0},
        "unknown_goods": {999_999: 1},
    }[case]
    before = state()
    with pytest.raises(ValidationError, match=match) as error:
        redeem(shop, items)
    assert error.value.field in ("items", "amount")
    assert state() == before


def test_a_clerk_cannot_redeem_at_another_outlet(world: World, shop: dict[str, Any]) -> None:
    other = outlet_create(
        actor=None, unit=world.a.community, kind=OutletKind.GROCERY, name="平价副食品店"
    )
    goods_save(actor=None, outlet=other, name="大米", points_price=10, stock=5)
    before = state()
    with pytest.raises(PermissionDenied, match="不能在此兑换点") as error:
        redeem(shop, {shop["soap"].pk: 1}, outlet=other)
    assert error.value.field == "outlet"
    assert state() == before


def test_a_resident_of_another_community_cannot_redeem_here(
    world: World, shop: dict[str, Any]
) -> None:
    stranger = funded_account(world.b)
    before = state()
    with pytest.raises(ValidationError, match="不属于本兑换点") as error:
        redeem(shop, {shop["soap"].pk: 1}, account=stranger)
    assert error.value.field == "account" and state() == before


def test_a_replayed_redemption_returns_the_first_receipt(shop: dict[str, Any]) -> None:
    first = redeem(shop, {shop["soap"].pk: 1})
    before = state()
    assert redeem(shop, {shop["soap"].pk: 1}).pk == first.pk
    assert state() == before
    with pytest.raises(Conflict, match="幂等键"):
        redeem(shop, {shop["soap"].pk: 2})
    assert state() == before


def test_reversing_a_redemption_returns_points_and_stock_once(
    world: World, shop: dict[str, Any]
) -> None:
    r = redeem(shop, {shop["soap"].pk: 3})
    staff = world.user(Role.COMMUNITY_STAFF)
    reversal = redemption_reverse(actor=staff, redemption=r, reason="商品有破损，退回")
    assert (
        redemption_reverse(actor=staff, redemption=r, reason="商品有破损，退回").pk == reversal.pk
    )
    shop["soap"].refresh_from_db()
    shop["account"].refresh_from_db()
    assert (shop["soap"].stock, shop["account"].balance) == (100, 100)
    with pytest.raises(PermissionDenied):
        redemption_reverse(actor=shop["clerk"], redemption=r, reason="x")
    report = points_report(actor=staff)
    assert (report.redeemed, report.person_times, report.value_fen) == (0, 0, 0)
    assert ledger_check().ok


def test_the_report_answers_yuan_exchanged_by_person_times(
    world: World, shop: dict[str, Any]
) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    redeem(shop, {shop["soap"].pk: 1}, key="a")
    redeem(shop, {shop["soap"].pk: 2}, key="b")
    report = points_report(actor=staff, unit=world.a.community)
    assert (
        report.issued,
        report.redeemed,
        report.value_fen,
        report.person_times,
        report.persons,
    ) == (
        100,
        60,
        4500,
        2,
        1,
    )
    assert report.rows[0]["outlet_id"] == shop["outlet"].pk and report.rows[0]["n"] == 2
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    assert points_report(actor=staff, start=tomorrow).person_times == 0
    # Tree B's staff see none of tree A's books.
    from doorstep.conftest import outsider

    assert points_report(actor=outsider(world)).person_times == 0


def test_the_counter_finds_by_phone_suffix_name_pinyin_and_qr_token(
    world: World, shop: dict[str, Any]
) -> None:
    clerk = shop["clerk"]
    outlet = shop["outlet"]
    account = shop["account"]
    for q in ("0000", "13800000000", "甲居民", "jiaju", "jjm", account.qr_token):
        hits = counter_find(actor=clerk, outlet=outlet, q=q)
        assert [h.account.pk for h in hits] == [account.pk], q
    hit = counter_find(actor=clerk, outlet=outlet, q="0000")[0]
    assert (
        hit.masked_name == "甲*民"
        and hit.phone_masked.startswith("138")
        and "*" in hit.phone_masked
    )
    # Too vague to point at one person: the clerk may find, not browse.
    for q in ("甲", "j", "12", "1380000"):
        with pytest.raises(ValidationError) as error:
            counter_find(actor=clerk, outlet=outlet, q=q)
        assert error.value.field == "q"
    # Tree B's resident is not found from tree A's counter, nor by their token.
    b_account = funded_account(world.b)
    assert counter_find(actor=clerk, outlet=outlet, q="乙居民") == []
    assert counter_find(actor=clerk, outlet=outlet, q=b_account.qr_token or "") == []


def test_every_counter_search_is_audited_by_kind_never_by_the_text_typed(
    world: World, shop: dict[str, Any]
) -> None:
    from doorstep.accounts.models import AuditAction, AuditEvent, AuditOutcome

    clerk, outlet, account = shop["clerk"], shop["outlet"], shop["account"]
    for q in ("13800000000", "0000", "甲居民", "jjm", account.qr_token, "丁某某"):
        counter_find(actor=clerk, outlet=outlet, q=q)
    rows = list(AuditEvent.objects.filter(action=AuditAction.COUNTER_SEARCH).order_by("id"))
    assert [(r.detail["kind"], r.detail["shown"]) for r in rows] == [
        ("phone", [account.person_id]),
        ("last4", [account.person_id]),
        ("name", [account.person_id]),
        ("pinyin", [account.person_id]),
        ("qr", [account.person_id]),
        ("name", []),  # nobody found: still recorded
    ]
    assert {(r.actor_id, r.outcome, r.detail["counter"]) for r in rows} == {
        (clerk.pk, AuditOutcome.SUCCESS, f"points:outlet:{outlet.pk}")
    }
    assert "13800000000" not in str([r.detail for r in rows])
    assert "甲居民" not in str([r.detail for r in rows])


def test_a_clerk_searching_too_often_is_refused_audited_and_may_still_scan(
    world: World, shop: dict[str, Any], settings: Any
) -> None:
    """A clerk who types phone endings one after another is stopped at the limit: the
    refusal names the field and the limit, is audited, and shows no one; scanning a
    resident's points code still works. Another clerk is not affected."""
    from doorstep.accounts.models import AuditAction, AuditEvent, AuditOutcome
    from doorstep.core.errors import TooManyRequests

    settings.DOORSTEP_COUNTER_SEARCH_LIMIT = 3
    clerk, outlet, account = shop["clerk"], shop["outlet"], shop["account"]
    for ending in ("0001", "0002", "0000"):
        counter_find(actor=clerk, outlet=outlet, q=ending)
    with pytest.raises(TooManyRequests) as error:
        counter_find(actor=clerk, outlet=outlet, q="0000")
    assert error.value.field == "q" and error.value.status_code == 429
    assert "3" in str(error.value.message)
    denied = AuditEvent.objects.get(action=AuditAction.COUNTER_SEARCH, outcome=AuditOutcome.DENIED)
    assert denied.actor_id == clerk.pk and denied.detail["kind"] == "last4"
    assert "shown" not in denied.detail
    # A vague query is refused for what it is, not counted.
    with pytest.raises(ValidationError):
        counter_find(actor=clerk, outlet=outlet, q="甲")
    scanned = counter_find(actor=clerk, outlet=outlet, q=account.qr_token or "")
    assert [h.account.pk for h in scanned] == [account.pk]
    staff = world.user(Role.COMMUNITY_STAFF)
    assert [h.account.pk for h in counter_find(actor=staff, outlet=outlet, q="0000")] == [
        account.pk
    ]


def test_goods_input_is_checked(world: World, shop: dict[str, Any]) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "", "points_price": 5}, "name"),
        ({"name": "毛巾", "points_price": 0}, "points_price"),
        ({"name": "毛巾", "points_price": 5, "stock": -1}, "stock"),
        ({"name": "洗衣粉", "points_price": 5}, "name"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as error:
            goods_save(actor=staff, outlet=shop["outlet"], **kwargs)
        assert error.value.field == field
    with pytest.raises(PermissionDenied):
        goods_save(actor=shop["clerk"], outlet=shop["outlet"], name="毛巾", points_price=5)


def test_mask_name() -> None:
    assert [mask_name(n) for n in ("张秀英", "李明", "王", "欧阳小明")] == [
        "张*英",
        "李*",
        "王",
        "欧**明",
    ]


def test_staff_grant_then_counter_redemption_by_another_clerk_of_the_same_outlet(
    world: World, shop: dict[str, Any]
) -> None:
    second = make_user("clerk2", Role.OUTLET_CLERK, shop["outlet"])
    points_grant(
        actor=world.user(Role.COMMUNITY_STAFF),
        account=shop["account"],
        amount=20,
        reason="敬老活动",
        idempotency_key="g",
    )
    r = redeem(shop, {shop["soap"].pk: 6}, actor=second)
    assert r.points == 120 and r.clerk == second


def test_a_canteen_bill_paid_partly_by_points(world: World, shop: dict[str, Any]) -> None:
    from ..services import payment_create

    canteen = outlet_create(
        actor=None, unit=world.a.community, kind=OutletKind.CANTEEN, name="幸福食堂"
    )
    staff = world.user(Role.COMMUNITY_STAFF)
    paid = payment_create(
        actor=staff,
        outlet=canteen,
        account=shop["account"],
        amount=10,
        reason="午餐套餐（60岁以上）",
        idempotency_key="meal-1",
        source_type="canteen.order",
        source_id=41,
    )
    again = payment_create(
        actor=staff,
        outlet=canteen,
        account=shop["account"],
        amount=10,
        reason="午餐套餐（60岁以上）",
        idempotency_key="meal-1",
        source_type="canteen.order",
        source_id=41,
    )
    assert again.pk == paid.pk and paid.kind == "payment"
    before = state()
    with pytest.raises(ValidationError, match="余额不足"):
        payment_create(
            actor=staff,
            outlet=canteen,
            account=shop["account"],
            amount=91,
            reason="晚餐",
            idempotency_key="meal-2",
        )
    with pytest.raises(PermissionDenied):
        payment_create(
            actor=shop["clerk"],
            outlet=canteen,
            account=shop["account"],
            amount=1,
            reason="晚餐",
            idempotency_key="m3",
        )
    assert state() == before
    shop["account"].refresh_from_db()
    assert shop["account"].balance == 90 and ledger_check().ok


def test_a_counter_search_writes_nothing_and_skips_residents_without_an_account(
    world: World, shop: dict[str, Any]
) -> None:
    from doorstep.people.services import person_create

    person_create(name="丙居民", unit=world.a.building)
    before = Account.objects.count()
    assert counter_find(actor=shop["clerk"], outlet=shop["outlet"], q="丙居民") == []
    assert Account.objects.count() == before


def test_a_redemption_is_one_statement_on_postgresql_and_few_on_sqlite(
    shop: dict[str, Any],
) -> None:
    """Round trips per redemption, savepoints aside: the hot balance rows stay locked
    for as few of them as possible (one server-side call on PostgreSQL)."""
    grants(shop["clerk"])  # the clerk's roles, read once per request
    with CaptureQueriesContext(connection) as ctx:
        redeem(shop, {shop["soap"].pk: 1, shop["oil"].pk: 1})
    statements = [
        q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    if connection.vendor == "postgresql":
        assert len(statements) == 1 and "points_redeem(" in statements[0]
    else:
        # replay check, outlet account (once per outlet), goods, transfer, receipt,
        # lines, one stock UPDATE per line, two balance UPDATEs
        assert len(statements) <= 10, statements
    assert ledger_check().ok


def test_a_refused_redemption_leaves_the_callers_transaction_usable(
    shop: dict[str, Any],
) -> None:
    before = state()
    with transaction.atomic():
        with pytest.raises(ValidationError, match="余额不足"):
            redeem(shop, {shop["soap"].pk: 6})
        assert Account.objects.filter(pk=shop["account"].pk).values_list("balance")[0] == (100,)
        done = redeem(shop, {shop["soap"].pk: 1}, key="k2")
    assert done.points == 20 and Redemption.objects.get().pk == done.pk
    assert state()[2:] == (before[2] + 1, before[3] + 1)
