"""The intake's round trips are counted: a fixed, small number of queries per case,
whatever the number of cases or staff (the intake benchmark's goal depends on it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.appeals.models import Case, CaseEvent, Notification
from doorstep.conftest import World

pytestmark = pytest.mark.django_db

# Place, category, ancestors, grid, reporter, responsible staff; then the case, its
# event and the notifications in one transaction (a savepoint under the test's own).
INTAKE_QUERIES = 9


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
        # Savepoints are not round trips that the intake asks for.
        asked = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(asked) <= INTAKE_QUERIES, "\n".join(q["sql"][:120] for q in asked)
    case = Case.objects.latest("id")
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert Notification.objects.filter(case=case).count() >= 1
    # A retry with the same key answers the first case and writes nothing.
    again = _post(api, world, "k-0")
    assert again.status_code == 200 and Case.objects.count() == 4
