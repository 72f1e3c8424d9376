"""Notifications are put in words when they are read, in the reader's language: the
page follows the request's language, the digest the recipient's chosen one; the stored
text (and what the outside channels get) stays Chinese, and rows from before kinds
existed show their stored text."""

from __future__ import annotations

import html
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.accounts.services import user_set_preferences
from doorstep.appeals import notify
from doorstep.appeals.choices import Action, NotificationKind
from doorstep.appeals.models import Case, Notification
from doorstep.appeals.services import case_follow
from doorstep.conftest import World, make_user

from .factories import step, submit

pytestmark = pytest.mark.django_db

SENT: list[tuple[int, str]] = []


class RecordingChannel:
    def send(self, *, user_id: int, text: str, case: Any) -> None:
        SENT.append((user_id, text))


@pytest.fixture
def channels(settings: Any) -> Any:
    SENT.clear()
    settings.DOORSTEP_APPEALS = {
        "NOTIFY_CHANNELS": ["doorstep.appeals.tests.test_notify_language.RecordingChannel"]
    }
    notify.reset_channels()
    yield
    notify.reset_channels()


def _rated_and_closed(world: World, follower: User) -> Case:
    """A case reported by the (Chinese-speaking) resident, followed by ``follower``,
    handled by the grid member and rated satisfied, which closes it."""
    resident, member = world.user(Role.RESIDENT), world.user(Role.GRID_MEMBER)
    case = submit(world)
    case_follow(actor=follower, case=case)
    step(case, member, Action.ACCEPT)
    step(case, member, Action.RESOLVE, result="杂物已清理")
    return step(case, resident, Action.RATE, score=5)


def _page(user: User, *, cookie: str = "", **headers: Any) -> str:
    """The notifications page, unescaped; ``cookie`` is the language switch's choice."""
    client = Client()
    client.force_login(user)
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get(reverse("appeals:notifications"), **headers)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_follower_reads_the_change_in_english_and_in_chinese(world: World) -> None:
    neighbour = make_user("neighbour", Role.RESIDENT)
    case = _rated_and_closed(world, neighbour)
    code = case.receipt_code
    english = f'Appeal {code}: Rate; now "Closed".'
    chinese = f"诉求 {code}：评价，当前状态“已关闭”。"

    row = Notification.objects.filter(user=neighbour).latest("id")
    assert row.kind == NotificationKind.CHANGED
    assert row.params == {"code": code, "action": "rate", "state": "closed"}
    assert row.text == chinese

    page = _page(neighbour, HTTP_ACCEPT_LANGUAGE="en")
    assert english in page
    assert f'Appeal {code}: Accept; now "Accepted".' in page
    assert chinese not in page and "当前状态" not in page

    in_chinese = _page(neighbour, cookie="zh-hans", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese in in_chinese and english not in in_chinese


def test_a_change_made_in_english_is_stored_and_sent_in_chinese(
    world: World, channels: Any
) -> None:
    """The stored text and the outside channels do not follow whoever made the change."""
    member = world.user(Role.GRID_MEMBER)
    case = submit(world)
    SENT.clear()
    with translation.override("en"):
        step(case, member, Action.ACCEPT)
    chinese = f"诉求 {case.receipt_code}：受理，当前状态“已受理”。"
    reporter = world.user(Role.RESIDENT)
    assert Notification.objects.filter(user=reporter).latest("id").text == chinese
    assert list(SENT) == [(reporter.pk, chinese)]


def test_intake_rows_say_what_they_are(world: World) -> None:
    case = submit(world)
    rows = {n.user_id: n for n in Notification.objects.filter(case=case)}
    reporter, member = world.user(Role.RESIDENT), world.user(Role.GRID_MEMBER)
    assert rows[reporter.pk].kind == NotificationKind.RECEIVED
    assert rows[member.pk].kind == NotificationKind.NEW_CASE
    assert rows[member.pk].params == {"code": case.receipt_code}
    with translation.override("en"):
        assert rows[reporter.pk].display_text() == (
            f"Your appeal has been received; receipt code {case.receipt_code}."
        )
        assert (
            rows[member.pk].display_text() == f"New appeal {case.receipt_code} awaits acceptance."
        )
    assert rows[member.pk].display_text() == f"新诉求 {case.receipt_code} 待受理。"


def test_a_legacy_row_shows_its_stored_text_in_every_language(world: World) -> None:
    neighbour = make_user("neighbour", Role.RESIDENT)
    Notification.objects.create(user=neighbour, text="诉求 X：办结，当前状态“已办结”。")
    for headers in ({"HTTP_ACCEPT_LANGUAGE": "en"}, {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}):
        assert "诉求 X：办结，当前状态“已办结”。" in _page(neighbour, **headers)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("", {"code": "X"}),  # a row from before kinds
        ("gone", {"code": "X"}),  # a kind this code no longer knows
        (NotificationKind.CHANGED, {"code": "X", "action": "rate"}),  # a value missing
        (NotificationKind.CHANGED, {"code": "X", "action": "rate", "state": "lost"}),
        (NotificationKind.CHANGED, {"code": "X", "action": ["rate"], "state": "closed"}),
        (NotificationKind.RECEIVED, {}),
        (NotificationKind.RECEIVED, ["X"]),
    ],
)
def test_what_cannot_be_put_in_words_falls_back_to_the_stored_text(kind: str, params: Any) -> None:
    with translation.override("en"):
        assert notify.render(kind, params, "原文") == "原文"


def test_the_digest_is_in_each_recipients_language(world: World, channels: Any) -> None:
    member, leader = world.user(Role.GRID_MEMBER), world.user(Role.GRID_LEADER)
    user_set_preferences(user=member, language="en")
    first, second = submit(world), submit(world)
    assert notify.daily_digest_lines(member) == [
        f"New appeal {second.receipt_code} awaits acceptance.",
        f"New appeal {first.receipt_code} awaits acceptance.",
    ]
    assert notify.daily_digest_lines(leader) == [
        f"新诉求 {second.receipt_code} 待受理。",
        f"新诉求 {first.receipt_code} 待受理。",
    ]
    SENT.clear()
    call_command("appeals_digest", stdout=StringIO())
    sent = dict(SENT)
    assert sent[member.pk] == (
        f"Today's appeal notifications (2): New appeal {second.receipt_code} awaits "
        f"acceptance.; New appeal {first.receipt_code} awaits acceptance."
    )
    assert sent[leader.pk] == (
        f"今日诉求提醒 2 条：新诉求 {second.receipt_code} 待受理。；"
        f"新诉求 {first.receipt_code} 待受理。"
    )
    # The command leaves the thread in the language it found.
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_an_unknown_chosen_language_reads_chinese(world: World) -> None:
    member = world.user(Role.GRID_MEMBER)
    user_set_preferences(user=member, language="fr")
    case = submit(world)
    assert notify.daily_digest_lines(member) == [f"新诉求 {case.receipt_code} 待受理。"]
