"""The canteen API through DRF's APIClient: menus, finding a diner, quotes, orders
with idempotency keys, refunds, the report, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.orgs.services import unit_create
from doorstep.points.checking import ledger_check

from ..models import MealOrder
from . import factories as f

pytestmark = pytest.mark.django_db


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_menu_find_quote_order_replay_refund(place: dict[str, Any]) -> None:
    clerk = _api(place["clerk"])
    canteen, dishes = place["canteen"], place["dishes"]
    menu = clerk.get(f"/api/v1/canteen/canteens/{canteen.pk}/menu/", {"meal": "lunch"})
    assert menu.status_code == 200
    assert {row["name"] for row in menu.json()} == {"荤素套餐", "清淡套餐", "牛肉面"}
    hits = clerk.get(f"/api/v1/canteen/canteens/{canteen.pk}/diners/", {"q": "5678"}).json()
    assert [h["masked_name"] for h in hits] == ["王*英"]
    ticket = hits[0]["ticket"]
    body = {
        "canteen": canteen.pk,
        "meal": "lunch",
        "ticket": ticket,
        "items": [{"dish": dishes["set"].pk, "quantity": 2}],
    }
    quote = clerk.post("/api/v1/canteen/quotes/", body, format="json")
    assert quote.status_code == 200
    assert quote.json()["total_fen"] == 1000 + 1800
    assert [line["rule_label"] for line in quote.json()["lines"]] == ["60岁以上 ¥10", ""]
    f.funded(place["elder"], 30, "api1")
    order_body = {**body, "points": 20, "cash_fen": 800}
    created = clerk.post(
        "/api/v1/canteen/orders/", order_body, format="json", HTTP_IDEMPOTENCY_KEY="api-1"
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["total_fen"], data["cash_fen"], data["points"], data["walk_in"]) == (
        2800,
        800,
        20,
        False,
    )
    replay = clerk.post(
        "/api/v1/canteen/orders/", order_body, format="json", HTTP_IDEMPOTENCY_KEY="api-1"
    )
    assert replay.status_code == 200 and replay.json()["id"] == data["id"]
    conflict = clerk.post(
        "/api/v1/canteen/orders/",
        {**order_body, "points": 10, "cash_fen": 1800},
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-1",
    )
    assert conflict.status_code == 409
    assert conflict.json()["errors"][0]["field"] == "idempotency_key"
    assert MealOrder.objects.count() == 1
    listed = clerk.get("/api/v1/canteen/orders/", {"canteen": canteen.pk}).json()
    assert [row["id"] for row in listed["results"]] == [data["id"]]
    # The clerk may not refund; staff may, once.
    url = f"/api/v1/canteen/orders/{data['id']}/refund/"
    assert clerk.post(url, {"reason": "错单"}, format="json").status_code == 403
    staff = _api(place["staff"])
    refunded = staff.post(url, {"reason": "错单"}, format="json")
    assert refunded.status_code == 200
    assert refunded.json()["state"] == "refunded"
    assert refunded.json()["cash_refunded_fen"] == 800
    assert ledger_check().ok
    report = staff.get("/api/v1/canteen/report/", {"canteen": canteen.pk}).json()
    assert report["person_times"] == 0  # refunded bills do not count


def test_bad_input_names_the_field_in_the_language_asked(place: dict[str, Any]) -> None:
    clerk = _api(place["clerk"])
    canteen, dishes = place["canteen"], place["dishes"]
    body: dict[str, Any] = {
        "canteen": canteen.pk,
        "meal": "lunch",
        "items": [{"dish": dishes["set"].pk, "quantity": 1}],
        "idempotency_key": "bad-1",
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cash_fen": -5}, "cash_fen"),
        ({"points": 2}, "points"),
        ({"items": [{"dish": 987654, "quantity": 1}]}, "items"),
        ({"items": [{"dish": dishes["set"].pk, "quantity": 0}]}, "items"),
        ({"ticket": "forged"}, "ticket"),
        ({"meal": "supper"}, "meal"),
    ]
    for change, field in cases:
        response = clerk.post("/api/v1/canteen/orders/", {**body, **change}, format="json")
        assert response.status_code == 400, (change, response.json())
        assert response.json()["errors"][0]["field"] == field, change
    english = clerk.post(
        "/api/v1/canteen/orders/",
        {**body, "points": 2},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "walk-in" in english.json()["errors"][0]["message"].lower()
    missing_key = clerk.post(
        "/api/v1/canteen/orders/", {k: v for k, v in body.items() if k != "idempotency_key"},
        format="json",
    )  # fmt: skip
    assert missing_key.json()["errors"][0]["field"] == "idempotency_key"
    assert not MealOrder.objects.exists()


def test_outside_scope_is_404_and_the_report_counts(place: dict[str, Any]) -> None:
    from ..services import order_create

    order = order_create(
        actor=place["clerk"],
        canteen=place["canteen"],
        meal="lunch",
        items={place["dishes"]["set"].pk: 1},
        person=place["elder"],
        idempotency_key="rep-1",
    )
    other = unit_create(
        kind="community", name="四龙社区", code="620402001002", parent=place["community"].parent
    )
    outsider = _api(make_user("silong", Role.COMMUNITY_STAFF, other))
    assert outsider.get(f"/api/v1/canteen/orders/{order.pk}/").status_code == 404
    assert outsider.get(f"/api/v1/canteen/canteens/{place['canteen'].pk}/menu/").status_code == 404
    assert outsider.get("/api/v1/canteen/canteens/").json()["count"] == 0
    staff = _api(place["staff"])
    report = staff.get("/api/v1/canteen/report/", {"unit": place["community"].pk}).json()
    assert report["person_times"] == 1 and report["age_meals"] == 1
    assert report["cash_fen"] == 1000
    assert report["canteens"][0]["name"] == "颐和食堂"
    bad = staff.get("/api/v1/canteen/report/", {"start": "2026-13-01"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "start"


def test_qr_code_finds_the_diner_and_lists_do_not_grow_with_rows(
    place: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    from ..services import order_create

    account = f.funded(place["elder"], 10, "qr1")
    clerk = _api(place["clerk"])
    url = f"/api/v1/canteen/canteens/{place['canteen'].pk}/diners/"
    hits = clerk.get(url, {"q": str(account.qr_token)}).json()
    assert [h["masked_name"] for h in hits] == ["王*英"]
    assert clerk.get(url, {"q": "x"}).json()["errors"][0]["field"] == "q"
    for n in range(6):
        order_create(
            actor=place["clerk"],
            canteen=place["canteen"],
            meal="lunch",
            items={place["dishes"]["noodles"].pk: 1},
            idempotency_key=f"list-{n}",
        )
    with django_assert_max_num_queries(12):
        listed = clerk.get("/api/v1/canteen/orders/")
    assert listed.json()["count"] == 6
