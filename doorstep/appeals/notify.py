"""Notifications: an in-app row per recipient, and the same message through pluggable
channels (SMS, WeChat template messages). The default channel only writes a log line;
a deployment names its channels in ``DOORSTEP_APPEALS["NOTIFY_CHANNELS"]``.

An in-app row keeps what it says (a kind and its values as codes) besides its Chinese
words, and is put in words when it is read, in the reader's language (``render``). The
outside channels get the Chinese words: they send at once, and looking up each
recipient's language would add a query to every event, the intake's included."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop, override

from doorstep.accounts.models import RoleAssignment
from doorstep.accounts.roles import Role

from .choices import Action, CaseState, Level, NotificationKind
from .conf import conf
from .models import Case, Follow, JointTask, Notification

logger = logging.getLogger("doorstep.appeals.notify")

# The language of the stored text, of the outside channels and of a digest for a user
# who chose none: the catalogs' source language.
STORED_LANGUAGE = "zh-hans"

# Each kind's sentence (its msgid, translated when shown) and, for each value that is a
# code, the choices whose label stands for it in the sentence.
SENTENCES: dict[str, tuple[str, dict[str, type[models.TextChoices]]]] = {
    NotificationKind.RECEIVED: (gettext_noop("您的诉求已收到，回执码 %(code)s。"), {}),
    NotificationKind.NEW_CASE: (gettext_noop("新诉求 %(code)s 待受理。"), {}),
    NotificationKind.CHANGED: (
        gettext_noop("诉求 %(code)s：%(action)s，当前状态“%(state)s”。"),
        {"action": Action, "state": CaseState},
    ),
    NotificationKind.REMINDER: (gettext_noop("诉求 %(code)s 即将到期，请及时办理。"), {}),
    NotificationKind.TASK: (gettext_noop("新的会办任务：诉求 %(code)s。"), {}),
}


def render(kind: str, params: Any, fallback: str) -> str:
    """A notification in the active language: its kind's sentence translated now, with
    action and state labels looked up by their codes. A row without a kind (made before
    kinds existed) or whose values do not fit its sentence shows ``fallback``, its
    stored text."""
    sentence = SENTENCES.get(kind)
    if sentence is None or not isinstance(params, dict):
        return fallback
    template, coded = sentence
    try:
        values = dict(params)
        for name, choices in coded.items():
            values[name] = choices(params[name]).label
        return gettext(template) % values
    except (KeyError, ValueError, TypeError):
        return fallback


def stored_text(kind: str, params: dict[str, Any]) -> str:
    """The words kept on the row and sent through the outside channels: Chinese, whoever
    triggered the event."""
    with override(STORED_LANGUAGE):
        return render(kind, params, "")[:300]


def language_of(user: Any) -> str:
    """The language a user chose for the interface, if it is one the site speaks."""
    chosen = getattr(user, "preferred_language", "") or ""
    return chosen if chosen in dict(settings.LANGUAGES) else STORED_LANGUAGE


class Channel(Protocol):
    def send(self, *, user_id: int, text: str, case: Case | None) -> None: ...


class LoggingChannel:
    """Writes one log line per message: its recipients, its case and its length, never
    its text. The text carries receipt codes (with the phone's last four digits they
    rate a case), results and whatever staff wrote about residents; it is kept in the
    in-app notifications, which only their recipients read, not in the server's log."""

    def send(self, *, user_id: int, text: str, case: Case | None) -> None:
        self.send_many(user_ids=[user_id], text=text, case=case)

    def send_many(self, *, user_ids: list[int], text: str, case: Case | None) -> None:
        logger.info(
            "notify users=%s case=%s chars=%d", user_ids, getattr(case, "pk", None), len(text)
        )


class SmsChannel:
    """Sends through a gateway callable named in ``DOORSTEP_APPEALS["SMS_GATEWAY"]``
    (``gateway(user_id=…, text=…)``), which looks up the number and sends."""

    def send(self, *, user_id: int, text: str, case: Case | None) -> None:
        import_string(conf_optional("SMS_GATEWAY"))(user_id=user_id, text=text)


class WechatTemplateChannel:
    """Sends a WeChat template message through ``DOORSTEP_APPEALS["WECHAT_GATEWAY"]``
    (``gateway(user_id=…, template=…, data=…)``)."""

    def send(self, *, user_id: int, text: str, case: Case | None) -> None:
        import_string(conf_optional("WECHAT_GATEWAY"))(
            user_id=user_id,
            template="appeal_update",
            data={"text": text, "receipt": getattr(case, "receipt_code", "")},
        )


def conf_optional(key: str) -> str:
    from django.conf import settings

    value = getattr(settings, "DOORSTEP_APPEALS", {}).get(key)
    if not value:
        raise RuntimeError(f"DOORSTEP_APPEALS[{key!r}] is not configured")
    return str(value)


@lru_cache(maxsize=1)
def _channels() -> tuple[Channel, ...]:
    return tuple(import_string(path)() for path in conf("NOTIFY_CHANNELS"))


def reset_channels() -> None:
    _channels.cache_clear()


def send(
    user_ids: Iterable[int], kind: str, params: dict[str, Any], case: Case | None = None
) -> int:
    """An in-app notification for each user, and its Chinese words through every
    channel."""
    ids = sorted({u for u in user_ids if u})
    text = stored_text(kind, params)
    Notification.objects.bulk_create(
        [Notification(user_id=u, case=case, kind=kind, params=params, text=text) for u in ids]
    )
    deliver(ids, text, case)
    return len(ids)


def deliver(ids: Iterable[int], text: str, case: Case | None = None) -> None:
    """Through the channels only (a digest is not itself an in-app notification). A
    channel that can send to many recipients at once gets them in one call.

    ``text`` is sent as given: the events' Chinese words (``stored_text``), whatever the
    recipients' language; only the digest is put in its reader's language."""
    recipients = list(ids)
    if not recipients:
        return
    for channel in _channels():
        try:
            many = getattr(channel, "send_many", None)
            if many is not None:
                many(user_ids=recipients, text=text, case=case)
            else:
                for user_id in recipients:
                    channel.send(user_id=user_id, text=text, case=case)
        except Exception:  # a failing gateway must not undo the case change
            logger.exception("notification channel %s failed", type(channel).__name__)


def responsible_user_ids(case: Case) -> set[int]:
    """Staff responsible at the case's level: its grid's members and leader, the
    community's staff, or the party organization's secretary."""
    q = Q(pk__in=[])
    if case.level == Level.GRID and case.grid_id:
        q = Q(
            role__in=[Role.GRID_MEMBER, Role.GRID_LEADER], scope_kind="grid", scope_id=case.grid_id
        )
    elif case.level == Level.COMMUNITY:
        q = Q(role=Role.COMMUNITY_STAFF, scope_kind="unit", scope_id=case.community_id)
    elif case.level == Level.PARTY_ORG and case.party_org_id:
        q = Q(role=Role.PARTY_SECRETARY, scope_kind="party_org", scope_id=case.party_org_id)
    if case.assignee_id:
        return {case.assignee_id}
    return set(
        RoleAssignment.objects.filter(q, revoked_at__isnull=True).values_list("user_id", flat=True)
    )


def followers_of(case: Case) -> set[int]:
    """Everyone following the case: its reporter, and whoever chose to follow it."""
    ids = set(Follow.objects.filter(case=case).values_list("user_id", flat=True))
    if case.reporter_user_id:
        ids.add(case.reporter_user_id)
    return ids


def case_received(
    case: Case, *, followers: set[int] | None = None, staff: set[int] | None = None
) -> None:
    """The reporter (a new case's only follower) and the staff responsible are told;
    both sets of in-app rows in one insert. ``staff`` may be worked out beforehand."""
    told = followers if followers is not None else followers_of(case)
    params = {"code": case.receipt_code}
    receipt = stored_text(NotificationKind.RECEIVED, params)
    new = stored_text(NotificationKind.NEW_CASE, params)
    staff = (staff if staff is not None else responsible_user_ids(case)) - told
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=u, case=case, kind=NotificationKind.RECEIVED, params=params, text=receipt
            )
            for u in sorted(told)
        ]
        + [
            Notification(
                user_id=u, case=case, kind=NotificationKind.NEW_CASE, params=params, text=new
            )
            for u in sorted(staff)
        ]
    )
    deliver(sorted(told), receipt, case)
    deliver(sorted(staff), new, case)


def case_changed(case: Case, action: str) -> None:
    params = {"code": case.receipt_code, "action": str(action), "state": str(case.state)}
    send(followers_of(case), NotificationKind.CHANGED, params, case)
    if action in (Action.ESCALATE, Action.RATE, Action.ASSIGN):
        send(responsible_user_ids(case), NotificationKind.CHANGED, params, case)


def case_reminder(case: Case) -> None:
    send(
        responsible_user_ids(case),
        NotificationKind.REMINDER,
        {"code": case.receipt_code},
        case,
    )


def task_assigned(task: JointTask) -> None:
    ids = RoleAssignment.objects.filter(
        role=Role.DEPARTMENT_STAFF,
        scope_kind="department",
        scope_id=task.department_id,
        revoked_at__isnull=True,
    ).values_list("user_id", flat=True)
    send(ids, NotificationKind.TASK, {"code": task.case.receipt_code}, task.case)


def daily_digest_lines(user: Any) -> list[str]:
    """Today's digest for a staff member: unread notifications, newest first, in the
    language the user chose (Chinese if none)."""
    rows = (
        Notification.objects.filter(user=user, read_at__isnull=True)
        .order_by("-id")
        .values_list("kind", "params", "text")[:50]
    )
    with override(language_of(user)):
        return [render(kind, params, text) for kind, params, text in rows]
