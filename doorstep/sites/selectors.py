"""Reads in sites: the public facts of sites (near a point, open now), the staff's
scoped lists, person-times, and the 15-minute circle over a unit's households."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from doorstep.accounts.scoping import scoped
from doorstep.core import geo, timeutils
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.core.tree import ancestor_paths, per_branch, subtree_q
from doorstep.orgs.models import Unit
from doorstep.people.models import ON_REGISTER, Household, Person
from doorstep.people.selectors import counter_match, id_number_match

from . import circle, hours, network
from .choices import SiteLevel
from .models import (
    BUILTIN_NAMES,
    AppointmentSlot,
    CircleSettings,
    OpeningHours,
    Program,
    Room,
    ServiceRecord,
    ServiceRequest,
    Site,
    SiteClosure,
)

NEAR_RADIUS_M = 3000
MAX_NEAR_RADIUS_M = 20000
GRASSROOTS = ("community", "village")
COMPOUND_KINDS = ("compound", "natural_village")


def public_queryset(on: dt.date | None = None) -> QuerySet[Site]:
    """Active sites with what a public page shows, prefetched (closures only around
    ``on``, so that the open-now answer needs no query per site)."""
    on = on or timeutils.now().astimezone(LOCAL_TZ).date()
    return (
        Site.objects.filter(is_active=True)
        .select_related("unit")
        .prefetch_related(
            "hours",
            Prefetch(
                "closures",
                queryset=SiteClosure.objects.filter(
                    starts_on__lte=on + dt.timedelta(days=7), ends_on__gte=on
                ),
            ),
            "categories",
            "amenities",
            "station_types",
        )
    )


@dataclass
class NearSite:
    site: Site
    metres: float
    minutes: float
    state: hours.OpenState


def circle_walk() -> circle.Walk:
    row = CircleSettings.objects.first()
    if row is None:
        return circle.Walk()
    return circle.Walk(row.walking_speed_m_per_min, row.detour_factor, float(row.minutes))


def sites_near(
    *,
    lat: float,
    lng: float,
    radius_m: float = NEAR_RADIUS_M,
    moment: dt.datetime | None = None,
    level: str = "",
    category: str = "",
    open_now: bool = False,
    limit: int = 20,
) -> list[NearSite]:
    """Active sites within ``radius_m`` of a WGS-84 point, nearest first, with whether
    each is open at ``moment`` (now by default). Walking minutes use the straight-line
    model (the circle's detour factor and speed)."""
    point = geo.validate_point(lat, lng)
    radius_m = min(max(float(radius_m), 100.0), MAX_NEAR_RADIUS_M)
    moment = moment or timeutils.now()
    walk = circle_walk()
    dlat = radius_m / 111_320.0
    dlng = radius_m / (111_320.0 * max(math.cos(math.radians(point.lat)), 0.01))
    local_day = moment.astimezone(LOCAL_TZ).date()
    qs = Site.objects.filter(
        is_active=True,
        lat__gte=point.lat - dlat,
        lat__lte=point.lat + dlat,
        lng__gte=point.lng - dlng,
        lng__lte=point.lng + dlng,
    )
    if level:
        qs = qs.filter(level=level)
    if category:
        qs = qs.filter(categories__code=category)
    # Phase one works on bare tuples: every site in the box, its distance, and (when
    # asked) whether it is open; phase two loads the few sites shown, with their facts.
    found = list(qs.values_list("id", "lat", "lng"))
    if not found:
        return []
    ids = np.array([r[0] for r in found], dtype=np.int64)
    lats = np.array([r[1] for r in found])
    lngs = np.array([r[2] for r in found])
    p1, p2 = math.radians(point.lat), np.radians(lats)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * np.cos(p2) * np.sin(np.radians(lngs - point.lng) / 2) ** 2
    )
    metres = 2 * geo.EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    order = [int(i) for i in np.argsort(metres, kind="stable") if metres[i] <= radius_m]
    holidays = hours.holidays_between(local_day, local_day)
    states = _states([int(ids[i]) for i in order], moment, holidays)
    if open_now:
        order = [i for i in order if states[int(ids[i])].is_open]
    order = order[:limit]
    shown = {
        s.pk: s
        for s in Site.objects.filter(pk__in=[int(ids[i]) for i in order])
        .select_related("unit")
        .prefetch_related("categories", "amenities", "station_types")
    }
    out = []
    for index in order:
        site = shown.get(int(ids[index]))
        if site is None:
            continue
        walked = float(metres[index]) * walk.detour
        out.append(NearSite(site, walked, walked / walk.speed_m_per_min, states[site.pk]))
    return out


@dataclass(frozen=True)
class _Hours:
    day: int
    opens: dt.time
    closes: dt.time
    extended: bool


@dataclass(frozen=True)
class _Closure:
    starts_on: dt.date
    ends_on: dt.date
    opens: dt.time | None
    closes: dt.time | None


def _states(
    site_ids: list[int], moment: dt.datetime, holidays: dict[dt.date, str]
) -> dict[int, hours.OpenState]:
    """Whether each of these sites is open at ``moment``, from two queries of bare
    tuples (no model instances: a box in a city holds a hundred sites or more)."""
    day = moment.astimezone(LOCAL_TZ).date()
    by_site: dict[int, list[_Hours]] = defaultdict(list)
    for site_id, day_no, opens, closes, extended in OpeningHours.objects.filter(
        site_id__in=site_ids
    ).values_list("site_id", "day", "opens", "closes", "extended"):
        by_site[site_id].append(_Hours(day_no, opens, closes, extended))
    closed: dict[int, list[_Closure]] = defaultdict(list)
    for site_id, starts_on, ends_on, c_opens, c_closes in SiteClosure.objects.filter(
        site_id__in=site_ids, starts_on__lte=day, ends_on__gte=day
    ).values_list("site_id", "starts_on", "ends_on", "opens", "closes"):
        closed[site_id].append(_Closure(starts_on, ends_on, c_opens, c_closes))
    return {
        site_id: hours.state_at(by_site.get(site_id, []), closed.get(site_id, []), moment, holidays)
        for site_id in site_ids
    }


def public_site(site_id: int) -> Site | None:
    return public_queryset().filter(pk=site_id).first()


def bookable_rooms(site: Site) -> QuerySet[Room]:
    """The rooms of a site that residents may book: active and open to residents (what
    the site's public page lists)."""
    return (
        Room.objects.filter(site=site, is_active=True, bookable_by_residents=True)
        .prefetch_related("functions")
        .order_by("name", "id")
    )


def open_slots(
    site: Site, *, moment: dt.datetime, on: dt.date | None = None, category: str = ""
) -> QuerySet[AppointmentSlot]:
    """A site's appointment slots that have not started at ``moment`` (on one local
    date when asked), soonest first — the ones a resident may still take."""
    qs = AppointmentSlot.objects.filter(site=site, starts_at__gt=moment)
    if on is not None:
        begin = dt.datetime.combine(on, dt.time(0), tzinfo=LOCAL_TZ)
        qs = qs.filter(starts_at__gte=begin, starts_at__lt=begin + dt.timedelta(days=1))
    if category:
        qs = qs.filter(category__code=category)
    return qs.select_related("category").order_by("starts_at", "id")


def site_slot(site_id: int, slot_id: int) -> AppointmentSlot | None:
    """One slot of a site (slots are public, like the site page that offers them)."""
    return (
        AppointmentSlot.objects.filter(pk=slot_id, site_id=site_id)
        .select_related("category")
        .first()
    )


def public_programs(site: Site, *, today: dt.date) -> QuerySet[Program]:
    """A site's programs that have not ended: what the old and the young may ask to join
    (name, kind, dates and places left are public facts, like the site's rooms)."""
    return (
        Program.objects.filter(site=site, ends_on__gte=today)
        .select_related("site", "category", "partner")
        .order_by("starts_on", "name", "id")
    )


def household_persons(actor: Any) -> QuerySet[Person]:
    """The persons a resident acts for: their own registry record and the members of
    its household who are still on the register (not pseudonymized). Empty for an
    anonymous actor or one whose account is linked to no person."""
    if not getattr(actor, "is_authenticated", False):
        return Person.objects.none()
    # The households come through the scoping checkpoint (a resident sees the ones they
    # live in), narrowed to the actor's own so that staff get no wider list.
    households = scoped(actor, Household).filter(members__user_id=actor.pk, is_active=True)
    return Person.objects.filter(pseudonymized_at__isnull=True).filter(
        Q(user_id=actor.pk) | Q(ON_REGISTER, household__in=households.values("pk"))
    )


def my_requests(actor: Any) -> QuerySet[ServiceRequest]:
    """The service matters a resident follows: those they asked for online, and those a
    site's desk registered for them or a member of their household (a proxy matter
    taken in for an elderly mother is followed by her daughter's phone)."""
    if not getattr(actor, "is_authenticated", False):
        return ServiceRequest.objects.none()
    return scoped(actor, ServiceRequest).filter(
        Q(requester_id=actor.pk) | Q(person__in=household_persons(actor).values("pk"))
    )


DESK_CANDIDATES = 10


def desk_people(*, actor: Any, q: str, limit: int = DESK_CANDIDATES) -> list[Person]:
    """The residents a site's desk may register a matter for: persons in the actor's
    registry scope who match what the clerk typed (a name of two characters or more, a
    pinyin prefix, a whole phone number or its last four digits; anything vaguer is
    refused, naming ``q``) or the 18-digit ID number on the card they were handed, at
    most ``limit``; pseudonymized persons never, nor those who moved away or died."""
    match = id_number_match(q)
    if match is None:
        match = counter_match(q)[1]
    return list(
        scoped(actor, Person)
        .filter(match, ON_REGISTER)
        .select_related("unit", "household__unit")
        .order_by("name_pinyin", "pk")[:limit]
    )


def desk_person(*, actor: Any, person_id: int) -> Person | None:
    """One person the desk may register a matter for (see :func:`desk_people`)."""
    return (
        scoped(actor, Person)
        .filter(ON_REGISTER, pk=person_id)
        .select_related("unit", "household__unit")
        .first()
    )


def site_list(*, actor: Any, level: str = "", within: Unit | None = None) -> QuerySet[Site]:
    qs = (
        scoped(actor, Site).select_related("unit", "parent").order_by("unit__path", "level", "name")
    )
    if level:
        qs = qs.filter(level=level)
    if within is not None:
        qs = qs.filter(subtree_q(within.path, field="unit__path"))
    return qs


PERIODS = ("site", "category", "level", "month")


def person_times_by_branch(
    *, actor: Any, unit: Unit, start: dt.date, end: dt.date
) -> dict[str, int]:
    """``person_times`` in [start, end] (local dates) of the sites in ``unit``'s subtree,
    per unit directly below ``unit`` (keyed by its path; ``unit.path`` for sites at the
    unit itself). One query."""
    begin = dt.datetime.combine(start, dt.time(0), tzinfo=LOCAL_TZ)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
    records = scoped(actor, ServiceRecord).filter(delivered_at__gte=begin, delivered_at__lt=finish)
    rows = per_branch(records, field="site__unit__path", path=unit.path, n=Sum("person_times"))
    return {branch: row["n"] or 0 for branch, row in rows.items()}


def person_times(
    *,
    actor: Any,
    start: dt.date,
    end: dt.date,
    by: str = "site",
    level: str = "",
    category: str = "",
    unit: Unit | None = None,
) -> list[dict[str, Any]]:
    """Person-times served in [start, end] (local dates), grouped by site, category, level
    or month, from the service records the actor may see (optionally of one level of
    site, one service category, or the sites in one unit's subtree)."""
    if by not in PERIODS:
        by = "site"
    begin = dt.datetime.combine(start, dt.time(0), tzinfo=LOCAL_TZ)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
    qs = scoped(actor, ServiceRecord).filter(delivered_at__gte=begin, delivered_at__lt=finish)
    if level:
        qs = qs.filter(site__level=level)
    if category:
        qs = qs.filter(category__code=category)
    if unit is not None:
        qs = qs.filter(subtree_q(unit.path, field="site__unit__path"))
    if by == "month":
        grouped = (
            qs.annotate(month=TruncMonth("delivered_at", tzinfo=LOCAL_TZ))
            .values("month")
            .annotate(person_times=Sum("person_times"), records=Count("id"))
            .order_by("month")
        )
        return [
            {"key": row["month"].strftime("%Y-%m"), "label": row["month"].strftime("%Y-%m"),
             "person_times": row["person_times"], "records": row["records"]}
            for row in grouped
        ]  # fmt: skip
    fields = {"site": ("site_id", "site__name"), "category": ("category__code", "category__name"),
              "level": ("site__level", "site__level")}[by]  # fmt: skip
    grouped = (
        qs.values(*dict.fromkeys(fields))
        .annotate(person_times=Sum("person_times"), records=Count("id"))
        .order_by("-person_times")
    )
    labels: dict[str, Any] = dict(SiteLevel.choices) if by == "level" else {}
    if by == "category":
        labels = dict(BUILTIN_NAMES)  # the default categories in the reader's language
    return [
        {
            "key": row[fields[0]],
            "label": str(labels.get(row[fields[1]], row[fields[1]])),
            "person_times": row["person_times"],
            "records": row["records"],
        }
        for row in grouped
    ]


# --- The 15-minute circle ------------------------------------------------------------------


@dataclass
class Points:
    """Household locations in a unit's subtree, one point per located unit."""

    unit_ids: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    weights: np.ndarray
    compound: np.ndarray  # compound (or natural village) unit id, 0 when none
    community: np.ndarray  # community / village unit id, 0 when none
    names: dict[int, str] = field(default_factory=dict)
    unlocated: int = 0  # households whose units have no coordinates anywhere above


def household_points(unit: Unit) -> Points:
    """Active households of the subtree, located at their unit's coordinates or those of
    the nearest ancestor that has them (a building takes its compound's)."""
    inherited: tuple[float, float] | None = None
    community0 = 0
    for uid, kind, lat, lng in (
        Unit.objects.filter(path__in=ancestor_paths(unit.path))
        .order_by("path")
        .values_list("id", "kind", "lat", "lng")
    ):
        if lat is not None and lng is not None:
            inherited = (lat, lng)
        if kind in GRASSROOTS:
            community0 = uid
    located: dict[int, tuple[float, float] | None] = {}
    compound_of: dict[int, int] = {}
    community_of: dict[int, int] = {}
    names: dict[int, str] = {}
    for uid, parent_id, kind, lat, lng, name in (
        Unit.objects.filter(unit.subtree_q())
        .order_by("path")
        .values_list("id", "parent_id", "kind", "lat", "lng", "name")
    ):
        if lat is not None and lng is not None:
            located[uid] = (lat, lng)
        else:
            located[uid] = located.get(parent_id) if uid != unit.pk else inherited
        compound_of[uid] = uid if kind in COMPOUND_KINDS else compound_of.get(parent_id, 0)
        if uid == unit.pk:
            community_of[uid] = uid if kind in GRASSROOTS else community0
        else:
            community_of[uid] = uid if kind in GRASSROOTS else community_of.get(parent_id, 0)
        names[uid] = name
    counts = (
        Household.objects.filter(subtree_q(unit.path, field="unit__path"), is_active=True)
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    ids, lats, lngs, weights, compounds, communities = [], [], [], [], [], []
    unlocated = 0
    for row in counts:
        point = located.get(row["unit_id"])
        if point is None:
            unlocated += row["n"]
            continue
        ids.append(row["unit_id"])
        lats.append(point[0])
        lngs.append(point[1])
        weights.append(row["n"])
        compounds.append(compound_of.get(row["unit_id"], 0))
        communities.append(community_of.get(row["unit_id"], 0))
    return Points(
        np.array(ids, dtype=np.int64),
        np.array(lats, dtype=np.float64),
        np.array(lngs, dtype=np.float64),
        np.array(weights, dtype=np.int64),
        np.array(compounds, dtype=np.int64),
        np.array(communities, dtype=np.int64),
        names,
        unlocated,
    )


@dataclass(frozen=True)
class Candidate:
    """A site not yet built, for planning: where, and what it would offer."""

    lat: float
    lng: float
    level: str = SiteLevel.HOME
    categories: tuple[str, ...] = ()
    open_at: bool = True  # would be open at the moment asked about


@dataclass
class SitePoint:
    id: int
    name: str
    level: str
    lat: float
    lng: float
    categories: set[str]


def circle_sites(
    points: Points, walk: circle.Walk, *, level: str = "", category: str = "",
    open_at: dt.datetime | None = None,
) -> list[SitePoint]:  # fmt: skip
    """Active sites that could serve the points: within reach of their bounding box."""
    qs = Site.objects.filter(is_active=True)
    if len(points.lat):
        margin_m = walk.reach_m * 1.5
        dlat = margin_m / 111_320.0
        dlng = margin_m / (111_320.0 * max(math.cos(math.radians(float(points.lat.mean()))), 0.01))
        qs = qs.filter(
            lat__gte=float(points.lat.min()) - dlat, lat__lte=float(points.lat.max()) + dlat,
            lng__gte=float(points.lng.min()) - dlng, lng__lte=float(points.lng.max()) + dlng,
        )  # fmt: skip
    if level:
        qs = qs.filter(level=level)
    if category:
        qs = qs.filter(categories__code=category)
    if open_at is not None:
        day = open_at.astimezone(LOCAL_TZ).date()
        qs = qs.prefetch_related(
            "hours", Prefetch("closures", queryset=SiteClosure.objects.filter(ends_on__gte=day, starts_on__lte=day))
        )  # fmt: skip
        holidays = hours.holidays_between(day, day)
    cats: dict[int, set[str]] = defaultdict(set)
    rows = list(qs.distinct())
    for site_id, code in Site.categories.through.objects.filter(
        site_id__in=[s.pk for s in rows]
    ).values_list("site_id", "servicecategory__code"):
        cats[site_id].add(code)
    out = []
    for s in rows:
        if open_at is not None and not hours.site_state(s, open_at, holidays).is_open:
            continue
        out.append(SitePoint(s.pk, s.name, s.level, s.lat, s.lng, cats[s.pk]))
    return out


@dataclass
class CircleReport:
    model: str  # "straight" or "network"
    walk: circle.Walk
    households: int
    covered: int
    unlocated: int
    by_community: list[dict[str, Any]]
    uncovered_compounds: list[dict[str, Any]]
    points: list[dict[str, Any]]  # per located unit: lat, lng, households, minutes, site
    sites: list[dict[str, Any]]

    @property
    def share(self) -> float:
        return self.covered / self.households if self.households else 0.0


def _nearest(
    points: Points, sites: list[SitePoint], walk: circle.Walk, model: str
) -> circle.Nearest:
    site_lat = np.array([s.lat for s in sites], dtype=np.float64)
    site_lng = np.array([s.lng for s in sites], dtype=np.float64)
    if model == "network":
        net = network.active_network()
        if net is not None:
            return circle.nearest_network(net, points.lat, points.lng, site_lat, site_lng, walk)
    projection = circle.Projection.around(points.lat, site_lat)
    return circle.nearest_straight(
        projection.xy(points.lat, points.lng), projection.xy(site_lat, site_lng), walk
    )


def circle_model() -> str:
    """``network`` once a road network is loaded, else ``straight``."""
    from .models import RoadNetwork

    return "network" if RoadNetwork.objects.filter(is_active=True).exists() else "straight"


def circle_report(
    *,
    unit: Unit,
    level: str = "",
    category: str = "",
    open_at: dt.datetime | None = None,
    candidate: Candidate | None = None,
    model: str = "",
) -> CircleReport:
    """The 15-minute circle over ``unit``'s households: per community the share of
    households within reach of a site (of the level / category asked, open at the
    moment asked), the compounds left out, and each located unit's walk. With a
    ``candidate`` the site is counted as if it were built."""
    walk = circle_walk()
    model = model or circle_model()
    points = household_points(unit)
    sites = circle_sites(points, walk, level=level, category=category, open_at=open_at)
    if (
        candidate is not None
        and (not category or category in candidate.categories)
        and (not level or level == candidate.level)
        and (open_at is None or candidate.open_at)
    ):
        point = geo.validate_point(candidate.lat, candidate.lng, field="candidate")
        sites.append(
            SitePoint(0, "", candidate.level, point.lat, point.lng, set(candidate.categories))
        )
    nearest = _nearest(points, sites, walk, model)
    minutes = nearest.minutes(walk)
    cover = circle.coverage(nearest.metres, points.weights, points.community, walk)
    by_community = sorted(
        (
            {
                "unit_id": int(g),
                "name": points.names.get(int(g), ""),
                "households": int(h),
                "covered": int(c),
                "share": (int(c) / int(h)) if h else 0.0,
            }
            for g, h, c in zip(cover.groups, cover.households, cover.covered, strict=True)
        ),
        key=lambda r: (r["share"], r["name"]),
    )
    covered_mask = nearest.metres <= walk.reach_m
    compounds: dict[int, dict[str, Any]] = {}
    point_rows = []
    for i in range(len(points.unit_ids)):
        site_index = int(nearest.index[i])
        site = sites[site_index] if site_index >= 0 else None
        mins = float(minutes[i]) if np.isfinite(minutes[i]) else None
        point_rows.append(
            {
                "lat": float(points.lat[i]),
                "lng": float(points.lng[i]),
                "households": int(points.weights[i]),
                "minutes": round(mins, 1) if mins is not None else None,
                "covered": bool(covered_mask[i]),
                "site": site.name if site else "",
            }
        )
        if covered_mask[i]:
            continue
        key = int(points.compound[i]) or int(points.unit_ids[i])
        entry = compounds.setdefault(
            key,
            {"unit_id": key, "name": points.names.get(key, ""), "households": 0,
             "lat": float(points.lat[i]), "lng": float(points.lng[i]), "minutes": mins},
        )  # fmt: skip
        entry["households"] += int(points.weights[i])
    total = int(points.weights.sum())
    return CircleReport(
        model=model if model == "straight" or network.active_network() is not None else "straight",
        walk=walk,
        households=total,
        covered=int((points.weights * covered_mask).sum()),
        unlocated=points.unlocated,
        by_community=by_community,
        uncovered_compounds=sorted(compounds.values(), key=lambda c: -c["households"]),
        points=point_rows,
        sites=[
            {"id": s.id, "name": s.name, "level": s.level, "lat": s.lat, "lng": s.lng}
            for s in sites
        ],
    )
