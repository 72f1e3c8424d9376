"""Open311 ``GET requests.json``: a 90-day window of 1,000 cases out of 1,000,000.

Builds a city of 20 communities with 1,000,000 appeal cases spread over three years (with
a submit and an accept event for the cases of the last 150 days), then asks the endpoint
for 90-day windows ending at random days of the last 60, each answered with the first
1,000 cases, and times it against the bare query of the same rows.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from harness import Context, Result, Timing

TITLE = "Open311 GET requests.json: 90 days, 1,000 of 1,000,000 cases"
OURS = (
    "the `requests.json` view called through Django's request factory: parameters, "
    "jurisdiction, one query with the public columns, status notes and lead department "
    "as subqueries, and the JSON body of 1,000 requests"
)
BASELINE = (
    "the bare ORM query of the same 1,000 rows' columns (`values_list`), no subqueries, "
    "no rendering"
)
CASE_LABEL = "cases"
METRIC_LABEL = "operation"
ROWS_LABEL = "requests returned"
ABOUT = """
A city of one district, two streets and 20 communities of 10 compounds each. 1,000,000
cases of the default categories, all public, spread evenly over 1,095 days (about 900 a
day, so every 90-day window holds about 82,000), in every state; the cases of the last
150 days have a submit and an accept event. Rows are inserted in bulk and the tables
analysed, untimed. Each sample picks a window end among the last 60 days and calls the
view with `jurisdiction_id`, `start_date` and `end_date` 90 days apart, as a client
would; the baseline runs the bare query of the same window (`created_at` range, subtree
of the city, newest first, 1,000 rows, the columns a request row needs) in the same
loop. Figures are wall-clock milliseconds per request; the goal is p95 under 150 ms on
PostgreSQL.
""".strip()

CASES, SAMPLES = 1_000_000, 40
QUICK_CASES, QUICK_SAMPLES = 20_000, 5
DAYS = 1095


def build(ctx: Context, total: int) -> Any:
    from django.db import connection, transaction

    from doorstep.appeals.choices import OPEN_STATES, CaseState, Color, Level
    from doorstep.appeals.models import Case, CaseEvent, Category
    from doorstep.core.tree import segment
    from doorstep.orgs.models import Unit

    rng = ctx.rng
    next_id = 1
    units: list[Unit] = []

    def unit(parent: Unit | None, kind: str, name: str, code: str = "") -> Unit:
        nonlocal next_id
        path = (parent.path if parent else "") + segment(next_id)
        node = Unit(
            id=next_id, parent=parent, path=path, depth=len(path) // 10 - 1, kind=kind,
            name=name, code=code, lat=29.0 + next_id * 1e-4, lng=110.0 + next_id * 1e-4,
        )  # fmt: skip
        next_id += 1
        units.append(node)
        return node

    city = unit(None, "city", "甲市", "510500")
    district = unit(city, "district", "甲区", "510502")
    places = []
    for s in range(2):
        street = unit(district, "street", f"{s + 1}街道", f"510502{s + 1:03d}000")
        for c in range(10):
            community = unit(street, "community", f"{s * 10 + c + 1}社区")
            for k in range(10):
                places.append((community, unit(community, "compound", f"{k + 1}小区")))
    Unit.objects.bulk_create(units, batch_size=1000)
    leaves = list(Category.objects.filter(children__isnull=True))
    states = list(CaseState.values)
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=DAYS)
    step = dt.timedelta(days=DAYS) / total
    batch: list[Case] = []
    made = 0
    with transaction.atomic():
        for i in range(total):
            community, compound = places[rng.randrange(len(places))]
            category = leaves[rng.randrange(len(leaves))]
            color = category.default_color
            at = start + step * i
            state = states[rng.randrange(len(states))]
            batch.append(
                Case(
                    kind="problem",
                    category=category,
                    channel="online",
                    text="楼道里堆满了杂物",
                    unit=compound,
                    unit_path=compound.path,
                    community=community,
                    compound=compound,
                    color=color,
                    level={Color.GREEN: Level.COMMUNITY, Color.YELLOW: Level.COMMUNITY}.get(
                        color, Level.PARTY_ORG
                    ),
                    state=state,
                    clock_started_at=at,
                    deadline=at + dt.timedelta(days=7),
                    receipt_code=f"B{i:09d}",
                    result="已处理" if state not in OPEN_STATES else "",
                )
            )
            if len(batch) == 20_000:
                Case.objects.bulk_create(batch)
                made += len(batch)
                batch = []
        Case.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # bulk_create stamps created_at with the insert time: put the spread back.
        cursor.execute("UPDATE appeals_case SET created_at = clock_started_at")
    recent = now - dt.timedelta(days=150)
    events: list[CaseEvent] = []
    with transaction.atomic():
        for case_id, at, state, color in Case.objects.filter(created_at__gte=recent).values_list(
            "id", "created_at", "state", "color"
        ):
            for action, to_state in (("submit", "submitted"), ("accept", state)):
                events.append(
                    CaseEvent(
                        case_id=case_id,
                        action=action,
                        at=at,
                        from_state="submitted",
                        to_state=to_state,
                        from_color=color,
                        to_color=color,
                    )
                )
            if len(events) >= 20_000:
                CaseEvent.objects.bulk_create(events)
                events = []
        CaseEvent.objects.bulk_create(events)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ctx.note(f"{total:,} cases in {len(places)} compounds over {DAYS} days built and analysed")
    return city, now


def run(ctx: Context) -> list[Result]:
    import gc

    from django.test import RequestFactory

    from doorstep.appeals.models import Case
    from doorstep.core.tree import subtree_q
    from doorstep.open311 import views

    total, samples = (QUICK_CASES, QUICK_SAMPLES) if ctx.quick else (CASES, SAMPLES)
    city, now = build(ctx, total)
    factory = RequestFactory()
    ours_ns: list[int] = []
    base_ns: list[int] = []
    returned = 0
    gc.collect()
    for i in range(samples + 2):
        end = now - dt.timedelta(days=ctx.rng.randrange(60), seconds=ctx.rng.randrange(86400))
        begin = end - dt.timedelta(days=90)
        params = {
            "jurisdiction_id": city.code,
            "start_date": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

        def ours(params: dict[str, str] = params) -> int:
            response = views.requests(factory.get("/open311/v2/requests.json", params), "json")
            assert response.status_code == 200, response.content[:200]
            return response.content.count(b'"service_request_id"')

        def baseline(begin: dt.datetime = begin, end: dt.datetime = end) -> int:
            rows = list(
                Case.objects.filter(
                    subtree_q(city.path, field="unit_path"),
                    is_public=True,
                    created_at__gte=begin.replace(microsecond=0),
                    created_at__lte=end.replace(microsecond=0),
                )
                .order_by("-created_at", "-id")
                .values_list(
                    "receipt_code", "state", "category__name", "category__code",
                    "community__name", "compound__name", "created_at", "updated_at",
                    "deadline", "lat", "lng", "color", "level", "result",
                )[:1000]
            )  # fmt: skip
            return len(rows)

        order = [(ours, ours_ns), (baseline, base_ns)]
        if i % 2:
            order.reverse()
        for fn, bucket in order:
            started = time.perf_counter_ns()
            count = fn()
            elapsed = time.perf_counter_ns() - started
            if i >= 2:  # two warm-up rounds
                bucket.append(elapsed)
                if fn is ours:
                    returned = count
            assert count == 1000 or ctx.quick, count
    return [
        Result(
            case=f"{total:,}",
            metric="GET requests.json",
            ours=Timing.of(ours_ns),
            baseline=Timing.of(base_ns),
            rows=returned,
            nodes=samples,
        )
    ]
