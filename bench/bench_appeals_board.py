"""Appeals triage board and overdue list with 1,000,000 cases, and the console's home.

Builds a city of 20 communities (10 compounds each) holding 1,000,000 appeal cases over
three years, then opens a community's triage board (open cases, all colors, and one
color) and its overdue list as a community worker would, through the page views, and
times them against the bare query of the same rows; and the console's home with its
to-do counts, as that community worker and as the city's administrator.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from harness import Context, Result, Timing

TITLE = "Appeals triage board, overdue list and the console's home, 1,000,000 cases"
OURS = (
    "the triage board and overdue-list page views called through Django's request factory "
    "as a community worker: scope check, filters, counts per color and state, one page of "
    "50 cases and the rendered HTML; the console's home (`web.views.console`: every to-do "
    "count, each stopped at 1,000, and the place cards)"
)
BASELINE = (
    "the bare ORM query of the same 50 rows (same filters, same order, `values_list`), "
    "no scope, no counts, no rendering; for the home, the bare count of the open cases "
    "in the user's place"
)
CASE_LABEL = "page"
METRIC_LABEL = "operation"
ROWS_LABEL = "rows shown"
ABOUT = """
A city of one district, two streets and 20 communities of 10 compounds each, with
1,000,000 cases of the default categories spread over 1,095 days (about 50,000 per
community); 6% of them are open (submitted, accepted, assigned or in progress), a
third of those past their deadline, the rest resolved, rated, closed, rejected or
merged. Rows are written in bulk (`COPY` on PostgreSQL) and the tables analysed,
untimed. Each sample opens, for a random community, its triage board (open cases),
the board filtered to one random color, and its overdue list, through the view
functions with a community worker's session user, as the browser would; the baseline
runs the bare query of the same page of rows in the same loop. The console's home is
opened in the same loop by that community's worker and by the city's administrator
(whose to-do counts span all 1,000,000 cases); its baseline is the plain `COUNT(*)` of
the open cases in the user's place. Wall-clock milliseconds per page; the goal is p95
under 100 ms.
""".strip()

FIELDS = ("id", "receipt_code", "color", "category__name", "compound__name", "state", "deadline")
CASES, SAMPLES = 1_000_000, 40
QUICK_CASES, QUICK_SAMPLES = 20_000, 5
DAYS = 1095
OPEN_SHARE = 0.06

COLUMNS = [
    "created_at", "updated_at", "kind", "category_id", "channel", "text", "lat", "lng",
    "unit_id", "unit_path", "community_id", "compound_id", "color", "level", "state",
    "is_joint", "clock_started_at", "deadline", "escalations", "version", "receipt_code",
    "idempotency_key", "result", "resolved_at", "closed_at", "closed_unrated", "rating",
    "problem_solved", "is_public", "result_names",
]  # fmt: skip


def build_city(ctx: Context) -> tuple[Any, list[tuple[Any, Any]]]:
    from doorstep.core.tree import segment
    from doorstep.orgs.models import Unit

    units: list[Unit] = []
    next_id = 1

    def unit(parent: Unit | None, kind: str, name: str, code: str = "") -> Unit:
        nonlocal next_id
        path = (parent.path if parent else "") + segment(next_id)
        node = Unit(
            id=next_id, parent=parent, path=path, depth=len(path) // 10 - 1, kind=kind,
            name=name, code=code, lat=29.0 + next_id * 1e-3, lng=110.0 + next_id * 1e-3,
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
    return city, places


def insert_cases(ctx: Context, places: list[tuple[Any, Any]], total: int, *, open_share: float,
                 overdue_share: float = 1 / 3, remind_share: float = 0.0,
                 days: int = DAYS) -> dt.datetime:  # fmt: skip
    """``total`` cases written in bulk: COPY on PostgreSQL, multi-row INSERTs on SQLite."""
    from django.db import connection, transaction

    from doorstep.appeals.choices import LEVEL_OF_COLOR, CaseState
    from doorstep.appeals.models import Case, Category
    from doorstep.appeals.services import new_receipt_code

    rng = ctx.rng
    leaves = list(Category.objects.filter(children__isnull=True))
    open_states = ["submitted", "accepted", "assigned", "in_progress"]
    done_states = [s for s in CaseState.values if s not in open_states]
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=days)
    step = dt.timedelta(days=days) / total
    sla = {
        "green": dt.timedelta(days=1),
        "yellow": dt.timedelta(days=7),
        "red": dt.timedelta(days=30),
    }
    codes: set[str] = set()

    def rows() -> Any:
        for i in range(total):
            community, compound = places[rng.randrange(len(places))]
            category = leaves[rng.randrange(len(leaves))]
            color = category.default_color
            is_open = rng.random() < open_share
            if is_open:
                state = open_states[rng.randrange(4)]
                roll = rng.random()
                if roll < overdue_share:
                    deadline = now - dt.timedelta(hours=rng.uniform(1, 500))
                elif roll < overdue_share + remind_share:
                    deadline = now + dt.timedelta(hours=rng.uniform(0.5, 3.5))
                else:
                    deadline = now + dt.timedelta(hours=rng.uniform(80, 2000))
                clock = deadline - sla[color]
                created = min(clock, start + step * i)
            else:
                state = done_states[rng.randrange(len(done_states))]
                created = start + step * i
                clock, deadline = created, None
            code = new_receipt_code()
            while code in codes:
                code = new_receipt_code()
            codes.add(code)
            closed = created + dt.timedelta(days=2) if not is_open else None
            yield (
                created, created, "problem", category.pk, "online", "楼道里堆满了杂物",
                None, None, compound.pk, compound.path, community.pk, compound.pk, color,
                LEVEL_OF_COLOR[color], state, color == "red", clock, deadline, 0, 1, code, "",
                "已处理" if not is_open else "", closed, closed, False,
                5 if state in ("rated", "closed") else None, False, True, "[]",
            )  # fmt: skip

    table = connection.ops.quote_name(Case._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            batch: list[tuple[Any, ...]] = []
            for row in rows():
                batch.append(
                    tuple(
                        connection.ops.adapt_datetimefield_value(v)
                        if isinstance(v, dt.datetime)
                        else v
                        for v in row
                    )
                )
                if len(batch) == 5000:
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", batch)
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", batch)
        cursor.execute("ANALYZE")
    return now


def staff_for(community: Any) -> Any:
    from doorstep.accounts.roles import Role
    from doorstep.accounts.services import role_grant, user_create

    user = user_create(username=f"staff{community.pk}", password=None)
    role_grant(actor=None, user=user, role=Role.COMMUNITY_STAFF, scope=community)
    return user


def timed(fn: Any) -> tuple[int, Any]:
    started = time.perf_counter_ns()
    value = fn()
    return time.perf_counter_ns() - started, value


def alternate(i: int, ours: Any, baseline: Any) -> tuple[int, Any, int, Any]:
    """Ours and the baseline timed back to back, each going first in turn (by round
    ``i``), so that neither always runs on the other's warm cache. Returns ours' time and
    value, then the baseline's."""
    if i % 2:
        t_ours, v_ours = timed(ours)
        t_base, v_base = timed(baseline)
    else:
        t_base, v_base = timed(baseline)
        t_ours, v_ours = timed(ours)
    return t_ours, v_ours, t_base, v_base


def plain_static() -> Any:
    """Pages link static files by name; the bench has no collected manifest."""
    from django.conf import settings
    from django.test.utils import override_settings

    storages = {**settings.STORAGES}
    storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    return override_settings(STORAGES=storages)


def view_request(path: str, params: dict[str, str], user: Any) -> Any:
    """A GET for a view function called directly, as the middleware would leave it: a
    session, messages, the user, not an HTMX request."""
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    request = RequestFactory().get(path, params)
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    request.user = user
    request.htmx = False  # type: ignore[attr-defined]
    return request


def run(ctx: Context) -> list[Result]:
    with plain_static():
        return _run(ctx)


def _run(ctx: Context) -> list[Result]:
    import gc

    from doorstep.accounts.roles import Role
    from doorstep.accounts.services import role_grant, user_create
    from doorstep.appeals import views
    from doorstep.appeals.choices import OPEN_STATES
    from doorstep.appeals.models import Case
    from doorstep.core.tree import subtree_q
    from doorstep.web import views as web_views

    total, samples = (QUICK_CASES, QUICK_SAMPLES) if ctx.quick else (CASES, SAMPLES)
    started = time.perf_counter()
    city, places = build_city(ctx)
    now = insert_cases(ctx, places, total, open_share=OPEN_SHARE)
    communities = sorted({c for c, _k in places}, key=lambda u: u.pk)
    ctx.note(
        f"{total:,} cases in {len(places)} compounds of {len(communities)} communities built "
        f"in {time.perf_counter() - started:.0f} s (untimed)"
    )
    staff = {c.pk: staff_for(c) for c in communities}
    mayor = user_create(username="city-admin", password=None)
    role_grant(actor=None, user=mayor, role=Role.CITY_ADMIN, scope=city)
    open_states = sorted(OPEN_STATES)
    request = view_request

    pages: dict[str, tuple[list[int], list[int], list[int]]] = {
        "triage board (open)": ([], [], []),
        "triage board (one color)": ([], [], []),
        "overdue list": ([], [], []),
        "console home (community worker)": ([], [], []),
        "console home (city administrator)": ([], [], []),
    }
    gc.collect()
    for i in range(samples + 2):
        community = communities[ctx.rng.randrange(len(communities))]
        user = staff[community.pk]
        color = ["green", "yellow", "red"][ctx.rng.randrange(3)]
        base = Case.objects.filter(subtree_q(community.path, field="unit_path"))
        jobs = {
            "triage board (open)": (
                lambda u=user, c=community: views.triage(request("/console/appeals/", {"unit": str(c.pk)}, u)),
                lambda b=base: list(b.filter(state__in=open_states).order_by("-id").values_list(*FIELDS)[:50]),
            ),
            "triage board (one color)": (
                lambda u=user, c=community, k=color: views.triage(
                    request("/console/appeals/", {"unit": str(c.pk), "color": k}, u)
                ),
                lambda b=base, k=color: list(
                    b.filter(state__in=open_states, color=k).order_by("-id").values_list(*FIELDS)[:50]
                ),
            ),
            "overdue list": (
                lambda u=user, c=community: views.overdue(request("/console/appeals/overdue/", {"unit": str(c.pk)}, u)),
                lambda b=base: list(
                    b.filter(state__in=open_states, deadline__lt=now).order_by("deadline", "id").values_list(*FIELDS)[:50]
                ),
            ),
            "console home (community worker)": (
                lambda u=user: web_views.console(request("/console/", {}, u)),
                lambda b=base: [b.filter(state__in=open_states).count()],
            ),
            "console home (city administrator)": (
                lambda: web_views.console(request("/console/", {}, mayor)),
                lambda: [Case.objects.filter(state__in=open_states).count()],
            ),
        }  # fmt: skip
        for name, (ours, baseline) in jobs.items():
            t_ours, response, t_base, rows = alternate(i, ours, baseline)
            assert response.status_code == 200
            if i >= 2:  # two warm-up rounds
                pages[name][0].append(t_ours)
                pages[name][1].append(t_base)
                pages[name][2].append(len(rows))
    results = []
    for name, (ours_ns, base_ns, shown) in pages.items():
        results.append(
            Result(
                case=name,
                metric="page view vs bare query",
                ours=Timing.of(ours_ns),
                baseline=Timing.of(base_ns),
                rows=sum(shown) / len(shown),
                nodes=len(communities),
            )
        )
    return results
