"""What waits in appeals, for the home pages (``core.todo``). For staff: the grid's open
cases and the overdue among them, wishes noted on visits and not yet cases, cases to
accept and overdue cases for those who triage, and open joint tasks for a department.
For a resident: their resolved cases waiting for their rating, their cases still being
handled, and unread messages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import grants, scoped
from doorstep.core.todo import Todo, counted

from . import selectors
from .choices import OPEN_STATES, CaseState, TaskState
from .models import Case
from .rules import GRID_ROLES, TRIAGE_ROLES, department_ids


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    roles = {grant.role for grant in grants(user)}
    items: list[Todo] = []
    if roles & set(GRID_ROLES):
        queue = selectors.grid_queue(actor=user)
        url = reverse("appeals:queue")
        items += [
            counted(_("网格待办诉求"), queue, url, weight=10),
            counted(_("其中已超期"), queue.filter(deadline__lt=now), url, urgent=True, weight=11),
            counted(_("走访记下、尚未立案的心愿"), selectors.wishes_waiting(actor=user), url,
                    weight=12),
        ]  # fmt: skip
    if roles & TRIAGE_ROLES:
        submitted = scoped(user, Case).filter(state=CaseState.SUBMITTED)
        items += [
            counted(_("待受理的诉求"), submitted,
                    reverse("appeals:triage") + "?state=" + CaseState.SUBMITTED, weight=20),
            counted(_("超期未办结的诉求"), selectors.overdue_cases(actor=user, now=now),
                    reverse("appeals:overdue"), urgent=True, weight=21),
        ]  # fmt: skip
    if department_ids(user):
        tasks = selectors.department_tasks(actor=user, state=TaskState.OPEN)
        url = reverse("appeals:joint") + "?state=" + TaskState.OPEN
        items += [
            counted(_("待答复的会办任务"), tasks, url, weight=30),
            counted(_("其中已过答复期限"), tasks.filter(deadline__lt=now), url, urgent=True,
                    weight=31),
        ]  # fmt: skip
    return items


def mine(user: Any, now: dt.datetime) -> list[Todo]:
    # The cases the user reported, read through the checkpoint (a resident's rule: own).
    reported = scoped(user, Case).filter(reporter_user_id=user.pk)
    to_rate = reported.filter(state=CaseState.RESOLVED).order_by("-id")
    # One case to rate opens it; several open the list.
    first_two = list(to_rate.values_list("pk", flat=True)[:2])
    rate_url = (
        reverse("appeals:case", args=[first_two[0]])
        if len(first_two) == 1
        else reverse("appeals:my-cases")
    )
    return [
        counted(_("已办结、待您评价的诉求"), to_rate, rate_url, urgent=True, weight=10),
        counted(_("正在办理的诉求"), reported.filter(state__in=sorted(OPEN_STATES)),
                reverse("appeals:my-cases"), weight=11),
        counted(_("未读消息"), selectors.my_notifications(actor=user).filter(read_at__isnull=True),
                reverse("appeals:notifications"), weight=12),
    ]  # fmt: skip
