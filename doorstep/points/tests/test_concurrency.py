"""Many clients redeeming at once on a few hot accounts, on the configured database
(SQLite: IMMEDIATE transactions, conditional UPDATE, check constraint; PostgreSQL: row
locks taken by the conditional UPDATEs in primary-key order). The invariants must hold
and every point must be accounted for."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user, retry_while_locked
from doorstep.core.errors import ValidationError
from doorstep.orgs.services import unit_create
from doorstep.people.services import person_create

from ..checking import ledger_check
from ..choices import AccountKind, OutletKind
from ..models import Account, Goods, Redemption, Transfer
from ..services import goods_save, outlet_create, points_grant, redemption_create, resident_account

# Transactional tests (threads need committed rows) build everything they use: the
# runner empties the tables after each, default rows from data migrations included.
THREADS = 12
ATTEMPTS = 25
HOT = 4


def _setup() -> tuple[Any, Any, list[Account], list[Goods]]:
    city = unit_create(kind="city", name="白银市", code="620400")
    district = unit_create(kind="district", name="白银区", code="620402", parent=city)
    street = unit_create(kind="street", name="人民路街道", code="620402001000", parent=district)
    community = unit_create(kind="community", name="颐和社区", code="620402001001", parent=street)
    staff = make_user("staff", Role.COMMUNITY_STAFF, community)
    outlet = outlet_create(actor=staff, unit=community, kind=OutletKind.CHARITY_SHOP, name="爱心屋")
    clerk = make_user("clerk", Role.OUTLET_CLERK, outlet)
    goods = [
        goods_save(
            actor=staff, outlet=outlet, name="肥皂", points_price=3, value_fen=300, stock=10_000
        ),
        goods_save(
            actor=staff, outlet=outlet, name="毛巾", points_price=7, value_fen=800, stock=40
        ),
    ]
    accounts = []
    for i in range(HOT):
        account = resident_account(person=person_create(name=f"热门{i}", unit=community))
        points_grant(
            actor=staff, account=account, amount=60, reason="初始", idempotency_key=f"seed{i}"
        )
        accounts.append(account)
    return outlet, clerk, accounts, goods


def _run(worker: Any) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def target(n: int) -> None:
        try:
            barrier.wait()
            worker(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def _redeem_retrying(**kwargs: Any) -> Redemption:
    return retry_while_locked(redemption_create, **kwargs)  # type: ignore[no-any-return]


@pytest.mark.django_db(transaction=True)
def test_concurrent_redemptions_on_hot_accounts_keep_the_books() -> None:
    outlet, clerk, accounts, goods = _setup()
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(n: int) -> None:
        rng = random.Random(n)
        for i in range(ATTEMPTS):
            item = rng.choice(goods)
            try:
                _redeem_retrying(
                    actor=clerk,
                    outlet=outlet,
                    account=rng.choice(accounts),
                    items={item.pk: rng.randint(1, 2)},
                    idempotency_key=f"t{n}-{i}",
                )
                result = "ok"
            except ValidationError as exc:
                result = exc.code
            with lock:
                outcomes[result] += 1

    assert _run(worker) == []
    assert outcomes["ok"] > 0 and outcomes["insufficient_points"] > 0, outcomes
    check = ledger_check()
    assert check.ok, (check.mismatched, check.negative, check.total)
    assert not Account.objects.filter(kind=AccountKind.RESIDENT, balance__lt=0).exists()
    redeemed = Redemption.objects.aggregate(n=Sum("points"))["n"]
    assert Account.objects.get(outlet=outlet).balance == redeemed
    assert sum(a.balance for a in Account.objects.filter(pk__in=[a.pk for a in accounts])) == (
        60 * HOT - redeemed
    )
    # Stock went down by exactly what the receipts hold.
    for item in goods:
        item.refresh_from_db()
        taken = sum(
            line.quantity
            for r in Redemption.objects.all()
            for line in r.lines.all()
            if line.goods_id == item.pk
        )
        assert item.stock == {"肥皂": 10_000, "毛巾": 40}[item.name] - taken


@pytest.mark.django_db(transaction=True)
def test_the_same_key_from_many_clients_at_once_redeems_once() -> None:
    outlet, clerk, accounts, goods = _setup()
    results: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        redemption = _redeem_retrying(
            actor=clerk,
            outlet=outlet,
            account=accounts[0],
            items={goods[0].pk: 1},
            idempotency_key="tablet-retry-1",
        )
        with lock:
            results.append(redemption.pk)

    assert _run(worker) == []
    assert len(results) == THREADS and len(set(results)) == 1
    assert Transfer.objects.filter(kind="redeem").count() == 1
    assert ledger_check().ok
