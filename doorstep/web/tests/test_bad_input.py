"""Junk in query strings never reaches a 500: every console and API list page answers
with a page, a named error or a 404 for any role."""

from __future__ import annotations

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World

pytestmark = pytest.mark.django_db

JUNK = {
    "q": "<script>alert(1)</script>' OR 1=1 --",
    "within": "abc",
    "page": "-1",
    "page_size": "x",
    "tag": "no-such-tag",
    "age_group": "ancient",
    "kind": "planet",
    "party": "maybe",
    "since": "2026-13-40",
    "until": "yesterday",
    "action": "explode",
    "max_size": "0",
    "per_member": "-5",
    "role": "emperor",
}

PAGES = [
    "/",
    "/console/",
    "/console/units/",
    "/console/party-orgs/",
    "/console/departments/",
    "/console/roles/",
    "/console/roles/scope-options/",
    "/console/audit/",
    "/console/registry/",
    "/console/registry/party-members/",
    "/console/registry/mobile-party-members/",
    "/console/registry/import/",
    "/console/registry/export.xlsx",
    "/console/grids/",
    "/console/my-grid/",
    "/me/record/",
    "/api/v1/units/",
    "/api/v1/party-orgs/",
    "/api/v1/departments/",
    "/api/v1/role-assignments/",
    "/api/v1/audit-events/",
    "/api/v1/people/",
]


@pytest.mark.parametrize(
    "role",
    [
        Role.RESIDENT,
        Role.GRID_MEMBER,
        Role.COMMUNITY_STAFF,
        Role.CITY_ADMIN,
        Role.SECURITY_ADMIN,
        Role.AUDITOR,
    ],
)
def test_junk_query_strings_never_500(world: World, role: str) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.user(role))
    pages = [
        *PAGES,
        f"/console/units/{world.a.community.pk}/",
        f"/console/registry/people/{world.a.person.pk}/",
        f"/console/registry/households/{world.a.household.pk}/",
        f"/console/grids/units/{world.a.community.pk}/",
        f"/console/grids/units/{world.a.community.pk}/balance/",
        f"/console/grids/units/{world.a.community.pk}/map/",
        f"/console/grids/{world.a.grid.pk}/",
        f"/console/my-grid/households/{world.a.household.pk}/",
    ]
    for url in pages:
        response = client.get(url, JUNK)
        assert response.status_code < 500, f"{url} answered {response.status_code} to {role}"


@pytest.mark.parametrize("role", [Role.GRID_MEMBER, Role.COMMUNITY_STAFF, Role.SECURITY_ADMIN])
def test_junk_form_posts_never_500_and_change_nothing(world: World, role: str) -> None:
    from doorstep.accounts.models import RoleAssignment
    from doorstep.grids.models import Visit
    from doorstep.people.models import Person

    client = Client(raise_request_exception=False)
    client.force_login(world.user(role))
    counts = (Visit.objects.count(), Person.objects.count(), RoleAssignment.objects.count())
    junk = {key: value for key, value in JUNK.items()}
    junk.update(
        {
            "visited_on": "2026-02-30",
            "field": "password",
            "scope": "x",
            "username": "",
            "fingerprint": "zz",
        }
    )
    posts = [
        f"/console/my-grid/households/{world.a.household.pk}/",
        f"/console/registry/people/{world.a.person.pk}/reveal/",
        f"/console/grids/units/{world.a.community.pk}/balance/",
        "/console/roles/grant/",
        "/console/registry/import/",
        "/me/record/",
        "/preferences/elder-mode/",
    ]
    for url in posts:
        response = client.post(url, junk)
        assert response.status_code < 500, f"POST {url} answered {response.status_code} to {role}"
    assert (Visit.objects.count(), Person.objects.count(), RoleAssignment.objects.count()) == counts
