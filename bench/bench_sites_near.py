"""Sites near me, open now: 10,000 sites with weekly hours, a resident's point, the
nearest open sites within 3 km."""

from __future__ import annotations

import datetime as dt
import gc
import time
from typing import Any

from harness import Context, Result, Timing

TITLE = "Sites near me, open now: 10,000 sites"
OURS = (
    "`sites.selectors.sites_near(open_now=True)`: a bounding box on the (lat, lng) index, "
    "distances in NumPy, the hours of the box's sites as bare tuples, then the (at most 20) "
    "sites shown loaded with their categories and amenities"
)
BASELINE = (
    "naive: every active site and every opening interval read as tuples, distance and "
    "open-now in Python, sorted, the first 20"
)
CASE_LABEL = "moment"
METRIC_LABEL = "operation"
ROWS_LABEL = "sites"
ABOUT = """
10,000 active sites spread over a 45 × 50 km city around 泸州 (so about 130 lie within
3 km of a point), each with a weekly schedule: community-center hours on weekdays, and
for one site in four late hours to 22:00 every day. Each sample asks from a random
point for the nearest sites within 3 km that are open at the moment (a weekday at 10:00,
and at 21:00 when only the late ones are open), through the selector the page and the
API use. The baseline does the same the naive way in the same loop, on every fifth
sample (it reads every site and all 130,000 opening intervals each time), and its answer must equal ours. Goal: p95
under 50 ms.
""".strip()

SITES, SAMPLES = 10_000, 100
QUICK_SITES, QUICK_SAMPLES = 2_000, 30
BASELINE_EVERY = 5  # the naive way reads every site and its hours each time


def build(ctx: Context, count: int) -> None:
    from doorstep.orgs.services import unit_create
    from doorstep.sites.models import OpeningHours, Site

    rng = ctx.rng
    city = unit_create(kind="city", name="基准市", code="510500", lat=28.87, lng=105.44)
    sites = [
        Site(name=f"阵地{i}", level="home", unit=city, lat=28.7 + rng.random() * 0.4,
             lng=105.2 + rng.random() * 0.5, address="x", manager_kind="community",
             manager_name="x")
        for i in range(count)
    ]  # fmt: skip
    Site.objects.bulk_create(sites, batch_size=2000)
    hours = []
    for site in Site.objects.only("id"):
        for day in range(5):
            hours.append(OpeningHours(site=site, day=day, opens=dt.time(8, 30), closes=dt.time(12)))
            hours.append(
                OpeningHours(site=site, day=day, opens=dt.time(14), closes=dt.time(17, 30))
            )
        if site.pk % 4 == 0:
            hours += [OpeningHours(site=site, day=d, opens=dt.time(18), closes=dt.time(22), extended=True)
                      for d in range(7)]  # fmt: skip
    OpeningHours.objects.bulk_create(hours, batch_size=5000)


def naive(lat: float, lng: float, moment: dt.datetime) -> list[Any]:
    """Every active site and every opening interval, read whole; distance and open-now
    decided in Python."""
    from collections import defaultdict

    from doorstep.core import geo
    from doorstep.sites import hours
    from doorstep.sites.models import OpeningHours, Site

    holidays = hours.holidays_between(moment.date(), moment.date())
    by_site: dict[int, list[Any]] = defaultdict(list)
    for row in OpeningHours.objects.values_list("site_id", "day", "opens", "closes", "extended"):
        by_site[row[0]].append(_Hours(*row[1:]))
    rows = []
    here = geo.Point(lat, lng)
    for pk, s_lat, s_lng in Site.objects.filter(is_active=True).values_list("id", "lat", "lng"):
        metres = geo.haversine_m(here, geo.Point(s_lat, s_lng))
        if metres <= 3000 and hours.state_at(by_site[pk], [], moment, holidays).is_open:
            rows.append((metres, pk))
    rows.sort()
    return rows[:20]


class _Hours:
    def __init__(self, day: int, opens: Any, closes: Any, extended: bool) -> None:
        self.day, self.opens, self.closes, self.extended = day, opens, closes, extended


def run(ctx: Context) -> list[Result]:
    from doorstep.core.timeutils import LOCAL_TZ
    from doorstep.sites.selectors import sites_near

    count, samples = (QUICK_SITES, QUICK_SAMPLES) if ctx.quick else (SITES, SAMPLES)
    build(ctx, count)
    results = []
    for label, moment in (
        ("weekday 10:00", dt.datetime(2026, 3, 4, 10, tzinfo=LOCAL_TZ)),
        ("weekday 21:00", dt.datetime(2026, 3, 4, 21, tzinfo=LOCAL_TZ)),
    ):
        ours_ns, base_ns, found = [], [], 0
        for i in range(samples):
            lat = 28.75 + ctx.rng.random() * 0.3
            lng = 105.25 + ctx.rng.random() * 0.4
            gc.collect()
            for side in ["ours", "base"] if i % 2 == 0 else ["base", "ours"]:
                start = time.perf_counter_ns()
                if side == "ours":
                    near = sites_near(lat=lat, lng=lng, moment=moment, open_now=True)
                    ours_ns.append(time.perf_counter_ns() - start)
                else:
                    expected = naive(lat, lng, moment)
                    base_ns.append(time.perf_counter_ns() - start)
            if expected is not None:
                assert [n.site.pk for n in near] == [pk for _m, pk in expected], (lat, lng)
            found += len(near)
            if not ctx.quick and i >= 20 and i % 20 == 0:
                ctx.log(f"{label}: {i} samples")
        ctx.note(f"{label}: {found / samples:.0f} open sites found per query on average "
                 f"(ours and the naive answer identical, asserted)")  # fmt: skip
        results.append(Result(label, "near me, open now", Timing.of(ours_ns), Timing.of(base_ns),
                              rows=count, nodes=samples))  # fmt: skip
    return results
