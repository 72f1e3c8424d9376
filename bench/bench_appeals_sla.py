"""The appeals SLA sweep over 1,000,000 open cases.

Builds 1,000,000 open cases with deadlines spread over the coming weeks, of which a few
thousand are due (past their deadline, or inside their reminder window), and times one
full sweep (reminders, escalations, unrated closing) against the bare query that finds
the due rows.
"""

from __future__ import annotations

import time

from harness import Context, Result, Timing

TITLE = "Appeals SLA sweep over 1,000,000 open cases"
OURS = (
    "`appeals.sla.sla_sweep`: finds the due cases through the (state, deadline) index and "
    "escalates or reminds each with its conditional update, event row and notifications"
)
BASELINE = "the bare queries that list the due rows' ids (what the sweep must at least read)"
CASE_LABEL = "sweep"
METRIC_LABEL = "operation"
ROWS_LABEL = "cases changed"
ABOUT = """
The city of the board benchmark (20 communities, 200 compounds) with 1,000,000 cases,
all open, whose deadlines lie between 80 hours and twelve weeks ahead, except 0.1%
already past their deadline by up to three weeks (to be escalated, some twice) and 0.1%
inside their reminder window (to be reminded): the catch-up of a sweep after downtime.
Rows are written in bulk and analysed, untimed. One sweep is timed from a cold start
(the goal: under 30 s); a second sweep at the same moment, which finds nothing left to
do, shows the cost of reading 1,000,000 open cases when nothing is due. The baseline
is the bare id queries for the same due rows.
""".strip()

CASES = 1_000_000
QUICK_CASES = 20_000


def run(ctx: Context) -> list[Result]:
    from bench_appeals_board import build_city, insert_cases
    from django.db.models import F, Q

    from doorstep.appeals.choices import OPEN_STATES, Color
    from doorstep.appeals.conf import remind_before
    from doorstep.appeals.models import Case
    from doorstep.appeals.sla import sla_sweep

    total = QUICK_CASES if ctx.quick else CASES
    started = time.perf_counter()
    _city, places = build_city(ctx)
    now = insert_cases(
        ctx, places, total, open_share=1.0, overdue_share=0.001, remind_share=0.001, days=60
    )
    ctx.note(f"{total:,} open cases built in {time.perf_counter() - started:.0f} s (untimed)")
    open_states = sorted(OPEN_STATES)

    def due_ids() -> int:
        n = len(
            Case.objects.filter(
                state__in=open_states, deadline__lte=now, color__in=["green", "yellow"]
            ).values_list("id", flat=True)
        )
        for color in Color.values:
            n += len(
                Case.objects.filter(
                    state__in=open_states, color=color, deadline__lte=now + remind_before(color)
                )
                .filter(Q(reminded_deadline__isnull=True) | ~Q(reminded_deadline=F("deadline")))
                .values_list("id", flat=True)
            )
        return n

    t0 = time.perf_counter_ns()
    due = due_ids()
    base_ns = time.perf_counter_ns() - t0
    t0 = time.perf_counter_ns()
    first = sla_sweep(now=now)
    first_ns = time.perf_counter_ns() - t0
    ctx.note(
        f"first sweep: {first.escalated:,} escalated, {first.reminded:,} reminded, "
        f"{first.expired:,} closed unrated in {first_ns / 1e9:.1f} s"
    )
    t0 = time.perf_counter_ns()
    second = sla_sweep(now=now)
    second_ns = time.perf_counter_ns() - t0
    t0 = time.perf_counter_ns()
    due_ids()
    base2_ns = time.perf_counter_ns() - t0
    ctx.note(
        f"second sweep: {second.escalated + second.reminded} changes in {second_ns / 1e9:.2f} s"
    )
    return [
        Result(
            case="first sweep",
            metric="sweep vs due-row query",
            ours=Timing.of([first_ns]),
            baseline=Timing.of([base_ns]),
            rows=first.escalated + first.reminded + first.expired,
            nodes=due,
        ),
        Result(
            case="second sweep (nothing due)",
            metric="sweep vs due-row query",
            ours=Timing.of([second_ns]),
            baseline=Timing.of([base2_ns]),
            rows=second.escalated + second.reminded + second.expired,
            nodes=total,
        ),
    ]
