"""The registry's REST endpoints: masked by default, scoped, reveal audited."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from doorstep.accounts.models import AuditAction, AuditEvent, AuditOutcome
from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.people.idnumber import make_id_number
from doorstep.people.models import Person
from doorstep.people.services import person_create

pytestmark = [pytest.mark.django_db, pytest.mark.urls("doorstep.people.tests.test_views")]

ADULT_ID = make_id_number("510502", dt.date(1950, 3, 15), 123)
PHONE = "13912345678"


def _client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def wang(world: World) -> Person:
    return person_create(
        name="王伟",
        household=world.a.household,
        relation="spouse",
        id_number=ADULT_ID,
        phone=PHONE,
        tags=["veteran"],
    )


def test_people_list_is_masked_scoped_and_searchable(world: World, wang: Person) -> None:
    client = _client(world.user(Role.COMMUNITY_STAFF))
    body = client.get("/api/v1/people/").json()
    assert body["count"] == 2
    assert sorted(r["name"] for r in body["results"]) == ["王伟", "甲居民"]
    row = next(r for r in body["results"] if r["name"] == "王伟")
    assert row["id_number_masked"] == ADULT_ID[:4] + "**********" + ADULT_ID[-4:]
    assert row["phone_masked"] == "139****5678"
    assert row["tags"] == ["veteran"] and row["address"] == "1号楼1单元101"
    assert row["birth_date"] == "1950-03-15" and row["age"] >= 76
    assert ADULT_ID not in str(body) and PHONE not in str(body)
    assert "id_number_sealed" not in row and "phone_hash" not in row

    found = client.get("/api/v1/people/", {"q": "ww"}).json()
    assert [r["name"] for r in found["results"]] == ["王伟"]
    found = client.get("/api/v1/people/", {"tag": "veteran", "age_group": "elderly"}).json()
    assert [r["name"] for r in found["results"]] == ["王伟"]
    found = client.get("/api/v1/people/", {"within": str(world.a.compound.pk), "q": "5678"}).json()
    assert [r["name"] for r in found["results"]] == ["王伟"]


def test_people_list_errors_name_the_field(world: World) -> None:
    client = _client(world.user(Role.COMMUNITY_STAFF))
    response = client.get("/api/v1/people/", {"age_group": "teen"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "age_group"
    response = client.get("/api/v1/people/", {"within": "abc"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "within"
    response = client.get("/api/v1/people/", {"within": world.b.building.pk})
    assert response.status_code == 404


def test_people_list_query_count_is_fixed(
    world: World, wang: Person, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        person_create(name=f"李{i}", unit=world.a.building).tags.set([1])
    client = _client(world.user(Role.COMMUNITY_STAFF))
    for size in (5, 50):
        with django_assert_max_num_queries(6):
            response = client.get("/api/v1/people/", {"page_size": size})
        assert len(response.json()["results"]) == min(size, 32)


def test_person_detail_out_of_scope_is_404(world: World, wang: Person) -> None:
    client = _client(world.user(Role.COMMUNITY_STAFF))
    assert client.get(f"/api/v1/people/{wang.pk}/").json()["name"] == "王伟"
    response = client.get(f"/api/v1/people/{world.b.person.pk}/")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"


def test_reveal_returns_the_number_and_audits(world: World, wang: Person) -> None:
    client = _client(world.user(Role.STREET_ADMIN))
    response = client.post(
        f"/api/v1/people/{wang.pk}/reveal/", {"field": "id_number"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": ADULT_ID}
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert (event.actor_username, event.outcome, event.detail) == (
        "u_street_admin",
        AuditOutcome.SUCCESS,
        {"field": "id_number"},
    )


def test_reveal_refused_for_a_grid_member_and_for_bad_fields(world: World, wang: Person) -> None:
    grid = _client(world.user(Role.GRID_MEMBER))
    response = grid.post(f"/api/v1/people/{wang.pk}/reveal/", {"field": "phone"}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    assert PHONE not in response.content.decode()
    assert AuditEvent.objects.get(action=AuditAction.REVEAL).outcome == AuditOutcome.DENIED

    staff = _client(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(f"/api/v1/people/{wang.pk}/reveal/", {"field": "name"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "field"
    response = staff.post(
        f"/api/v1/people/{world.b.person.pk}/reveal/", {"field": "phone"}, format="json"
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL).count() == 1


def test_household_detail(world: World, wang: Person) -> None:
    client = _client(world.user(Role.COMMUNITY_STAFF))
    body = client.get(f"/api/v1/households/{world.a.household.pk}/").json()
    assert body["address"] == "1号楼1单元101"
    assert body["head_id"] == world.a.person.pk
    assert body["grid"] == {"id": world.a.grid.pk, "name": "第一网格"}
    assert [(m["name"], m["relation"]) for m in body["members"]] == [
        ("甲居民", "head"),
        ("王伟", "spouse"),
    ]
    assert PHONE not in str(body)
    assert client.get(f"/api/v1/households/{world.b.household.pk}/").status_code == 404


def test_a_resident_sees_only_themselves(world: World, wang: Person) -> None:
    resident = world.user(Role.RESIDENT)
    Person.objects.filter(pk=wang.pk).update(user=resident)
    body = _client(resident).get("/api/v1/people/").json()
    assert [r["name"] for r in body["results"]] == ["王伟"]
