"""Lockout by username, staff idle timeout, logout on the server, password policy."""

import datetime as dt
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client
from django.utils import timezone

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.passwords import ProfileValidator, password_expired
from doorstep.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_five_failures_lock_the_username_for_fifteen_minutes_from_any_address() -> None:
    make_user("zhang", "resident")
    for i in range(5):
        # Each failure from a different address: the lock follows the username, and
        # the fifth failure is answered with the lockout.
        response = _login(Client(REMOTE_ADDR=f"10.0.0.{i + 1}"), "zhang", "Wrong-pass-1")
        assert response.status_code == (429 if i == 4 else 200)
    locked = _login(Client(REMOTE_ADDR="10.0.0.99"), "zhang", PASSWORD)
    assert locked.status_code == 429
    assert "锁定15分钟" in locked.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditAction.LOGIN_LOCKED, actor_username="zhang"
    ).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()

    _age_attempts(dt.timedelta(minutes=16))
    assert _login(Client(), "zhang", PASSWORD).status_code == 302


def _age_attempts(by: dt.timedelta) -> None:
    """Let time pass for the lockout records (the lockout is computed from them)."""
    from axes.models import AccessAttempt, AccessAttemptExpiration

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)
    AccessAttemptExpiration.objects.update(expires_at=F("expires_at") - by)


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock() -> None:
    make_user("zhao", "resident")
    for _ in range(4):
        _login(Client(), "zhao", "Wrong-pass-1")
    _age_attempts(dt.timedelta(minutes=16))  # those four are now older than the window
    assert _login(Client(), "zhao", "Wrong-pass-1").status_code == 200
    assert _login(Client(), "zhao", PASSWORD).status_code == 302


def test_other_usernames_are_not_locked() -> None:
    make_user("a1", "resident")
    make_user("a2", "resident")
    for _ in range(5):
        _login(Client(), "a1", "Wrong-pass-1")
    assert _login(Client(), "a2", PASSWORD).status_code == 302


def test_staff_session_expires_after_thirty_idle_minutes() -> None:
    make_user("staff1", "system_admin")
    client = Client()
    assert _login(client, "staff1", PASSWORD).status_code == 302
    assert client.get("/console/").status_code == 200
    later = timezone.now() + dt.timedelta(minutes=31)
    with mock.patch("time.time", return_value=later.timestamp()):
        response = client.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(
        action=AuditAction.SESSION_EXPIRED, actor_username="staff1"
    ).exists()
    assert client.get("/console/").status_code == 302  # still logged out


def test_staff_activity_within_thirty_minutes_keeps_the_session() -> None:
    make_user("staff2", "system_admin")
    client = Client()
    _login(client, "staff2", PASSWORD)
    now = timezone.now()
    for minutes in (20, 40, 60):
        with mock.patch(
            "time.time", return_value=(now + dt.timedelta(minutes=minutes)).timestamp()
        ):
            assert client.get("/console/").status_code == 200


def test_resident_session_does_not_idle_out() -> None:
    make_user("res", "resident")
    client = Client()
    _login(client, "res", PASSWORD)
    later = timezone.now() + dt.timedelta(hours=5)
    with mock.patch("time.time", return_value=later.timestamp()):
        response = client.get("/")
    assert response.wsgi_request.user.is_authenticated


def test_logout_ends_the_session_on_the_server() -> None:
    make_user("out", "resident")
    client = Client()
    _login(client, "out", PASSWORD)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()


@pytest.mark.parametrize(
    "password,ok",
    [
        ("short1A", False),
        ("alllowercase", False),
        ("lowerUPPER", False),
        ("lower1UPPER", True),
        ("lower1-x", True),
    ],
)
def test_mlps_profile(settings, password: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_PROFILE = "mlps"
    if ok:
        ProfileValidator().validate(password)
    else:
        with pytest.raises(ValidationError):
            ProfileValidator().validate(password)


def test_asvs_profile_needs_length_not_composition(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_PROFILE = "asvs"
    ProfileValidator().validate("correct horse battery")
    with pytest.raises(ValidationError, match="12"):
        ProfileValidator().validate("Sh0rt-Pass!")


def test_expired_password_must_be_changed_first(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_PROFILE = "mlps"
    user = make_user("old", "resident")
    type(user).objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=91)
    )
    user.refresh_from_db()
    assert password_expired(user)
    client = Client()
    _login(client, "old", PASSWORD)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "New-Secure-2027",
            "new_password2": "New-Secure-2027",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(
        action=AuditAction.PASSWORD_CHANGED, actor_username="old"
    ).exists()


def test_asvs_profile_never_expires(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_PROFILE = "asvs"
    user = make_user("older", "resident")
    user.password_changed_at = timezone.now() - dt.timedelta(days=900)
    assert not password_expired(user)


def test_a_username_longer_than_any_account_is_refused_before_it_is_looked_up() -> None:
    """Django's login form sizes the input to the username column but does not check
    it: a longer name reached the lockout record (a column of 255) and failed there on
    PostgreSQL. It is refused as a field error, and no attempt is recorded."""
    from axes.models import AccessAttempt

    response = _login(Client(), "x" * 5_000, "Wrong-pass-1")
    assert response.status_code == 200
    error = '<span class="error" id="id_username-error" role="alert">'
    assert error + "确保该变量包含不超过 150 字符 (目前字符数 5000)。" in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).exists()
