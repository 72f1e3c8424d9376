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
