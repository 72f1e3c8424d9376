"""Appeals intake through the API with 16 concurrent clients, against a bare view that
inserts one row."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from harness import Context, Result, Timing

TITLE = "Appeals intake through the API, 16 concurrent clients"
OURS = (
    "`POST /api/v1/appeals/` (the DRF view: authentication, input validation, idempotency "
    "key, category, location and grid, routing, the case row, its event, the reporter's "
    "follow and the in-app notifications, one transaction)"
)
BASELINE = "a bare Django view on the same server that inserts one row and answers 201"
CASE_LABEL = "clients"
METRIC_LABEL = "operation"
ROWS_LABEL = "cases per second (ours)"
ABOUT = """
Sixteen threads, each a different logged-in resident with its own database connection
and test client, post appeals as fast as they can through the whole Django stack
(WSGI handler, every middleware, session authentication): `POST /api/v1/appeals/`
with a JSON body (category, compound, text) and an `Idempotency-Key` header, which
must answer 201. The baseline runs the same 16 threads, through the same stack, against
a function view mounted beside the project's URLs that inserts one notification row for
the session's user and answers 201, on the same database, in alternating rounds (three
of each). Figures are per-request wall-clock milliseconds;
the rows column gives our throughput in cases per second, and the notes both
throughputs; the goal is a throughput ratio (ours / baseline) of at least 0.5 on
PostgreSQL. Python threads share one interpreter lock, so this measures the server
code path on one process; a deployment runs several worker processes.
""".strip()

CLIENTS = 16
PER_CLIENT, QUICK_PER_CLIENT = 40, 5
ROUNDS = 3


def _bare(request: Any) -> Any:
    """The baseline: insert one row, answer 201."""
    from django.http import JsonResponse

    from doorstep.appeals.models import Notification

    row = Notification.objects.create(user_id=request.user.pk, text="bench")
    return JsonResponse({"id": row.pk}, status=201)


def __getattr__(name: str) -> Any:
    """This module is also the bench's URLconf: the project's URLs plus the bare view
    (built on first use, once Django is set up)."""
    if name == "urlpatterns":
        from django.urls import include, path
        from django.views.decorators.csrf import csrf_exempt

        return [path("bench/bare/", csrf_exempt(_bare)), path("", include("config.urls"))]
    raise AttributeError(name)


def run(ctx: Context) -> list[Result]:
    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF=__name__):
        return _run(ctx)


def _run(ctx: Context) -> list[Result]:
    from bench_appeals_board import build_city
    from django.db import connection
    from django.test import Client

    from doorstep.accounts.roles import Role
    from doorstep.accounts.services import role_grant, user_create
    from doorstep.appeals.models import Case

    per_client = QUICK_PER_CLIENT if ctx.quick else PER_CLIENT
    _city, places = build_city(ctx)
    users = []
    for n in range(CLIENTS):
        user = user_create(username=f"resident{n}", password=None)
        role_grant(actor=None, user=user, role=Role.RESIDENT)
        users.append(user)
    clients = []
    for user in users:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        clients.append(client)

    def ours(n: int, client: Any, i: int, tag: str) -> int:
        _community, compound = places[(n * 7 + i) % len(places)]
        body = {"category": "sanitation", "unit_id": compound.pk, "text": f"楼道杂物 {n}-{i}"}
        response = client.post(
            "/api/v1/appeals/",
            json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"{tag}-{n}-{i}",
        )
        return int(response.status_code)

    def baseline(n: int, client: Any, i: int, tag: str) -> int:
        response = client.post(
            "/bench/bare/", json.dumps({"x": i}), content_type="application/json"
        )
        return int(response.status_code)

    def phase(fn: Any, tag: str) -> tuple[float, list[int]]:
        latencies: list[int] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        def client(n: int) -> None:
            mine = []
            try:
                for i in range(per_client):
                    t0 = time.perf_counter_ns()
                    status = fn(n, clients[n], i, tag)
                    mine.append(time.perf_counter_ns() - t0)
                    assert status == 201, status
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        if errors:
            raise errors[0]
        return wall, latencies

    phase(ours, "warm")
    phase(baseline, "warm")
    ours_lat: list[int] = []
    base_lat: list[int] = []
    ours_wall = base_wall = 0.0
    for r in range(ROUNDS):
        wall, lat = phase(ours, f"r{r}")
        ours_wall += wall
        ours_lat += lat
        wall, lat = phase(baseline, f"r{r}")
        base_wall += wall
        base_lat += lat
    done = CLIENTS * per_client * ROUNDS
    ours_rate, base_rate = done / ours_wall, done / base_wall
    ctx.note(
        f"ours {ours_rate:,.0f} cases/s, baseline {base_rate:,.0f} inserts/s: "
        f"throughput ratio {ours_rate / base_rate:.2f} ({done:,} requests each)"
    )
    assert Case.objects.count() == CLIENTS * per_client * (ROUNDS + 1)
    return [
        Result(
            case=f"{CLIENTS} clients",
            metric="intake vs bare insert",
            ours=Timing.of(ours_lat),
            baseline=Timing.of(base_lat),
            rows=ours_rate,
            nodes=CLIENTS,
        )
    ]
