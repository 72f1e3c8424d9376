# mypy: disable-error-code="operator, arg-type"
"""Deadlines, reminders, escalation and unrated closing, from event times."""

from __future__ import annotations

import datetime as dt
import importlib
import threading

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action, CaseState, Color, Level
from doorstep.appeals.models import Case, CaseEvent, Notification
from doorstep.appeals.sla import sla_sweep
from doorstep.conftest import World

from .factories import step, submit

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def test_reminder_before_the_deadline_once(world: World) -> None:
    case = submit(world)
    assert sla_sweep(now=case.clock_started_at + HOUR).reminded == 0
    result = sla_sweep(now=case.deadline - 2 * HOUR)  # within the 4-hour window
    assert result.reminded == 1 and result.escalated == 0
    assert sla_sweep(now=case.deadline - HOUR).reminded == 0
    event = CaseEvent.objects.get(case=case, action=Action.REMIND)
    assert not event.is_public
    member = world.user(Role.GRID_MEMBER)
    assert Notification.objects.filter(user=member, case=case, text__contains="即将到期").exists()


def test_overdue_green_escalates_to_yellow_at_the_missed_deadline(world: World) -> None:
    case = submit(world)
    missed = case.deadline
    result = sla_sweep(now=missed + 2 * HOUR)
    assert result.escalated == 1
    case.refresh_from_db()
    assert (case.color, case.level, case.escalations) == (Color.YELLOW, Level.COMMUNITY, 1)
    assert case.clock_started_at == missed
    assert case.deadline == missed + 7 * DAY
    event = CaseEvent.objects.get(case=case, action=Action.ESCALATE)
    assert event.at == missed and (event.from_color, event.to_color) == ("green", "yellow")


def test_after_downtime_the_sweep_catches_up_both_steps(world: World) -> None:
    case = submit(world)
    start = case.clock_started_at
    result = sla_sweep(now=start + 20 * DAY)  # down for almost three weeks
    assert result.escalated == 2
    case.refresh_from_db()
    assert (case.color, case.level, case.is_joint) == (Color.RED, Level.PARTY_ORG, True)
    steps = list(
        CaseEvent.objects.filter(case=case, action=Action.ESCALATE).values_list("at", flat=True)
    )
    assert steps == [start + DAY, start + 8 * DAY]
    assert case.deadline == start + 38 * DAY
    # Red does not rise further; a second sweep at the same moment does nothing new.
    assert sla_sweep(now=start + 20 * DAY).escalated == 0


def test_two_sweeps_never_escalate_twice(world: World) -> None:
    cases = [submit(world, text=f"第{i}件") for i in range(3)]
    moment = cases[-1].deadline + HOUR
    first, second = sla_sweep(now=moment), sla_sweep(now=moment)
    assert (first.escalated, second.escalated) == (3, 0)
    assert CaseEvent.objects.filter(action=Action.ESCALATE).count() == 3


def test_stale_copy_cannot_escalate_after_another_worker(world: World) -> None:
    """The conditional update on the version is what keeps a second worker out."""
    from doorstep.appeals.services import case_escalate

    case = submit(world)
    stale = Case.objects.get(pk=case.pk)
    assert case_escalate(case=case, at=case.deadline)
    assert not case_escalate(case=stale, at=stale.deadline)
    assert Case.objects.get(pk=case.pk).escalations == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_on_postgresql(world: World) -> None:
    # An earlier transactional test (a browser test) may have flushed the categories
    # that the data migration made; put them back.
    importlib.import_module("doorstep.appeals.migrations.0002_default_categories").create(
        apps, None
    )
    cases = [submit(world, text=f"第{i}件") for i in range(40)]
    moment = cases[-1].deadline + HOUR
    results = []

    def run() -> None:
        results.append(sla_sweep(now=moment))
        connection.close()

    threads = [threading.Thread(target=run) for _i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.escalated for r in results) == 40
    assert CaseEvent.objects.filter(action=Action.ESCALATE).count() == 40


def test_resolved_case_nobody_rates_closes_as_unrated(world: World) -> None:
    case = submit(world)
    member = world.user(Role.GRID_MEMBER)
    step(case, member, Action.ACCEPT)
    case = step(case, member, Action.RESOLVE, result="已清理")
    assert sla_sweep(now=case.resolved_at + 6 * DAY).expired == 0
    assert sla_sweep(now=case.resolved_at + 7 * DAY).expired == 1
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closed_unrated and case.rating is None


def test_resolved_case_is_not_escalated(world: World) -> None:
    case = submit(world)
    member = world.user(Role.GRID_MEMBER)
    step(case, member, Action.ACCEPT)
    step(case, member, Action.RESOLVE, result="已清理")
    assert sla_sweep(now=case.deadline + DAY).escalated == 0


def test_settings_change_the_clock(world: World, settings: object) -> None:
    settings.DOORSTEP_APPEALS = {"SLA_HOURS": {"green": 2, "yellow": 48, "red": 240}}  # type: ignore[attr-defined]
    case = submit(world)
    assert case.deadline == case.clock_started_at + 2 * HOUR


def test_management_command_and_task(world: World) -> None:
    from io import StringIO

    submit(world)
    out = StringIO()
    call_command("appeals_sla_sweep", stdout=out)
    assert "escalated 0" in out.getvalue()
    out = StringIO()
    call_command("appeals_sla_sweep", "--enqueue", stdout=out)
    assert out.getvalue().startswith("queued")
