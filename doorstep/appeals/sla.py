"""The SLA sweep: reminders before a deadline, escalation after it (green → yellow →
red), and closing resolved cases nobody rated.

Deadlines come from event times (the clock starts at intake, and again at each
escalation at the deadline it missed), so a sweep after downtime escalates a long
overdue green case twice in one run, with each step dated when it became due. Two
sweeps at once never escalate a case twice: each change is an UPDATE conditional on the
case's version, and on PostgreSQL each batch is locked with SKIP LOCKED so that two
workers share the work instead of queueing on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from doorstep.core import timeutils

from .choices import OPEN_STATES, CaseState, Color
from .conf import conf, remind_before
from .models import Case
from .services import case_escalate, case_expire_unrated, case_remind

BATCH = 500


@dataclass
class SweepResult:
    escalated: int = 0
    reminded: int = 0
    expired: int = 0


def _batches(base: QuerySet[Case], handle: Callable[[Case], None]) -> None:
    last = 0
    while True:
        with transaction.atomic():
            qs = base.filter(pk__gt=last).select_related("category", "community").order_by("pk")
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            rows = list(qs[:BATCH])
            for case in rows:
                handle(case)
        if len(rows) < BATCH:
            return
        last = rows[-1].pk


def sla_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    moment = now or timeutils.now()
    result = SweepResult()
    open_states = sorted(OPEN_STATES)

    def escalate(case: Case) -> None:
        while case.deadline is not None and case.deadline <= moment and case.color != Color.RED:
            if not case_escalate(case=case, at=case.deadline):
                return
            result.escalated += 1

    _batches(
        Case.objects.filter(
            state__in=open_states, deadline__lte=moment, color__in=[Color.GREEN, Color.YELLOW]
        ),
        escalate,
    )

    def remind(case: Case) -> None:
        if case_remind(case=case, at=moment):
            result.reminded += 1

    for color in Color.values:
        due = Q(deadline__lte=moment + remind_before(color))
        _batches(
            Case.objects.filter(due, state__in=open_states, color=color).filter(
                Q(reminded_deadline__isnull=True) | ~Q(reminded_deadline=F("deadline"))
            ),
            remind,
        )

    def expire(case: Case) -> None:
        if case_expire_unrated(case=case, at=moment):
            result.expired += 1

    cutoff = moment - dt.timedelta(days=conf("AUTO_CLOSE_DAYS"))
    _batches(Case.objects.filter(state=CaseState.RESOLVED, resolved_at__lte=cutoff), expire)
    return result
