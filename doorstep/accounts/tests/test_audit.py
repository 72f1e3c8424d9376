import importlib

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AppendOnlyError, AuditAction, AuditEvent, AuditOutcome
from doorstep.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

triggers = importlib.import_module("doorstep.accounts.migrations.0002_audit_append_only_triggers")


def test_model_refuses_update_and_delete() -> None:
    event = audit_record(action=AuditAction.LOGIN, username="someone")
    event.action = AuditAction.LOGOUT
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.LOGIN


def test_database_triggers_refuse_update_and_delete() -> None:
    """The statements of migration 0002, installed here inside the test transaction,
    refuse even a raw UPDATE or DELETE."""
    event = audit_record(action=AuditAction.LOGIN, username="someone")
    statements = {"sqlite": triggers.SQLITE, "postgresql": triggers.POSTGRES}[connection.vendor]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    for sql in (
        "UPDATE accounts_auditevent SET action = 'logout'",
        "DELETE FROM accounts_auditevent",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.LOGIN


def test_login_success_failure_and_logout_are_audited_without_passwords() -> None:
    make_user("wang", "resident")
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.post("/accounts/login/", {"username": "wang", "password": "wrong-Password-1"})
    client.post("/accounts/login/", {"username": "wang", "password": PASSWORD})
    client.post("/accounts/logout/")
    events = list(
        AuditEvent.objects.filter(
            action__in=[AuditAction.LOGIN, AuditAction.LOGIN_FAILED, AuditAction.LOGOUT]
        )
        .order_by("id")
        .values_list("action", "outcome", "actor_username", "ip")
    )
    assert events == [
        (AuditAction.LOGIN_FAILED, AuditOutcome.FAILURE, "wang", "10.1.2.3"),
        (AuditAction.LOGIN, AuditOutcome.SUCCESS, "wang", "10.1.2.3"),
        (AuditAction.LOGOUT, AuditOutcome.SUCCESS, "wang", "10.1.2.3"),
    ]
    dump = str(list(AuditEvent.objects.values()))
    assert PASSWORD not in dump and "wrong-Password-1" not in dump


def test_detail_is_redacted_as_a_backstop() -> None:
    event = audit_record(
        action=AuditAction.EXPORT, username="x", detail={"q": "51050219800101123X"}
    )
    assert event.detail == {"q": "510502********123X"}


def test_trusted_proxy_address_is_recorded(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("li", "resident")
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.9.8.7")
    client.post("/accounts/login/", {"username": "li", "password": PASSWORD})
    assert AuditEvent.objects.get(action=AuditAction.LOGIN).ip == "10.9.8.7"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_audit_log_days_past_the_calendar_filter_nothing(day: str) -> None:
    """The calendar's last day has no next day, and midnight of its first in Shanghai no
    UTC instant: as a bound of the audit log, such a day is no bound."""
    from django.test import Client

    from doorstep.conftest import make_user

    client = Client()
    client.force_login(make_user("auditor", "auditor"))
    for query in (f"since={day}", f"until={day}"):
        assert client.get(f"/console/audit/?{query}").status_code == 200
        assert client.get(f"/console/audit/export.csv?{query}").status_code == 200


def _events_about_two_people() -> tuple[Client, AuditEvent]:
    auditor = make_user("auditor", "auditor")
    clerk = make_user("clerk")
    reveal = audit_record(
        action=AuditAction.REVEAL,
        actor=clerk,
        object_type="people.person",
        object_id=41,
        detail={"field": "id_number"},
    )
    audit_record(
        action=AuditAction.EXPORT,
        actor=clerk,
        object_type="people.person",
        object_id=42,
        detail={"rows": 3, "filters": {"tag": "veteran"}},
    )
    audit_record(action=AuditAction.LOGIN, actor=clerk, username="clerk")
    client = Client()
    client.force_login(auditor)
    return client, reveal


def test_audit_log_shows_each_events_detail() -> None:
    client, _reveal = _events_about_two_people()
    html = client.get("/console/audit/").content.decode()
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert '<span class="muted">field</span> id_number' in rows
    assert '<span class="muted">filters</span> {&quot;tag&quot;: &quot;veteran&quot;}' in rows
    assert '<span class="muted">rows</span> 3' in rows


def test_audit_log_narrows_to_one_object_from_its_row() -> None:
    """Who revealed this person's ID number: a row's object links to every event on it."""
    client, _reveal = _events_about_two_people()
    html = client.get("/console/audit/").content.decode()
    link = "?object_type=people.person&amp;object_id=41"
    assert f'<a href="{link}"' in html
    page = client.get("/console/audit/", {"object_type": "people.person", "object_id": "41"})
    rows = page.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert page.status_code == 200
    assert rows.count("<tr") == 1 and "id_number" in rows and "rows" not in rows
    assert 'name="object_id" value="41"' in page.content.decode()  # kept by the filters
    export = client.get(
        "/console/audit/export.csv", {"object_type": "people.person", "object_id": "41"}
    )
    body = b"".join(export.streaming_content)  # type: ignore[attr-defined]
    csv_rows = body.decode("utf-8-sig").splitlines()
    assert len(csv_rows) == 2 and '"{""field"": ""id_number""}"' in csv_rows[1]
    assert csv_rows[1].split(",")[:3][2] == AuditAction.REVEAL


@pytest.mark.parametrize("object_type", ["people", "x'; drop", "people.person.x", "P.Q"])
def test_audit_log_ignores_a_malformed_object_type(object_type: str) -> None:
    client, _reveal = _events_about_two_people()

    def rows(query: dict[str, str]) -> int:
        page = client.get("/console/audit/", query)
        assert page.status_code == 200
        return page.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr")

    assert rows({"object_type": object_type, "object_id": "41"}) == rows({}) > 3
