"""The intake's round trips are counted: a fixed, small number of queries per case,
whatever the number of cases or staff (the intake benchmark's goal depends on it). Its
shortcuts are tested here too: the kept categories, and the place read with the places
above it in one statement."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.appeals.models import Case, CaseEvent, Category, Notification
from doorstep.appeals.services import category_create, category_update
from doorstep.conftest import World

pytestmark = pytest.mark.django_db

# The place with the places above it, the grid, the reporter, the responsible staff;
# then the case, its event and the notifications in one transaction (a savepoint under
# the test's own). The category comes from the cache.
INTAKE_QUERIES = 7


def _post(api: APIClient, world: World, key: str) -> Any:
    body = {"category": "sanitation", "text": "楼道杂物", "unit_id": world.a.compound.pk}
    return api.post("/api/v1/appeals/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_intake_takes_a_fixed_number_of_queries(world: World) -> None:
    api = APIClient()
    api.force_authenticate(world.user(Role.RESIDENT))
    assert _post(api, world, "warm").status_code == 201
    for n in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = _post(api, world, f"k-{n}")
        assert response.status_code == 201
        # Savepoints are the test's transaction's, not round trips the intake asks for.
        asked = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(asked) == INTAKE_QUERIES, "\n".join(sql[:120] for sql in asked)
        assert not [sql for sql in asked if "appeals_category" in sql]
    case = Case.objects.latest("id")
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(case=case).count() >= 1
    # A retry with the same key answers the first case and writes nothing.
    again = _post(api, world, "k-0")
    assert again.status_code == 200 and Case.objects.count() == 4


def test_a_kept_category_follows_every_change(world: World) -> None:
    """Intake keeps categories in the cache; a change through the category services is
    seen by the very next intake."""
    api = APIClient()
    api.force_authenticate(world.user(Role.RESIDENT))
    admin = world.user(Role.CITY_ADMIN)
    assert _post(api, world, "first").status_code == 201
    sanitation = Category.objects.get(code="sanitation")
    stairs = category_create(actor=admin, code="stairs", name="楼道", parent=None)
    body = {"category": "stairs", "text": "楼道杂物", "unit_id": world.a.compound.pk}
    assert api.post("/api/v1/appeals/", body, format="json").status_code == 201
    # A sub-category makes the kept leaf a parent: a case now needs the sub-category.
    category_create(actor=admin, code="stairs-junk", name="楼道杂物", parent=stairs)
    refused = api.post("/api/v1/appeals/", body, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "category"
    # Deactivated after it was kept: refused at once.
    category_update(actor=admin, category=sanitation, is_active=False)
    gone = _post(api, world, "after")
    assert gone.status_code == 400 and gone.json()["errors"][0]["field"] == "category"
    category_update(actor=admin, category=sanitation, is_active=True, deadline_hours=5)
    back = _post(api, world, "back")
    assert back.status_code == 201
    case = Case.objects.get(pk=back.json()["id"])
    assert case.deadline is not None and case.clock_started_at is not None
    assert (case.deadline - case.clock_started_at).total_seconds() == 5 * 3600
