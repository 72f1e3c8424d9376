"""The appeals REST API: intake with idempotency, scoped list, detail, transitions."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.appeals.models import Case
from doorstep.conftest import World, make_user
from doorstep.orgs.models import Unit

from .factories import submit

pytestmark = pytest.mark.django_db


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _body(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "category": "sanitation",
        "text": "垃圾桶满了",
        "household_id": None,
        "unit_id": world.a.compound.pk,
        **extra,
    }


def test_intake_is_idempotent(world: World) -> None:
    api = _api(world.user(Role.RESIDENT))
    first = api.post("/api/v1/appeals/", _body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/appeals/", _body(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Case.objects.count() == 1
    assert first.json()["color"] == "green" and first.json()["state"] == "submitted"


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"category": "nope"}, "category"),
        ({"text": "字" * 20000}, "text"),
        ({"unit_id": None, "lat": 10.0, "lng": 60.0}, "location"),
        ({"unit_id": 999999}, "unit_id"),
        ({"unit_id": -3}, "unit_id"),
        ({"unit_id": 2**70}, "unit_id"),
        ({"unit_id": "inactive"}, "unit_id"),
    ],
)
def test_intake_errors_name_the_field(world: World, extra: dict[str, Any], field: str) -> None:
    if extra.get("unit_id") == "inactive":
        compound = world.a.compound
        Unit.objects.filter(pk=compound.pk).update(is_active=False)
        extra = {"unit_id": compound.pk}
    response = _api(world.user(Role.RESIDENT)).post(
        "/api/v1/appeals/", _body(world, **extra), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert not Case.objects.exists()


def test_list_is_scoped_and_detail_of_others_is_404(world: World) -> None:
    mine = submit(world)
    theirs = submit(world, tree=world.b, actor=make_user("b_res", Role.RESIDENT))
    staff = _api(world.user(Role.COMMUNITY_STAFF))
    ids = [row["id"] for row in staff.get("/api/v1/appeals/").json()["results"]]
    assert ids == [mine.pk]
    assert staff.get(f"/api/v1/appeals/{theirs.pk}/").status_code == 404
    detail = staff.get(f"/api/v1/appeals/{mine.pk}/").json()
    assert detail["events"][0]["action"] == "submit"


def test_transition_and_conflict(world: World) -> None:
    case = submit(world)
    staff = _api(world.user(Role.COMMUNITY_STAFF))
    url = f"/api/v1/appeals/{case.pk}/transitions/"
    ok = staff.post(url, {"action": "accept", "version": case.version}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "accepted"
    stale = staff.post(
        url, {"action": "resolve", "version": case.version, "result": "x"}, format="json"
    )
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "version"
    refused = _api(world.user(Role.RESIDENT)).post(
        url, {"action": "resolve", "version": case.version + 1, "result": "x"}, format="json"
    )
    assert refused.status_code == 403
    assert Case.objects.get(pk=case.pk).state == "accepted"


def test_categories_are_public() -> None:
    codes = [row["code"] for row in APIClient().get("/api/v1/appeal-categories/").json()]
    assert "sea_use" in codes and "living" not in codes
