"""Garbage into every operation of the published API: never a 500, always an error that
names what is wrong, and a refused write changes nothing.

The operations come from the committed OpenAPI document (``openapi/doorstep.yaml``, kept
current by ``make schema-check``), so an endpoint added later is fuzzed without editing
this file. The sites endpoints have their own, field-by-field test
(``doorstep/sites/tests/test_api_staff.py``); here they are covered by the generic one
as well.

Rows for every scoped model are made in tree A (the tree every role's scope covers) by
the factories the scope matrix uses, so that the ``{id}`` of a path names real rows of
the right kind for most operations; each path is also tried with ids no row has."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.db import transaction
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role, available_roles
from doorstep.accounts.scoping import registered_models
from doorstep.conftest import World

pytestmark = pytest.mark.django_db

SCHEMA = Path(settings.BASE_DIR) / "openapi" / "doorstep.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
# Values wrong for at least one field of every write. 0, true and a plain word are left
# out: each is a fine value for some optional field.
POISON: list[Any] = [None, "", "\x00", -1, 2**70, -(2**70), 1e308, "NaN", "9999-12-31T23:59:59Z",
                     "0000-00-00", "x" * 20_000, ["a"], [2**70], {"a": 1}, [{"day": 9}]]  # fmt: skip
# Query-string values: everything arrives as text there.
QUERY_POISON = ["", "\x00", "-1", str(2**70), "1e308", "NaN", "9999-12-31", "0000-00-00",
                "<script>alert(1)</script>", "%", "'; DROP TABLE x; --", "x" * 5_000]  # fmt: skip
PATH_IDS = [0, 2**63, 2**70, 99_999_999]
# Roles that get past the door of a write (the rest are refused before any field is read).
ROLES_PER_WRITE = 3
# Writes that need no body (a revoke, a cancellation): the body fuzz skips them.
OPTIONAL_BODY = {"post /api/v1/auth/token/"}


@cache
def operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                found.append((method, path, item[method]))
    return found


@cache
def components() -> dict[str, Any]:
    document = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    return dict(document.get("components", {}).get("schemas", {}))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A property's schema with ``$ref`` and a one-part ``allOf`` followed (keeping
    ``nullable`` from the outer node)."""
    nullable = bool(node.get("nullable"))
    while True:
        if "$ref" in node:
            node = components().get(node["$ref"].rsplit("/", 1)[-1], {})
        elif len(node.get("allOf", [])) == 1:
            nullable = nullable or bool(node.get("nullable"))
            node = node["allOf"][0]
        else:
            break
    return {**node, "nullable": nullable or bool(node.get("nullable"))}


def body_fields(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The properties of the operation's JSON body, by name."""
    content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
    schema: dict[str, Any] = media.get("schema", {})
    return dict(sorted(resolve(schema).get("properties", {}).items()))


def surely_refused(schema: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` cannot be valid for a field of this (resolved) schema, as DRF
    reads JSON: a number is fine text for a plain string field, a year-9999 timestamp
    is a well-formed date-time, so neither is "surely" refused there."""
    schema = resolve(schema)
    if value is None:
        return not schema["nullable"]
    if "enum" in schema:
        return value not in schema["enum"]
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return value not in (True, False, 0, 1, "true", "false", "True", "False", "1", "0")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return True
        return bool(value < schema.get("minimum", value) or value > schema.get("maximum", value))
    if kind == "array":
        items = schema.get("items", {})
        return not isinstance(value, list) or any(surely_refused(items, v) for v in value)
    if kind == "string" and fmt is None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return True
        text = str(value)
        return (
            "\x00" in text
            or len(text) < schema.get("minLength", 0)
            or len(text) > schema.get("maxLength", len(text))
        )
    if kind == "string" and fmt in ("date", "time"):
        return not isinstance(value, str) or value[:4] in ("", "0000") or "T" in value
    return False  # numbers, date-times, uris, free objects: it depends on the value


def query_params(operation: dict[str, Any]) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]


def fill(path: str, value: Any) -> str:
    out = path
    while "{" in out:
        start = out.index("{")
        out = out[:start] + str(value) + out[out.index("}", start) + 1 :]
    return out


def rows_everywhere(world: World) -> None:
    """One row of every scoped model in tree A, by the scope matrix's factories (which
    build in ``world.b``: here given tree A in its place)."""
    from doorstep.accounts.tests.test_scope_matrix import OUTSIDE_ROW

    mirror = World(a=world.a, b=world.a, users=world.users)
    for factory in OUTSIDE_ROW.values():  # the matrix's own rows and every app's
        try:
            with transaction.atomic():
                factory(mirror)
        except Exception:  # noqa: S112 - a row another factory already made
            continue
    # A factory that failed for another reason would leave its model out of the fuzz
    # without a word (thirteen once did): every scoped model must have a row.
    empty = [m.__name__ for m in registered_models() if not m._default_manager.exists()]
    assert empty == [], f"no rows made for {empty}"


# A refusal may leave a record by design: the audit log, and the failed-login counts
# that lock a guessed account.
RECORDS_OF_REFUSALS = {"sessions", "axes"}


def counts() -> tuple[int, ...]:
    return tuple(
        model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in RECORDS_OF_REFUSALS
        and model._meta.label != "accounts.AuditEvent"
        and not model._meta.proxy
    )


def client_for(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(user)
    client.raise_request_exception = False
    return client


def clear_error(response: Any, label: str) -> None:
    assert response.status_code < 500, f"{label}: {response.status_code}"
    if response.status_code >= 400:
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        assert errors and errors[0].get("message"), f"{label}: {body!r}"


@pytest.fixture
def fuzz_world(world: World) -> World:
    rows_everywhere(world)
    return world


def users(world: World) -> list[tuple[str, Any]]:
    """Every role, the community's staff first (the widest rights in tree A), and an
    anonymous caller last."""
    roles = sorted(available_roles(), key=lambda role: role != Role.COMMUNITY_STAFF)
    return [(role, world.user(role)) for role in roles] + [("anonymous", None)]


def test_the_schema_lists_the_operations() -> None:
    ops = operations()
    assert len(ops) > 50
    assert any(m == "post" and p == "/api/v1/points/redemptions/" for m, p, _ in ops)
    intake = body_fields(next(o for m, p, o in ops if p == "/api/v1/appeals/" and m == "post"))
    assert "text" in intake and "category" in intake
    refund = body_fields(next(o for m, p, o in ops if p.endswith("/refund/")))
    assert not surely_refused(refund["reason"], -1)  # a number is fine text
    assert surely_refused(refund["reason"], "x" * 20_000)
    assert surely_refused(refund["reason"], None)


def test_ids_no_row_has_are_a_404_never_a_500(fuzz_world: World) -> None:
    """Every path with an id, for every role: an id of zero, past the database's
    integer range or of no row is an error in the API's format."""
    for role, user in users(fuzz_world):
        client = client_for(user) if user else APIClient(raise_request_exception=False)
        for method, path, _operation in operations():
            if "{" not in path:
                continue
            for pk in PATH_IDS:
                response = getattr(client, method)(fill(path, pk), {}, format="json")
                clear_error(response, f"{role} {method.upper()} {fill(path, pk)}")
                assert response.status_code >= 400, f"{role} {method} {fill(path, pk)}"


def test_garbage_in_every_query_parameter_is_never_a_500(fuzz_world: World) -> None:
    """Each poison value in every query parameter at once, by every role that may read
    the list at all."""
    for role, user in users(fuzz_world):
        client = client_for(user) if user else APIClient(raise_request_exception=False)
        for method, path, operation in operations():
            params = query_params(operation)
            if method != "get" or not params:
                continue
            url = fill(path, 1)
            if client.get(url).status_code >= 400:
                continue  # not this role's list: its refusal is checked elsewhere
            for value in QUERY_POISON:
                response = client.get(url, {name: value for name in params})
                clear_error(response, f"{role} GET {url} {value[:20]!r}")


def test_garbage_in_every_body_field_is_refused_and_changes_nothing(fuzz_world: World) -> None:
    """Each poison value in every field of the body at once (and a list and a string as
    the whole body), by the first roles admitted past the door: never a 500, an error in
    the API's format, a refusal wherever the schema itself rules the value out, and not
    a row changed anywhere by a series of refusals."""
    wrongly_accepted = []
    for method, path, operation in operations():
        fields = body_fields(operation)
        if method == "get" or not fields:
            continue
        url = fill(path, 1)
        admitted = 0
        for role, user in users(fuzz_world):
            if admitted == ROLES_PER_WRITE:
                break
            client = client_for(user) if user else APIClient(raise_request_exception=False)
            before = counts()
            probe = getattr(client, method)(url, {}, format="json")
            clear_error(probe, f"{role} {method.upper()} {url} {{}}")
            if probe.status_code in (401, 403, 404, 405):
                assert counts() == before, f"{role} {method.upper()} {url}: refused but wrote"
                continue
            admitted += 1
            wrote = probe.status_code < 400
            bodies: list[tuple[Any, bool]] = [([], True), ("x", True)]
            for value in POISON:
                body = {name: value for name in fields}
                bodies.append((body, any(surely_refused(f, value) for f in fields.values())))
            for body, must_refuse in bodies:
                response = getattr(client, method)(url, body, format="json")
                label = f"{role} {method.upper()} {url} {str(body)[:60]}"
                clear_error(response, label)
                if response.status_code < 400:
                    wrote = True
                    if must_refuse:
                        wrongly_accepted.append(label)
            if not wrote:
                assert counts() == before, f"{role} {method.upper()} {url}: refused but wrote"
    assert wrongly_accepted == [], "\n".join(wrongly_accepted)
