import pytest
from django.test import Client
from rest_framework.test import APIClient

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.conftest import PASSWORD, World, make_user

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_request_is_told_to_authenticate(world: World) -> None:
    response = APIClient().get("/api/v1/units/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_token_is_issued_audited_and_works(world: World) -> None:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "u_community_staff", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert AuditEvent.objects.filter(
        action=AuditAction.TOKEN_ISSUED, actor_username="u_community_staff"
    ).exists()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "u_community_staff"
    assert me["roles"][0]["role"] == Role.COMMUNITY_STAFF


def test_wrong_password_names_the_field_in_the_request_language(world: World) -> None:
    client = APIClient()
    zh = client.post(
        "/api/v1/auth/token/", {"username": "u_resident", "password": "nope"}, format="json"
    )
    assert zh.status_code == 400
    assert zh.json()["errors"] == [
        {"field": "password", "code": "invalid_credentials", "message": "用户名或密码不正确。"}
    ]
    en = client.post(
        "/api/v1/auth/token/",
        {"username": "u_resident", "password": "nope"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert en.json()["errors"][0]["field"] == "password"
    assert "用户名" not in en.json()["errors"][0]["message"]


def test_missing_fields_are_each_named(world: World) -> None:
    response = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"username", "password"}


def test_token_endpoint_is_subject_to_lockout(world: World) -> None:
    client = APIClient()
    for _ in range(5):
        client.post(
            "/api/v1/auth/token/", {"username": "u_resident", "password": "bad"}, format="json"
        )
    response = client.post(
        "/api/v1/auth/token/", {"username": "u_resident", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "locked_out"


def test_bad_filter_is_a_named_error_not_a_500(world: World) -> None:
    response = _client(world.user(Role.CITY_ADMIN)).get("/api/v1/units/?kind=planet&parent=abc")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"kind", "parent"}


def test_unit_list_query_count_does_not_grow_with_rows(
    world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = _client(world.user(Role.SYSTEM_ADMIN))
    with django_assert_max_num_queries(4):
        small = client.get("/api/v1/units/?page_size=2")
    with django_assert_max_num_queries(4):
        large = client.get("/api/v1/units/?page_size=500")
    assert len(small.json()["results"]) == 2 and len(large.json()["results"]) > 10


def test_security_admin_grants_through_the_api(world: World) -> None:
    make_user("api_target")
    client = _client(world.user(Role.SECURITY_ADMIN))
    response = client.post(
        "/api/v1/role-assignments/",
        {"username": "api_target", "role": "community_staff", "scope_id": world.a.community.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    # Revoking says why: refused without a reason, kept with one.
    refused = client.post(f"/api/v1/role-assignments/{pk}/revoke/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "reason"
    revoked = client.post(
        f"/api/v1/role-assignments/{pk}/revoke/", {"reason": "岗位调整"}, format="json"
    ).json()
    assert revoked["revoked_at"] and revoked["revoke_reason"] == "岗位调整"


def test_community_staff_cannot_grant_through_the_api(world: World) -> None:
    make_user("api_target2")
    response = _client(world.user(Role.COMMUNITY_STAFF)).post(
        "/api/v1/role-assignments/", {"username": "api_target2", "role": "resident"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_auditor_lists_the_audit_log_and_others_get_nothing(world: World) -> None:
    Client().post("/accounts/login/", {"username": "u_resident", "password": "bad"})
    auditor = (
        _client(world.user(Role.AUDITOR)).get("/api/v1/audit-events/?action=login_failed").json()
    )
    assert auditor["count"] == 1 and auditor["results"][0]["actor_username"] == "u_resident"
    system = _client(world.user(Role.SYSTEM_ADMIN)).get("/api/v1/audit-events/").json()
    assert system["count"] == 0
