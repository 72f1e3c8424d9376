"""The points API: balances and history, grants and redemptions with idempotency keys,
the report, errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.people.services import person_link_account

from ..models import Redemption, Transfer
from .scope import funded_account, tree_goods, tree_outlet

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def found(clerk: APIClient, outlet: Any, q: str = "0000") -> list[dict[str, Any]]:
    """The counter search, as a clerk's tablet calls it before a redemption."""
    response = clerk.get(f"/api/v1/points/outlets/{outlet.pk}/counter/", {"q": q})
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def setup(world: World) -> dict[str, Any]:
    s: dict[str, Any] = {
        "outlet": tree_outlet(world.a),
        "soap": tree_goods(world.a),
        "account": funded_account(world.a, 100),
        "clerk": api(world.user(Role.OUTLET_CLERK)),
        "staff": api(world.user(Role.COMMUNITY_STAFF)),
    }
    s["ticket"] = found(s["clerk"], s["outlet"])[0]["ticket"]
    return s


def body(s: dict[str, Any], quantity: int = 1) -> dict[str, Any]:
    return {
        "outlet": s["outlet"].pk,
        "ticket": s["ticket"],
        "items": [{"goods": s["soap"].pk, "quantity": quantity}],
    }


def test_the_counter_search_finds_one_masked_resident_with_a_ticket(
    world: World, setup: dict[str, Any]
) -> None:
    hits = found(setup["clerk"], setup["outlet"])
    assert [(h["account_id"], h["masked_name"], h["balance"]) for h in hits] == [
        (setup["account"].pk, "甲*民", 100)
    ]
    assert "甲居民" not in str(hits) and "13800000000" not in str(hits)
    vague = setup["clerk"].get(f"/api/v1/points/outlets/{setup['outlet'].pk}/counter/", {"q": "甲"})
    assert vague.status_code == 400 and vague.json()["errors"][0]["field"] == "q"
    other = tree_outlet(world.b)
    assert (
        setup["clerk"].get(f"/api/v1/points/outlets/{other.pk}/counter/", {"q": "0000"}).status_code
        == 404
    )
    # A grid member sees the outlet but does not serve its counter.
    grid = api(world.user(Role.GRID_MEMBER))
    url = f"/api/v1/points/outlets/{setup['outlet'].pk}/counter/"
    assert grid.get(url, {"q": "0000"}).status_code == 404


def test_too_many_counter_searches_answer_429_naming_the_field(
    setup: dict[str, Any], settings: Any
) -> None:
    settings.DOORSTEP_COUNTER_SEARCH_LIMIT = 2
    url = f"/api/v1/points/outlets/{setup['outlet'].pk}/counter/"
    # The fixture's own search was the first.
    assert setup["clerk"].get(url, {"q": "0000"}).status_code == 200
    refused = setup["clerk"].get(url, {"q": "0000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["field"] == "q" and error["code"] == "throttled"
    assert "10 minutes" in error["message"] and "甲*民" not in refused.content.decode()


def test_a_clerk_cannot_open_a_resident_account_by_id(world: World, setup: dict[str, Any]) -> None:
    """A clerk finds a resident through the counter search only: the account and its
    history answer 404 by id, a redemption naming a bare account id is refused, and so
    is a ticket that this clerk's search did not give; nothing changes."""
    clerk, account = setup["clerk"], setup["account"]
    assert clerk.get(f"/api/v1/points/accounts/{account.pk}/").status_code == 404
    assert clerk.get(f"/api/v1/points/accounts/{account.pk}/transfers/").status_code == 404
    bare = {k: v for k, v in body(setup).items() if k != "ticket"} | {"account": account.pk}
    refused = clerk.post(
        "/api/v1/points/redemptions/", bare | {"idempotency_key": "k1"}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "account"
    forged = clerk.post(
        "/api/v1/points/redemptions/",
        body(setup) | {"ticket": setup["ticket"][:-2] + "xx", "idempotency_key": "k2"},
        format="json",
    )
    assert forged.status_code == 400 and forged.json()["errors"][0]["field"] == "ticket"
    # Another user's ticket (here: the staff member's own search) does not serve the clerk.
    staff_ticket = found(setup["staff"], setup["outlet"])[0]["ticket"]
    borrowed = clerk.post(
        "/api/v1/points/redemptions/",
        body(setup) | {"ticket": staff_ticket, "idempotency_key": "k3"},
        format="json",
    )
    assert borrowed.status_code == 400 and borrowed.json()["errors"][0]["field"] == "ticket"
    # A ticket and an account id that disagree are refused too.
    mixed = clerk.post(
        "/api/v1/points/redemptions/",
        body(setup) | {"account": account.pk + 1000, "idempotency_key": "k4"},
        format="json",
    )
    assert mixed.status_code == 400
    assert not Redemption.objects.exists()
    assert clerk.get(f"/api/v1/points/accounts/{account.pk}/").status_code == 404
    # Staff who run the community still open it by id.
    assert setup["staff"].get(f"/api/v1/points/accounts/{account.pk}/").json()["balance"] == 100


def test_redemption_with_an_idempotency_key_header(setup: dict[str, Any]) -> None:
    clerk = setup["clerk"]
    first = clerk.post(
        "/api/v1/points/redemptions/", body(setup), format="json", HTTP_IDEMPOTENCY_KEY="tab-1"
    )
    assert first.status_code == 201, first.content
    assert first.json()["points"] == 20 and first.json()["lines"][0]["name"] == "洗衣粉"
    again = clerk.post(
        "/api/v1/points/redemptions/", body(setup), format="json", HTTP_IDEMPOTENCY_KEY="tab-1"
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    clash = clerk.post(
        "/api/v1/points/redemptions/", body(setup, 2), format="json", HTTP_IDEMPOTENCY_KEY="tab-1"
    )
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "idempotency_key"
    assert Redemption.objects.count() == 1


@pytest.mark.parametrize(
    "change,status,field",
    [
        ({"items": [{"goods": 0, "quantity": 1}]}, 400, "items"),
        ({"items": []}, 400, "items"),
        ({"items": "x"}, 400, "items"),
        ({"account": "abc"}, 400, "account"),
        ({}, 400, "idempotency_key"),
    ],
)
def test_bad_redemption_requests_name_the_field(
    setup: dict[str, Any], change: dict[str, Any], status: int, field: str
) -> None:
    data = body(setup) | change
    response = setup["clerk"].post("/api/v1/points/redemptions/", data, format="json")
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["field"].startswith(field)
    assert not Redemption.objects.exists()


def test_over_balance_is_a_clear_error(setup: dict[str, Any]) -> None:
    response = setup["clerk"].post(
        "/api/v1/points/redemptions/", body(setup, 6) | {"idempotency_key": "k"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "amount",
        "code": "insufficient_points",
        "message": "积分余额不足。",
    }
    english = setup["clerk"].post(
        "/api/v1/points/redemptions/",
        body(setup, 6) | {"idempotency_key": "k"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.json()["errors"][0]["message"] == "Not enough points."


def test_grant_and_history_and_balance(
    world: World, setup: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    staff = setup["staff"]
    account = setup["account"]
    response = staff.post(
        "/api/v1/points/grants/",
        {"account": account.pk, "amount": 7, "reason": "调解纠纷", "idempotency_key": "g1"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["amount"] == 7
    assert (
        staff.post(
            "/api/v1/points/grants/",
            {"account": account.pk, "amount": 7, "reason": "调解纠纷", "idempotency_key": "g1"},
            format="json",
        ).status_code
        == 200
    )
    bad = staff.post(
        "/api/v1/points/grants/",
        {"account": account.pk, "amount": 0, "reason": "x", "idempotency_key": "g2"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "amount"
    assert staff.get(f"/api/v1/points/accounts/{account.pk}/").json()["balance"] == 107
    with django_assert_max_num_queries(8):
        history = staff.get(f"/api/v1/points/accounts/{account.pk}/transfers/").json()
    assert [row["amount"] for row in history["results"]] == [7, 100]
    # A clerk may not grant: the account is not theirs to see (404, not 403).
    assert (
        setup["clerk"]
        .post(
            "/api/v1/points/grants/",
            {"account": account.pk, "amount": 1, "reason": "x", "idempotency_key": "g3"},
            format="json",
        )
        .status_code
        == 404
    )
    assert Transfer.objects.filter(kind="grant").count() == 1


def test_a_resident_reads_their_own_account_only(world: World, setup: dict[str, Any]) -> None:
    resident = api(world.user(Role.RESIDENT))
    assert resident.get("/api/v1/points/me/").status_code == 404
    person_link_account(person=world.a.person, user=world.user(Role.RESIDENT))
    mine = resident.get("/api/v1/points/me/").json()
    assert mine["balance"] == 100 and mine["holder"] == "甲*民"
    other = funded_account(world.b)
    assert resident.get(f"/api/v1/points/accounts/{other.pk}/").status_code == 404


def test_the_report(world: World, setup: dict[str, Any]) -> None:
    setup["clerk"].post(
        "/api/v1/points/redemptions/", body(setup, 2) | {"idempotency_key": "r"}, format="json"
    )
    report = setup["staff"].get("/api/v1/points/report/", {"unit": world.a.community.pk}).json()
    assert (report["value_fen"], report["person_times"], report["redeemed"], report["issued"]) == (
        3000,
        1,
        40,
        100,
    )
    assert (
        setup["staff"]
        .get("/api/v1/points/report/", {"start": "2026-13-01"})
        .json()["errors"][0]["field"]
        == "start"
    )


def test_redemption_reversal_api(world: World, setup: dict[str, Any]) -> None:
    created = (
        setup["clerk"]
        .post("/api/v1/points/redemptions/", body(setup) | {"idempotency_key": "r"}, format="json")
        .json()
    )
    response = setup["staff"].post(
        f"/api/v1/points/redemptions/{created['id']}/reversal/", {"reason": "退货"}, format="json"
    )
    assert response.status_code == 200 and response.json()["kind"] == "reversal"
    assert (
        setup["staff"].get(f"/api/v1/points/redemptions/{created['id']}/").json()["reversed"]
        is True
    )


def test_transfer_reversal_api_for_a_grant_with_a_key(world: World, setup: dict[str, Any]) -> None:
    staff = setup["staff"]
    grant = staff.post(
        "/api/v1/points/grants/",
        {"account": setup["account"].pk, "amount": 9, "reason": "误发", "idempotency_key": "g"},
        format="json",
    ).json()
    url = f"/api/v1/points/transfers/{grant['id']}/reversal/"
    first = staff.post(url, {"reason": "发错了"}, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert first.status_code == 200 and first.json()["reverses_id"] == grant["id"]
    again = staff.post(url, {"reason": "发错了"}, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert again.json()["id"] == first.json()["id"]
    twice = staff.post(url, {"reason": "发错了"}, format="json", HTTP_IDEMPOTENCY_KEY="rev-2")
    assert twice.status_code == 409
    redeemed = (
        setup["clerk"]
        .post("/api/v1/points/redemptions/", body(setup) | {"idempotency_key": "r"}, format="json")
        .json()
    )
    refused = staff.post(
        f"/api/v1/points/transfers/{redeemed['transfer_id']}/reversal/",
        {"reason": "x", "idempotency_key": "rev-3"},
        format="json",
    )
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "transfer"
    # Out of scope: 404 for tree B's staff.
    from doorstep.conftest import outsider

    assert api(outsider(world)).post(url, {"reason": "x"}, format="json").status_code == 404
