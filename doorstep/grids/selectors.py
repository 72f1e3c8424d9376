"""Reads in grids: what balancing is planned from, grid lists and details, a grid
member's households with their last visit, and the grid map's data.

Every read of households, visits and wishes for a user goes through
:func:`doorstep.accounts.scoping.scoped`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants, scoped
from doorstep.accounts.selectors import role_holders
from doorstep.core import timeutils
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.core.tree import ancestor_paths, per_branch
from doorstep.orgs.choices import GRASSROOTS_KINDS, UnitKind
from doorstep.orgs.models import Unit
from doorstep.people.models import ON_REGISTER, Household, Person

from .balancing import (
    DEFAULT_MAX_SIZE,
    DEFAULT_PER_MEMBER,
    BalanceInput,
    GridIn,
    HouseholdIn,
    MemberIn,
    Plan,
    UnitIn,
    natural_key,
    plan_balance,
)
from .models import Grid, GridHousehold, Visit, Wish, WishStatus
from .rules import GRID_MANAGER_ROLES

DEFAULT_OVERDUE_DAYS = 90


# Roles that run grids for a community: they see its grid list, map and balancing.
def overdue_days() -> int:
    return int(settings.DOORSTEP.get("VISIT_OVERDUE_DAYS", DEFAULT_OVERDUE_DAYS))


# --- Who runs which grids --------------------------------------------------------------------


def managed_grassroots_units(user: Any) -> QuerySet[Unit]:
    """The communities and villages whose grids the user runs (scoped)."""
    anchors = [
        a
        for g in grants(user)
        if g.role in GRID_MANAGER_ROLES and (a := anchor_unit(g)) is not None
    ]
    if not anchors:
        return Unit.objects.none()
    q = Q()
    for anchor in anchors:
        q |= anchor.subtree_q() | Q(path__in=ancestor_paths(anchor.path))
    return scoped(user, Unit).filter(q, kind__in=sorted(GRASSROOTS_KINDS)).order_by("path")


def grid_member_ids(grid_ids: list[int], role: str = Role.GRID_MEMBER) -> dict[int, list[User]]:
    """Grid id → users holding ``role`` over it (active grants), by id."""
    out: dict[int, list[User]] = defaultdict(list)
    for assignment in role_holders(role=role, scope_kind="grid", scope_ids=grid_ids):
        if assignment.scope_id is not None:
            out[assignment.scope_id].append(assignment.user)
    return out


def grids_of(user: Any, *roles: str) -> list[int]:
    """Ids of the grids over which the user holds one of ``roles``."""
    return sorted(
        {g.scope.pk for g in grants(user) if g.role in roles and isinstance(g.scope, Grid)}
    )


# --- Balancing input -----------------------------------------------------------------------


def household_address(unit: UnitIn, parent: UnitIn | None, entrance: str, room: str) -> str:
    prefix = parent.name if parent is not None and unit.kind == UnitKind.BUILDING else ""
    return f"{prefix}{unit.name}{f'{entrance}单元' if entrance else ''}{room}"


def balance_input(unit: Unit, *, addresses: bool = True) -> tuple[BalanceInput, dict[int, str]]:
    """Everything a plan for ``unit`` (a community or village) is made from, in four
    queries, plus (unless ``addresses`` is false) each household's address for the report."""
    units = [
        UnitIn(*row)
        for row in Unit.objects.filter(unit.subtree_q())
        .order_by("path")
        .values_list("id", "parent_id", "path", "kind", "name", "lat", "lng")
    ]
    rows = (
        Household.objects.filter(unit.subtree_q(field="unit__path"), is_active=True)
        .order_by("id")
        .values_list(
            "id", "unit_id", "entrance", "room", "grid_link__grid_id", "grid_link__member_id"
        )
    )
    households = [HouseholdIn(*row) for row in rows]
    grids = [
        GridIn(*row)
        for row in Grid.objects.filter(unit=unit).order_by("id").values_list("id", "name")
    ]
    members = {
        grid_id: [MemberIn(user.pk, str(user)) for user in users]
        for grid_id, users in grid_member_ids([g.id for g in grids]).items()
    }
    root = next(u for u in units if u.id == unit.pk)
    by_id = {u.id: u for u in units}
    if not addresses:
        return BalanceInput(root, units, households, grids, members), {}
    address_of = {
        h.id: household_address(
            by_id[h.unit_id], by_id.get(by_id[h.unit_id].parent_id or 0), h.entrance, h.room
        )
        for h in households
    }
    return BalanceInput(root, units, households, grids, members), address_of


def balance_plan(
    *, unit: Unit, max_size: int = DEFAULT_MAX_SIZE, per_member: int = DEFAULT_PER_MEMBER
) -> Plan:
    data, addresses = balance_input(unit)
    return plan_balance(data, max_size=max_size, per_member=per_member, addresses=addresses)


def grassroots_units_under(unit: Unit) -> list[Unit]:
    """The unit itself when it is a community or village, else those below it."""
    if unit.kind in GRASSROOTS_KINDS:
        return [unit]
    return list(
        Unit.objects.filter(unit.subtree_q(), kind__in=sorted(GRASSROOTS_KINDS)).order_by("path")
    )


# --- Grid pages ----------------------------------------------------------------------------


@dataclass
class GridRow:
    grid: Grid
    households: int
    members: list[tuple[User, int]]  # member, households linked to them
    leaders: list[User]
    unlinked: int  # households with no member


def grid_rows(*, actor: Any, unit: Unit) -> list[GridRow]:
    """The community's grids with household counts and members, in a fixed number of
    queries."""
    grids = list(
        scoped(actor, Grid)
        .filter(unit=unit)
        .annotate(n=Count("household_links", filter=Q(household_links__household__is_active=True)))
    )
    grids.sort(key=lambda g: (natural_key(g.name), g.pk))
    ids = [g.pk for g in grids]
    members = grid_member_ids(ids)
    leaders = grid_member_ids(ids, Role.GRID_LEADER)
    per_member: dict[tuple[int, int | None], int] = {
        (row["grid_id"], row["member_id"]): row["n"]
        for row in GridHousehold.objects.filter(grid_id__in=ids, household__is_active=True)
        .values("grid_id", "member_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    return [
        GridRow(
            grid=g,
            households=g.n,
            members=[(u, per_member.get((g.pk, u.pk), 0)) for u in members.get(g.pk, [])],
            leaders=leaders.get(g.pk, []),
            unlinked=per_member.get((g.pk, None), 0),
        )
        for g in grids
    ]


def household_grids(household: Household) -> Q:
    """The grids a household may be placed in: the active grids of its community or
    village (the grassroots unit above its address)."""
    return Q(
        unit__path__in=ancestor_paths(household.unit.path),
        unit__kind__in=sorted(GRASSROOTS_KINDS),
        is_active=True,
    )


def household_community(household: Household) -> Unit | None:
    """The community or village a household's address lies in (the deepest one)."""
    return (
        Unit.objects.filter(
            path__in=ancestor_paths(household.unit.path), kind__in=sorted(GRASSROOTS_KINDS)
        )
        .order_by("-depth")
        .first()
    )


UNGRIDDED_SHOWN = 100


def households_in_no_grid(*, actor: Any) -> QuerySet[Household]:
    """The registered households the actor sees that are in no grid (moved in, or
    registered, after the last balancing)."""
    return scoped(actor, Household).filter(is_active=True, grid_link__isnull=True)


def households_without_grid(*, actor: Any, unit: Unit) -> QuerySet[Household]:
    """A community's or village's households in no grid, in address order."""
    return (
        households_in_no_grid(actor=actor)
        .filter(unit.subtree_q(field="unit__path"))
        .select_related("unit__parent", "head")
        .order_by("unit__path", "entrance", "room", "id")
    )


@dataclass
class AssignChoices:
    grids: list[tuple[int, str]]
    members: list[tuple[int, str]]  # user id, "grid · member"
    current: GridHousehold | None


def assign_choices(*, household: Household) -> AssignChoices:
    """The grids of the household's community and their members, and where the household
    is now: what the assignment form offers (the service checks the pair)."""
    grids = sorted(
        Grid.objects.filter(household_grids(household)), key=lambda g: (natural_key(g.name), g.pk)
    )
    members = grid_member_ids([g.pk for g in grids])
    current = (
        GridHousehold.objects.filter(household=household).select_related("grid", "member").first()
    )
    return AssignChoices(
        grids=[(g.pk, g.name) for g in grids],
        members=[(u.pk, f"{g.name} · {u}") for g in grids for u in members.get(g.pk, [])],
        current=current,
    )


def with_last_visit(
    qs: QuerySet[GridHousehold], *, today: dt.date, days: int
) -> QuerySet[GridHousehold]:
    """Annotate each link with its household's last visit, open wishes and whether it is
    overdue (no visit in ``days`` days); overdue first, longest unvisited first."""
    cutoff = today - dt.timedelta(days=days)
    last = Visit.objects.filter(household_id=OuterRef("household_id")).order_by(
        "-visited_on", "-id"
    )
    open_wishes = (
        Wish.objects.filter(household_id=OuterRef("household_id"), status=WishStatus.OPEN)
        .order_by()
        .values("household_id")
        .annotate(c=Count("id"))
        .values("c")
    )
    return (
        qs.select_related("household__unit__parent", "household__head", "member", "grid")
        .annotate(
            last_visit=Subquery(last.values("visited_on")[:1], output_field=DateField()),
            open_wishes=Coalesce(Subquery(open_wishes, output_field=IntegerField()), Value(0)),
            # Everyone moved away or died: the member checks, and the staff close it.
            on_register=Exists(
                Person.objects.filter(ON_REGISTER, household_id=OuterRef("household_id"))
            ),
        )
        .annotate(
            overdue=Case(
                When(Q(last_visit__isnull=True) | Q(last_visit__lt=cutoff), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(
            "-overdue",
            Coalesce("last_visit", Value(dt.date(1900, 1, 1))).asc(),
            "household__unit__path",
            "household__entrance",
            "household__room",
            "household_id",
        )
    )


def my_households(
    *, actor: Any, today: dt.date, days: int | None = None
) -> QuerySet[GridHousehold]:
    """A grid member's households (linked to them) and, for a grid leader, every
    household of their grid — scoped, with last visit and overdue flag."""
    member_grids = grids_of(actor, Role.GRID_MEMBER)
    leader_grids = grids_of(actor, Role.GRID_LEADER)
    if not member_grids and not leader_grids:
        return GridHousehold.objects.none()
    q = Q(grid_id__in=leader_grids) | Q(grid_id__in=member_grids, member_id=actor.pk)
    qs = scoped(actor, GridHousehold).filter(q, household__is_active=True)
    return with_last_visit(qs, today=today, days=days if days is not None else overdue_days())


def grid_households(*, actor: Any, grid: Grid, today: dt.date) -> QuerySet[GridHousehold]:
    qs = scoped(actor, GridHousehold).filter(grid=grid, household__is_active=True)
    return with_last_visit(qs, today=today, days=overdue_days())


def household_visits(*, actor: Any, household: Household) -> QuerySet[Visit]:
    return (
        scoped(actor, Visit)
        .filter(household=household)
        .select_related("visitor")
        .prefetch_related("wishes")
        .order_by("-visited_on", "-id")
    )


def household_wishes(*, actor: Any, household: Household) -> QuerySet[Wish]:
    return scoped(actor, Wish).filter(household=household).order_by("-created_at", "-id")


# --- The grid map --------------------------------------------------------------------------


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (Andrew's monotone chain) of (lng, lat) points, counter-clockwise."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _outline(points: list[tuple[float, float]], pad: float = 0.0003) -> dict | None:
    """A GeoJSON polygon around ``points``: their hull, or a small box around one or two
    points, grown by ``pad`` degrees (about 30 m) so that a building is inside it."""
    if not points:
        return None
    hull = _hull(points)
    if len(hull) < 3:
        lngs, lats = [p[0] for p in points], [p[1] for p in points]
        w, e, s, n = min(lngs) - pad, max(lngs) + pad, min(lats) - pad, max(lats) + pad
        ring = [(w, s), (e, s), (e, n), (w, n)]
    else:
        cx = sum(p[0] for p in hull) / len(hull)
        cy = sum(p[1] for p in hull) / len(hull)
        ring = []
        for x, y in hull:
            dx, dy = x - cx, y - cy
            length = (dx * dx + dy * dy) ** 0.5 or 1.0
            ring.append((x + pad * dx / length, y + pad * dy / length))
    coords = [[round(x, 6), round(y, 6)] for x, y in ring]
    return {"type": "Polygon", "coordinates": [[*coords, coords[0]]]}


PALETTE_SIZE = 12  # the legend's .grid-color-N classes and PALETTE in grid-map.js
NEIGHBOURS = 5


def map_colours(centres: list[tuple[float, float] | None]) -> list[int]:
    """A palette colour per grid such that no grid shares one with its nearest
    ``NEIGHBOURS`` grids (by centre, either way round): a community of sixteen grids and
    a palette of twelve once drew 第1网格 and 第13网格 side by side in the same red.
    Greedy in grid order: each grid takes the first colour its coloured neighbours do not
    have, counting from its own place in the rotation (so that far-apart grids spread
    over the palette); a grid with no position keeps its place in the rotation."""
    n = len(centres)
    near: list[set[int]] = [set() for _ in range(n)]
    placed = [(i, c) for i, c in enumerate(centres) if c is not None]
    points = dict(placed)
    for i, (x, y) in placed:
        ranked = sorted(
            (j for j, _c in placed if j != i),
            key=lambda j: (points[j][0] - x) ** 2 + (points[j][1] - y) ** 2,
        )
        for j in ranked[:NEIGHBOURS]:
            near[i].add(j)
            near[j].add(i)
    colours: list[int] = []
    for i in range(n):
        taken = {colours[j] for j in near[i] if j < i}
        start = i % PALETTE_SIZE
        colours.append(
            next(
                (c for k in range(PALETTE_SIZE) if (c := (start + k) % PALETTE_SIZE) not in taken),
                start,
            )
        )
    return colours


def grid_map_data(*, actor: Any, unit: Unit) -> dict[str, Any]:
    """Grids (their boundary, or an outline drawn around their buildings) and one marker
    per building and grid, at the building's point — a household takes the coordinates
    of its unit or of the nearest ancestor that has them."""
    located: dict[int, tuple[float, float] | None] = {}
    names: dict[int, str] = {}
    ancestors = Unit.objects.filter(path__in=ancestor_paths(unit.path)).order_by("path")
    inherited: tuple[float, float] | None = None
    for a in ancestors.values_list("lat", "lng"):
        if a[0] is not None and a[1] is not None:
            inherited = (a[0], a[1])
    for uid, parent_id, lat, lng, name in (
        Unit.objects.filter(unit.subtree_q())
        .order_by("path")
        .values_list("id", "parent_id", "lat", "lng", "name")
    ):
        if lat is not None and lng is not None:
            located[uid] = (lat, lng)
        elif parent_id in located:
            located[uid] = located[parent_id]
        else:
            located[uid] = inherited if uid == unit.pk else None
        names[uid] = name
    grids = list(scoped(actor, Grid).filter(unit=unit))
    grids.sort(key=lambda g: (natural_key(g.name), g.pk))
    counts = (
        scoped(actor, GridHousehold)
        .filter(grid__unit=unit, household__is_active=True)
        .values("grid_id", "household__unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    index = {g.pk: i for i, g in enumerate(grids)}
    markers = []
    points: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for row in counts:
        point = located.get(row["household__unit_id"])
        if point is None or row["grid_id"] not in index:
            continue
        markers.append(
            {
                "lat": point[0],
                "lng": point[1],
                "grid": index[row["grid_id"]],
                "label": names.get(row["household__unit_id"], ""),
                "households": row["n"],
            }
        )
        points[row["grid_id"]].append((point[1], point[0]))
    markers.sort(key=lambda m: (m["grid"], m["label"]))
    centres: list[tuple[float, float] | None] = []
    for g in grids:
        mine = points.get(g.pk, [])
        centres.append(
            (sum(p[0] for p in mine) / len(mine), sum(p[1] for p in mine) / len(mine))
            if mine
            else None
        )
    colours = map_colours(centres)
    for marker in markers:
        marker["colour"] = colours[marker["grid"]]
    out_grids = []
    for g in grids:
        boundary, drawn = g.boundary, False
        if boundary is None:
            boundary, drawn = _outline(points.get(g.pk, [])), True
        out_grids.append(
            {
                "index": index[g.pk],
                "colour": colours[index[g.pk]],  # the legend's .grid-color-N class
                "name": g.name,
                "boundary": boundary,
                "estimated": drawn,
                "households": sum(m["households"] for m in markers if m["grid"] == index[g.pk]),
            }
        )
    center = located.get(unit.pk)
    return {
        "grids": out_grids,
        "markers": markers,
        "center": list(center) if center else None,
        "tileUrl": settings.DOORSTEP.get("MAP_TILE_URL", ""),
    }


# --- Figures for leaders -------------------------------------------------------------------


def period_figures(
    *, actor: Any, unit: Unit, start: dt.date, end: dt.date, today: dt.date | None = None
) -> dict[str, Any]:
    """Grid work in a unit's subtree (入户走访), over what the actor may see: visits made
    from ``start`` to ``end`` (local dates, both included), the households they reached
    and the share of the households now in grids that this is, wishes found on them; and,
    whatever the period, the households in grids now and how many are overdue a visit
    (none within the overdue days). Four aggregate queries."""
    today = today or timezone.localdate()
    linked = scoped(actor, GridHousehold).filter(
        unit.subtree_q(field="household__unit__path"), household__is_active=True
    )
    cutoff = today - dt.timedelta(days=overdue_days())
    recent = Visit.objects.filter(household_id=OuterRef("household_id"), visited_on__gte=cutoff)
    now = linked.aggregate(
        households=Count("id"),
        overdue=Count("id", filter=~Q(Exists(recent))),
    )
    visits = (
        scoped(actor, Visit)
        .filter(unit.subtree_q(field="household__unit__path"))
        .filter(visited_on__gte=start, visited_on__lte=end)
        .aggregate(
            visits=Count("id"),
            visited=Count("household_id", distinct=True, filter=Q(household__is_active=True)),
        )
    )
    begin = dt.datetime.combine(start, dt.time(0), tzinfo=LOCAL_TZ)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
    wishes = (
        scoped(actor, Wish)
        .filter(unit.subtree_q(field="household__unit__path"))
        .filter(created_at__gte=begin, created_at__lt=finish)
        .count()
    )
    households = now["households"]
    return {
        "households": households,
        "overdue": now["overdue"],
        "visits": visits["visits"],
        "visited": visits["visited"],
        "coverage": round(100 * visits["visited"] / households, 1) if households else None,
        "wishes": wishes,
    }


def coverage_by_branch(
    *, actor: Any, unit: Unit, start: dt.date, end: dt.date
) -> dict[str, float | None]:
    """``period_figures``' coverage per unit directly below ``unit`` (keyed by its path):
    the share of each branch's households in grids visited in the period. Two queries."""
    households = per_branch(
        scoped(actor, GridHousehold).filter(household__is_active=True),
        field="household__unit__path",
        path=unit.path,
        n=Count("id"),
    )
    visited = per_branch(
        scoped(actor, Visit).filter(
            visited_on__gte=start, visited_on__lte=end, household__is_active=True
        ),
        field="household__unit__path",
        path=unit.path,
        n=Count("household_id", distinct=True),
    )
    return {
        branch: round(100 * visited.get(branch, {}).get("n", 0) / row["n"], 1)
        for branch, row in households.items()
        if row["n"]
    }


def monthly_visits(*, actor: Any, unit: Unit, months: list[dt.date]) -> dict[dt.date, int]:
    """Home visits in a unit's subtree for each month (given by its first day), in one
    query of conditional counts."""
    if not months:
        return {}
    bounds = [
        tuple(moment.date() for moment in timeutils.month_bounds(first.year, first.month))
        for first in months
    ]
    counts = (
        scoped(actor, Visit)
        .filter(unit.subtree_q(field="household__unit__path"))
        .filter(visited_on__gte=bounds[0][0], visited_on__lt=bounds[-1][1])
        .aggregate(
            **{
                f"v{n}": Count("id", filter=Q(visited_on__gte=a, visited_on__lt=b))
                for n, (a, b) in enumerate(bounds)
            }
        )
    )
    return {first: counts[f"v{n}"] for n, first in enumerate(months)}
