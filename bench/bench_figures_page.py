"""The leaders' figures page over a city of 1,000,000 appeal cases.

Builds the appeals board bench's city (20 communities, 1,000,000 cases over three
years) with a resident's rating on every rated or closed case, then opens the figures
page (this year so far, compared with the period before, the places below side by
side, the twelve months) as the city's administrator and as a community worker, and
times it against the bare count of the cases received in that place and period.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from harness import Context, Result, Timing

TITLE = "The figures page over 1,000,000 appeal cases"
OURS = (
    "`/console/figures/` (`doorstep/dashboards/views.py`) through Django's request factory: "
    "this year so far and the period before, every app's figures, the places below side "
    "by side and the twelve months, rendered"
)
BASELINE = (
    "the bare count of the cases received in the same place and period (one `COUNT(*)`, "
    "no scope, nothing else)"
)
CASE_LABEL = "user · place"
METRIC_LABEL = "operation"
ROWS_LABEL = "cases in the place"
ABOUT = """
The appeals board bench's city: one district, two streets, 20 communities of 10
compounds each, 1,000,000 cases spread over 1,095 days (2% open), and one rating per
rated or closed case (one in seventeen unsatisfied), written in bulk and analysed
(on PostgreSQL vacuumed too, as autovacuum would have), untimed. Each sample opens the figures page with its defaults (the year so far,
compared with the same number of days before it) as the city's administrator (the
whole city; its two streets side by side) and as a random community's worker (its ten
compounds side by side), alternating with the baseline, the bare count of the cases
received in that place this year. The city's year is about 310,000 cases and 120,000
ratings; a community's about a twentieth. The other apps hold no rows here: their
figures cost their queries on empty tables. Wall-clock milliseconds per page. After
the samples, the city's page is timed three more times without the three indexes
of migration `appeals/0010`, as a note.
""".strip()

CASES, SAMPLES = 1_000_000, 10
QUICK_CASES, QUICK_SAMPLES = 20_000, 2
OPEN_SHARE = 0.02
FIGURE_INDEXES = ("appeals_case_path_created", "appeals_case_path_resolved",
                  "appeals_case_path_unrated")  # fmt: skip


def run(ctx: Context) -> list[Result]:
    from bench_appeals_board import plain_static

    with plain_static():
        return _run(ctx)


def _run(ctx: Context) -> list[Result]:
    import gc

    from bench_appeals_board import (
        alternate,
        build_city,
        insert_cases,
        staff_for,
        timed,
        view_request,
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from doorstep.accounts.roles import Role
    from doorstep.accounts.services import role_grant, user_create
    from doorstep.appeals.models import Case
    from doorstep.core import timeutils
    from doorstep.core.tree import subtree_q
    from doorstep.dashboards import views

    total, samples = (QUICK_CASES, QUICK_SAMPLES) if ctx.quick else (CASES, SAMPLES)
    started = time.perf_counter()
    city, places = build_city(ctx)
    insert_cases(ctx, places, total, open_share=OPEN_SHARE)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO appeals_rating "
            "(created_at, updated_at, case_id, user_id, score, comment, unit_path) "
            "SELECT closed_at, closed_at, id, NULL, CASE WHEN id % 17 = 0 THEN 2 ELSE 5 END, '', "
            "unit_path "
            "FROM appeals_case WHERE state IN ('rated', 'closed') AND closed_at IS NOT NULL"
        )
        ratings = cursor.rowcount
        # As autovacuum would have done on a live server: the visibility map lets
        # PostgreSQL count from the indexes alone.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    communities = sorted({c for c, _k in places}, key=lambda u: u.pk)
    ctx.note(
        f"{total:,} cases and {ratings:,} ratings in {len(communities)} communities built in "
        f"{time.perf_counter() - started:.0f} s (untimed)"
    )
    staff = {c.pk: staff_for(c) for c in communities}
    mayor = user_create(username="city-admin", password=None)
    role_grant(actor=None, user=mayor, role=Role.CITY_ADMIN, scope=city)
    today = timeutils.local_today()
    year_start = dt.datetime(today.year, 1, 1, tzinfo=timeutils.LOCAL_TZ)

    def page(user: Any) -> Any:
        response = views.figures(view_request("/console/figures/", {}, user))
        assert response.status_code == 200, response.status_code
        return response

    def received(unit: Any) -> int:
        return Case.objects.filter(
            subtree_q(unit.path, field="unit_path"), created_at__gte=year_start
        ).count()

    with CaptureQueriesContext(connection) as queries:
        page(mayor)
    ctx.note(f"the page sends {len(queries)} queries (the city's administrator)")
    timings: dict[str, tuple[list[int], list[int], list[int]]] = {
        "city administrator · 甲市": ([], [], []),
        "community worker · a community": ([], [], []),
    }
    gc.collect()
    for i in range(samples + 1):
        community = communities[ctx.rng.randrange(len(communities))]
        jobs = {
            "city administrator · 甲市": (lambda: page(mayor), lambda: received(city), city),
            "community worker · a community": (
                lambda c=community: page(staff[c.pk]),
                lambda c=community: received(c),
                community,
            ),
        }
        for name, (ours, baseline, unit) in jobs.items():
            t_ours, _page, t_base, _count = alternate(i, ours, baseline)
            if i >= 1:  # one warm-up round
                timings[name][0].append(t_ours)
                timings[name][1].append(t_base)
                timings[name][2].append(
                    Case.objects.filter(subtree_q(unit.path, field="unit_path")).count()
                )
    # The same page without the figure indexes, for the record.
    with connection.cursor() as cursor:
        for name in FIGURE_INDEXES:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        cursor.execute("ANALYZE")
    without = sorted(timed(lambda: page(mayor))[0] for _ in range(3))
    ctx.note(
        f"without the indexes of appeals/0010 the city's page took {without[1] / 1e6:,.0f} ms "
        "(median of three)"
    )
    return [
        Result(
            case=name,
            metric="figures page vs one count",
            ours=Timing.of(ours_ns),
            baseline=Timing.of(base_ns),
            rows=sum(rows) / len(rows),
            nodes=len(communities),
        )
        for name, (ours_ns, base_ns, rows) in timings.items()
    ]
