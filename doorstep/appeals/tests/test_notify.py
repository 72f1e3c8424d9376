"""Notifications: in-app rows, pluggable channels, the staff digest."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from doorstep.accounts.roles import Role
from doorstep.appeals import notify
from doorstep.appeals.choices import Action
from doorstep.appeals.models import Notification
from doorstep.conftest import World

from .factories import step, submit

pytestmark = pytest.mark.django_db

SENT: list[tuple[int, str]] = []


class RecordingChannel:
    def send(self, *, user_id: int, text: str, case: Any) -> None:
        SENT.append((user_id, text))


class BrokenChannel:
    def send(self, *, user_id: int, text: str, case: Any) -> None:
        raise ConnectionError("gateway down")


@pytest.fixture
def channels(settings: Any) -> Any:
    SENT.clear()
    settings.DOORSTEP_APPEALS = {
        "NOTIFY_CHANNELS": [
            "doorstep.appeals.tests.test_notify.BrokenChannel",
            "doorstep.appeals.tests.test_notify.RecordingChannel",
        ]
    }
    notify.reset_channels()
    yield
    notify.reset_channels()


def test_reporter_and_grid_staff_are_told(world: World, channels: Any) -> None:
    resident, member = world.user(Role.RESIDENT), world.user(Role.GRID_MEMBER)
    case = submit(world)
    assert Notification.objects.filter(
        user=resident, case=case, text__contains=case.receipt_code
    ).exists()
    assert Notification.objects.filter(user=member, text__contains="待受理").exists()
    step(case, member, Action.ACCEPT)
    assert Notification.objects.filter(user=resident, text__contains="受理").count() >= 1
    # A failing gateway neither blocks the others nor undoes the change.
    assert (resident.pk, f"您的诉求已收到，回执码 {case.receipt_code}。") in SENT


def test_daily_digest_for_staff(world: World, channels: Any) -> None:
    submit(world)
    SENT.clear()
    out = StringIO()
    call_command("appeals_digest", stdout=out)
    member = world.user(Role.GRID_MEMBER)
    assert any(user_id == member.pk and "今日诉求提醒" in text for user_id, text in SENT)
    assert all(user_id != world.user(Role.RESIDENT).pk for user_id, _t in SENT)
    assert "digests sent" in out.getvalue()


def test_default_channel_logs_who_was_told_but_not_what(world: World, caplog: Any) -> None:
    notify.reset_channels()
    with caplog.at_level("INFO", logger="doorstep.appeals.notify"):
        case = submit(world)
    assert f"notify users=[{world.user(Role.RESIDENT).pk}] case={case.pk} chars=" in caplog.text
    # The receipt code (a key to rate the case) and the message stay out of the log.
    assert case.receipt_code not in caplog.text and "回执码" not in caplog.text
