"""Counters billing at once: the same elderly resident at several counters gets one
discounted set meal per meal, the last portions are never oversold, and the ledger's
invariants hold, on the configured database."""

from __future__ import annotations

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
from doorstep.points.checking import ledger_check
from doorstep.points.choices import ActivityType
from doorstep.points.services import earning_rule_set, points_earn

from ..models import MealDiscount, MealOrder, MenuItem
from ..services import order_create
from . import factories as f

THREADS = 6


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


def _retrying(**kwargs: Any) -> MealOrder:
    return retry_while_locked(order_create, **kwargs)  # type: ignore[no-any-return]


@pytest.mark.django_db(transaction=True)
def test_one_discount_per_meal_and_no_oversold_portions_under_concurrency() -> None:
    city = unit_create(kind="city", name="白银市", code="620400")
    district = unit_create(kind="district", name="白银区", code="620402", parent=city)
    street = unit_create(kind="street", name="人民路街道", code="620402001000", parent=district)
    community = unit_create(kind="community", name="颐和社区", code="620402001001", parent=street)
    canteen = f.canteen(community, "颐和食堂")
    dishes = f.dishes(canteen)
    f.menu(canteen, dishes, portions=4)
    clerk = make_user("clerk", Role.OUTLET_CLERK, canteen.outlet)
    elder = f.resident(community, "王秀英", age=75)
    earning_rule_set(
        actor=None, unit=community, activity_type=ActivityType.SANITATION, points_per_time=100
    )
    points_earn(
        person=elder, activity_type=ActivityType.SANITATION, minutes=60,
        occurred_on=f.today(), source_type="test.canteen", source_id="c1",
    )  # fmt: skip
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            _retrying(
                actor=clerk,
                canteen=canteen,
                meal="lunch",
                items={dishes["set"].pk: 1},
                person=elder,
                points=5,
                idempotency_key=f"t{n}",
            )
            result = "ok"
        except ValidationError as exc:
            result = exc.code
        with lock:
            outcomes[result] += 1

    assert _run(worker) == []
    # Four portions: four bills at most, the rest refused as sold out (or, for a
    # counter that lost the race for the discount, refused to be re-priced).
    assert outcomes["ok"] == MealOrder.objects.count() <= 4, outcomes
    assert set(outcomes) <= {"ok", "sold_out", "discount_used"}, outcomes
    item = MenuItem.objects.get(menu__meal="lunch", dish=dishes["set"])
    assert item.sold == MealOrder.objects.count()
    assert MealDiscount.objects.filter(person=elder, released=False).count() == 1
    prices = sorted(MealOrder.objects.values_list("total_fen", flat=True))
    assert prices[0] == 1000 and all(p == 1800 for p in prices[1:])
    check = ledger_check()
    assert check.ok and check.total == 0
    assert MealOrder.objects.aggregate(p=Sum("points"))["p"] == 5 * len(prices)
