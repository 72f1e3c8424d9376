"""Kinds, channels, colors, states and the closed loop's transitions, as data.

``TRANSITIONS`` is the one place that says which action moves a case from which states
to which state and who may take it; the services read it and a test walks all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaseKind(models.TextChoices):
    PROBLEM = "problem", _("问题反映")
    COMPLAINT = "complaint", _("投诉")
    WISH = "wish", _("心愿")
    SUGGESTION = "suggestion", pgettext_lazy("singular", "金点子")
    DISPUTE = "dispute", _("矛盾纠纷")
    CONSULTATION = "consultation", _("咨询")


class Channel(models.TextChoices):
    ONLINE = "online", _("居民网上提交")
    VISIT = "visit", _("网格员走访代报")
    HOTLINE = "hotline", _("热线电话")
    SUGGESTION_BOX = "suggestion_box", _("意见箱")
    WECHAT_GROUP = "wechat_group", _("微信群")
    IMPORT = "import", _("批量导入")
    OPEN311 = "open311", _("Open311接口")


# Channels through which staff enter a case for a resident: the resident gets a receipt
# code instead of an account.
PROXY_CHANNELS = frozenset(
    {
        Channel.VISIT,
        Channel.HOTLINE,
        Channel.SUGGESTION_BOX,
        Channel.WECHAT_GROUP,
        Channel.IMPORT,
    }
)


class Color(models.TextChoices):
    GREEN = "green", _("绿色")
    YELLOW = "yellow", _("黄色")
    RED = "red", _("红色")


class Level(models.TextChoices):
    """Who is responsible: the grid, the community/village committees, or the party
    organization coordinating departments."""

    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区/村“两委”")
    PARTY_ORG = "party_org", _("村（社区）党组织")


LEVEL_ORDER = [Level.GRID, Level.COMMUNITY, Level.PARTY_ORG]
COLOR_ORDER = [Color.GREEN, Color.YELLOW, Color.RED]
LEVEL_OF_COLOR = {
    Color.GREEN: Level.GRID,
    Color.YELLOW: Level.COMMUNITY,
    Color.RED: Level.PARTY_ORG,
}


def color_above(color: str) -> str:
    """The next color up (green → yellow → red); red stays red."""
    index = COLOR_ORDER.index(Color(color))
    return COLOR_ORDER[min(index + 1, len(COLOR_ORDER) - 1)]


class CaseState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("已受理")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")
    ASSIGNED = "assigned", _("已交办")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已办结")
    RATED = "rated", _("已评价")
    CLOSED = "closed", _("已关闭")


# States in which the SLA clock runs and the case counts as open (Open311 "open").
OPEN_STATES = frozenset(
    {CaseState.SUBMITTED, CaseState.ACCEPTED, CaseState.ASSIGNED, CaseState.IN_PROGRESS}
)
FINAL_STATES = frozenset({CaseState.REJECTED, CaseState.MERGED, CaseState.CLOSED})


class Action(models.TextChoices):
    SUBMIT = "submit", _("提交")
    ACCEPT = "accept", _("受理")
    REJECT = "reject", _("不予受理")
    MERGE = "merge", _("合并")
    ASSIGN = "assign", _("交办")
    START = "start", _("开始办理")
    RESOLVE = "resolve", _("办结")
    RATE = "rate", _("评价")
    REOPEN = "reopen", _("重新办理")
    CLOSE = "close", _("关闭")
    EXPIRE = "expire", _("超期未评价关闭")
    # Events that change no state:
    ESCALATE = "escalate", _("超期升级")
    REMIND = "remind", _("到期提醒")
    CLASSIFY = "classify", _("月末分类")
    NOTE = "note", _("办理记录")
    TASK = "task", _("会办任务")


class Actor(models.TextChoices):
    """Who may take an action: the resident who reported the case, staff whose level
    covers the case's responsible level, or the system (sweeps)."""

    REPORTER = "reporter", _("报告人")
    HANDLER = "handler", _("承办人员")
    SYSTEM = "system", _("系统")


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    actors: frozenset[str]


def _t(action: str, sources: set[str], target: str, actors: set[str]) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(actors))


S = CaseState
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t(Action.ACCEPT, {S.SUBMITTED}, S.ACCEPTED, {Actor.HANDLER}),
        _t(Action.REJECT, {S.SUBMITTED}, S.REJECTED, {Actor.HANDLER}),
        _t(
            Action.MERGE,
            {S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS},
            S.MERGED,
            {Actor.HANDLER},
        ),
        _t(Action.ASSIGN, {S.ACCEPTED, S.ASSIGNED}, S.ASSIGNED, {Actor.HANDLER}),
        _t(Action.START, {S.ASSIGNED}, S.IN_PROGRESS, {Actor.HANDLER}),
        _t(Action.RESOLVE, {S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS}, S.RESOLVED, {Actor.HANDLER}),
        _t(Action.RATE, {S.RESOLVED}, S.RATED, {Actor.REPORTER}),
        # An unsatisfied rating sends the case back, one level up.
        _t(Action.REOPEN, {S.RATED}, S.ACCEPTED, {Actor.SYSTEM}),
        _t(Action.CLOSE, {S.RATED}, S.CLOSED, {Actor.SYSTEM, Actor.HANDLER}),
        # Nobody rated it within the configured days.
        _t(Action.EXPIRE, {S.RESOLVED}, S.CLOSED, {Actor.SYSTEM}),
    ]
}
del S

# Ratings at or below this reopen the case.
UNSATISFIED_AT_MOST = 2
# A rating of 4 or 5 counts as satisfied in the figures (满意率); a 3 closes the case
# without counting as satisfied.
SATISFIED_AT_LEAST = 4


class TaskState(models.TextChoices):
    OPEN = "open", _("待答复")
    REPLIED = "replied", _("已答复")


class ClaimantKind(models.TextChoices):
    PARTY_MEMBER = "party_member", pgettext_lazy("singular", "党员")
    VOLUNTEER = "volunteer", _("志愿者")
    PARTNER = "partner", _("社区合伙人")


class MediationOutcome(models.TextChoices):
    PENDING = "pending", _("调解中")
    AGREEMENT = "agreement", _("达成协议")
    NO_AGREEMENT = "no_agreement", _("未达成协议")


class CategoryChangeAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", pgettext_lazy("change history", "修改")
    DEACTIVATE = "deactivate", pgettext_lazy("change history", "停用")
    ACTIVATE = "activate", _("启用")


class PhotoKind(models.TextChoices):
    REPORT = "report", _("反映问题")
    RESULT = "result", _("办理结果")


class NotificationKind(models.TextChoices):
    """What an in-app notification says; its words are rendered when it is read, in the
    reader's language (``notify.render``). Rows from before kinds existed have none."""

    RECEIVED = "received", _("诉求已收到")
    NEW_CASE = "new_case", _("新诉求")
    CHANGED = "changed", _("状态变化")
    REMINDER = "reminder", _("到期提醒")
    TASK = "task", _("会办任务")
