"""A NUL character in the path or a query parameter is refused before any view runs, in
the format of the part of the site asked (PostgreSQL cannot compare such text)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World

pytestmark = pytest.mark.django_db


def test_a_nul_in_an_api_filter_is_a_400_naming_the_parameter(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    response = client.get("/api/v1/appeals/", {"category": "a\x00b", "state": "open"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "category"
    assert "category" in error["message"] and "NUL" in error["message"]


def test_the_refusal_speaks_the_requests_language(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/api/v1/units/", {"q": "\x00"})
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "q" in message and "NUL" in message
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_a_nul_in_a_page_parameter_is_the_error_page(world: World) -> None:
    client = Client()
    response = client.get("/board/", {"q": "\x00"})
    assert response.status_code == 400
    assert "text/html" in response["Content-Type"]
    assert "NUL" in response.content.decode()
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    response = client.get("/console/registry/", {"q": "张\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_in_a_parameter_name_or_the_path_is_refused(world: World) -> None:
    client = Client()
    assert client.get("/board/?a%00b=1").status_code == 400
    assert client.get("/open311/v2/requests/%00.json").status_code == 400


def test_open311_gets_its_own_error_list() -> None:
    client = Client()
    response = client.get("/open311/v2/requests.json", {"service_code": "\x00"})
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body[0]["code"] == 400 and "service_code" in body[0]["description"]
    response = client.get("/open311/v2/requests.xml", {"service_code": "\x00"})
    assert response.status_code == 400
    assert response.content.startswith(b"<?xml") and b"<errors>" in response.content


def test_ordinary_parameters_pass(world: World) -> None:
    client = Client()
    assert client.get("/board/", {"q": "楼道"}).status_code == 200


def test_a_nul_in_a_posted_form_field_is_refused_naming_it(world: World) -> None:
    """Not every page reads its fields through a Django form: the Open311 key page wrote
    the name as posted, and PostgreSQL failed on the NUL with a server error."""
    from doorstep.open311.models import ApiKey

    client = Client()
    client.force_login(world.user(Role.SYSTEM_ADMIN))
    response = client.post("/console/open311/keys/", {"action": "create", "name": "热线\x00"})
    assert response.status_code == 400
    assert "name" in response.content.decode() and "NUL" in response.content.decode()
    assert not ApiKey.objects.exists()
    multipart = client.post("/console/open311/keys/", {"name": "热线\x00"}, format="multipart")
    assert multipart.status_code == 400


def test_a_json_body_is_left_to_its_serializer(world: World) -> None:
    """A JSON body is not a form: the serializer refuses the NUL, in the API's format."""
    client = Client()
    client.force_login(world.user(Role.RESIDENT))
    body = {"text": "楼道\x00", "kind": "problem", "category": "sanitation"}
    response = client.post("/api/v1/appeals/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "text", "code": "null_characters_not_allowed", "message": "不允许是用空字符串。"}
    ]


def test_a_refusal_is_logged_as_a_bad_request_not_as_a_failure(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO"):
        assert Client().get("/board/", {"q": "\x00"}).status_code == 400
    refused = [r for r in caplog.records if r.name == "django.request"]
    assert refused and all(r.levelname == "WARNING" for r in refused)
    assert not any(r.exc_info for r in caplog.records)
