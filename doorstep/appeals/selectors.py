"""Reads in appeals. Every read of case rows for a user goes through the scoping
checkpoint; the public board, the receipt lookup and the wish wall read only the public
columns (no reporter, no household), and the free text among them (a result, a wish)
has its personal data masked (:mod:`.publicity`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import scoped
from doorstep.core import timeutils
from doorstep.core.errors import ValidationError
from doorstep.core.geo import Point, haversine_m
from doorstep.core.inputs import key_from_text
from doorstep.core.tree import ancestor_paths, per_branch, subtree_q
from doorstep.orgs.models import Unit
from doorstep.people.models import Household, Person

from .choices import (
    OPEN_STATES,
    SATISFIED_AT_LEAST,
    CaseKind,
    CaseState,
    Color,
    MediationOutcome,
)
from .conf import conf
from .models import Case, CaseEvent, Category, JointTask, Mediation, MonthlyClassification, Rating
from .publicity import mask_personal, mask_rows

LIST_RELATIONS = ("category", "community", "compound", "grid")
# Columns the public may see, and nothing else.
PUBLIC_FIELDS = (
    "id",
    "receipt_code",
    "kind",
    "category__name",
    "compound__name",
    "community__name",
    "color",
    "state",
    "level",
    "created_at",
    "deadline",
    "resolved_at",
    "closed_at",
    "result",
    "party_org__name",
)


def categories() -> QuerySet[Category]:
    return (
        Category.objects.filter(is_active=True)
        .select_related("parent")
        .order_by("parent__order", "order", "code")
    )


def leaf_categories() -> QuerySet[Category]:
    return categories().filter(children__isnull=True)


# Every intake needs its category, and categories change a few times a year: each
# active one is kept in Django's cache under its code, with ``has_children`` set, since
# a case needs a leaf. With Redis the entries are shared by the worker processes and a
# change drops them for all; without it each process keeps its own and another worker
# sees a change when its entry expires, within a minute.
INTAKE_CATEGORY_KEY = "appeals:intake-category:{}"
INTAKE_CATEGORY_TTL_S = 60


def intake_category(code: str) -> Category | None:
    """The active category with ``code``, or None. Kept in the cache until a category
    changes (:func:`forget_intake_categories`) or for a minute; codes that name no
    active category are not kept, so unknown codes cannot fill the cache."""
    key = INTAKE_CATEGORY_KEY.format(code)
    found: Category | None = cache.get(key)
    if found is None:
        found = (
            Category.objects.filter(code=code, is_active=True)
            .annotate(
                has_children=Exists(Category.objects.filter(parent=OuterRef("pk"), is_active=True))
            )
            .first()
        )
        if found is not None:
            cache.set(key, found, INTAKE_CATEGORY_TTL_S)
    return found


def forget_intake_categories() -> None:
    """Drop every kept category, now and again when the current transaction commits (so
    that an intake reading the old row meanwhile cannot keep it past the change). Called
    by every service that writes categories."""

    def forget() -> None:
        codes = Category.objects.values_list("code", flat=True)
        cache.delete_many([INTAKE_CATEGORY_KEY.format(code) for code in codes])

    forget()
    transaction.on_commit(forget)


def case_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Case]:
    """The cases the actor may see, filtered by color, state, kind, category, unit."""
    f = filters or {}
    qs = scoped(actor, Case).select_related(*LIST_RELATIONS)
    if f.get("color") in Color.values:
        qs = qs.filter(color=f["color"])
    if f.get("state") == "open":
        qs = qs.filter(state__in=sorted(OPEN_STATES))
    elif f.get("state") in CaseState.values:
        qs = qs.filter(state=f["state"])
    if f.get("kind") in CaseKind.values:
        qs = qs.filter(kind=f["kind"])
    if f.get("category"):
        qs = qs.filter(category__code=f["category"])
    unit = f.get("unit")
    if isinstance(unit, Unit):
        qs = qs.filter(subtree_q(unit.path, field="unit_path"))
    return qs.order_by("-id")


def case_detail(*, actor: Any, pk: int) -> Case:
    from doorstep.accounts.scoping import get_scoped_or_404

    return get_scoped_or_404(
        actor,
        Case,
        Case.objects.select_related(
            *LIST_RELATIONS, "unit", "party_org", "assignee", "reporter_person", "merged_into"
        ),
        pk=pk,
    )


def case_household(*, actor: Any, case: Case) -> tuple[Household | None, bool]:
    """The household a case is about, when the actor may see it in the registry (its
    address down to the room, for the walk there), and whether its grid page (visits,
    wishes, members) is open to them too."""
    if not case.household_id:
        return None, False
    household = scoped(actor, Household).select_related("unit").filter(pk=case.household_id).first()
    if household is None:
        return None, False
    from doorstep.grids.models import GridHousehold

    return household, scoped(actor, GridHousehold).filter(household_id=household.pk).exists()


def case_timeline(*, case: Case, public_only: bool = False) -> QuerySet[CaseEvent]:
    qs = CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")
    return qs.filter(is_public=True) if public_only else qs


@dataclass
class Page:
    """A page of rows without a COUNT over the whole table: one query for the rows
    (one more than the page size tells whether there is a next page)."""

    rows: list[Any]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def paginate(qs: Any, page: Any, size: int = 50) -> Page:
    try:
        number = max(1, min(int(page or 1), 10_000))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * size
    rows = list(qs[start : start + size + 1])
    return Page(rows=rows[:size], number=number, has_next=len(rows) > size)


def triage_board(
    *, actor: Any, unit: Unit, filters: dict[str, Any], page: Any = 1, size: int = 50
) -> Page:
    """A community's (or a street's …) cases by color and state, newest first."""
    qs = case_list(actor=actor, filters={**filters, "unit": unit}).select_related("assignee")
    return paginate(qs, page, size)


def board_counts(*, actor: Any, unit: Unit) -> dict[str, dict[str, int]]:
    """Open cases per color and state in the unit's subtree (one grouped query)."""
    rows = (
        scoped(actor, Case)
        .filter(subtree_q(unit.path, field="unit_path"), state__in=sorted(OPEN_STATES))
        .values("color", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    out: dict[str, dict[str, int]] = {c: {} for c in Color.values}
    for row in rows:
        out[row["color"]][row["state"]] = row["n"]
    return out


def overdue_cases(
    *, actor: Any, unit: Unit | None = None, now: dt.datetime | None = None
) -> QuerySet[Case]:
    moment = now or timeutils.now()
    qs = scoped(actor, Case).filter(state__in=sorted(OPEN_STATES), deadline__lt=moment)
    if unit is not None:
        qs = qs.filter(subtree_q(unit.path, field="unit_path"))
    return qs.select_related(*LIST_RELATIONS, "assignee").order_by("deadline", "id")


def grid_queue(*, actor: Any) -> QuerySet[Case]:
    """A grid member's queue: their grid's open cases at grid level, due first, with
    where each is (the household's address, else the place) for the walk there."""
    from doorstep.accounts.scoping import grants

    grid_ids = [g.scope.pk for g in grants(actor) if g.role in ("grid_member", "grid_leader")]
    return (
        scoped(actor, Case)
        .filter(grid_id__in=grid_ids, state__in=sorted(OPEN_STATES))
        .select_related(*LIST_RELATIONS, "unit", "household__unit")
        .order_by("deadline", "id")
    )


def my_cases(*, actor: Any) -> QuerySet[Case]:
    return (
        Case.objects.filter(Q(reporter_user=actor) | Q(follows__user=actor))
        .distinct()
        .select_related(*LIST_RELATIONS)
        .order_by("-id")
    )


def department_tasks(*, actor: Any, state: str = "") -> QuerySet[JointTask]:
    qs = scoped(actor, JointTask).select_related("case__category", "case__community", "department")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("state", "deadline", "id")


def joint_cases(*, actor: Any) -> QuerySet[Case]:
    return (
        scoped(actor, Case)
        .filter(is_joint=True)
        .select_related(*LIST_RELATIONS, "party_org")
        .order_by("-id")
    )


def tasks_of(cases: list[Case]) -> dict[int, list[JointTask]]:
    out: dict[int, list[JointTask]] = {c.pk: [] for c in cases}
    for task in JointTask.objects.filter(case__in=cases).select_related("department"):
        out[task.case_id].append(task)
    return out


# --- Public -----------------------------------------------------------------------------


def public_cases() -> QuerySet[Case]:
    return Case.objects.filter(is_public=True).exclude(state=CaseState.MERGED)


def public_board(
    *, unit: Unit, filters: dict[str, Any] | None = None, page: Any = 1, size: int = 50
) -> Page:
    """Every public case in the unit's subtree, public columns only."""
    f = filters or {}
    qs = public_cases().filter(subtree_q(unit.path, field="unit_path"))
    if f.get("color") in Color.values:
        qs = qs.filter(color=f["color"])
    if f.get("state") == "open":
        qs = qs.filter(state__in=sorted(OPEN_STATES))
    elif f.get("state") in CaseState.values:
        qs = qs.filter(state=f["state"])
    result = paginate(qs.order_by("-id").values(*PUBLIC_FIELDS), page, size)
    mask_rows(result.rows)
    return result


def public_summary(*, unit: Unit, since: dt.datetime | None = None) -> dict[str, Any]:
    """What the public board says of a place: of its public cases (those submitted
    since ``since``, if given), how many, open and done; over the last year, the share
    resolved on time and the residents' satisfaction."""
    qs = public_cases().filter(subtree_q(unit.path, field="unit_path"))
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = qs.values("state").annotate(n=Count("id")).order_by()
    by_state = {row["state"]: row["n"] for row in rows}
    # The rates are of the last year's work, over every case of the place (a share
    # names no one): each is one range of an index, however large the place.
    year_ago = timeutils.now() - dt.timedelta(days=365)
    timed = Case.objects.filter(
        subtree_q(unit.path, field="unit_path"), resolved_at__gte=year_ago
    ).aggregate(timed=Count("id", filter=Q(resolved_on_time__isnull=False)),
                on_time=Count("id", filter=Q(resolved_on_time=True)))  # fmt: skip
    ratings = Rating.objects.filter(
        subtree_q(unit.path, field="unit_path"), created_at__gte=year_ago
    ).aggregate(given=Count("id"), satisfied=Count("id", filter=Q(score__gte=SATISFIED_AT_LEAST)))

    def share(part: int, whole: int) -> float | None:
        return round(part * 100 / whole, 1) if whole else None

    return {
        "total": sum(by_state.values()),
        "open": sum(n for s, n in by_state.items() if s in OPEN_STATES),
        "done": sum(
            n
            for s, n in by_state.items()
            if s in (CaseState.RESOLVED, CaseState.RATED, CaseState.CLOSED)
        ),
        # As on the leaders' figures page, over the last 365 days: the cases resolved by
        # their deadline (of those resolved with one), and the share of 4s and 5s among
        # every rating given.
        "on_time_rate": share(timed["on_time"], timed["timed"]),
        "ratings": ratings["given"],
        "satisfaction": share(ratings["satisfied"], ratings["given"]),
    }


def receipt_lookup(code: str) -> dict[str, Any] | None:
    cleaned = (code or "").strip().upper()
    if not cleaned or len(cleaned) > 12:
        return None
    row = public_cases().filter(receipt_code=cleaned).values(*PUBLIC_FIELDS).first()
    if row is not None:
        mask_rows([row])
    return row


def public_result(case: Case) -> str:
    """A case's result as the public may read it (personal data masked)."""
    if not case.result:
        return ""
    from .publicity import case_names

    return mask_personal(case.result, case_names([case.pk]).get(case.pk, ()))


def receipt_rateable(case_id: int) -> bool:
    """Whether a case found by its receipt code can be rated there: resolved, and
    entered with a phone to check against."""
    return (
        public_cases()
        .filter(pk=case_id, state=CaseState.RESOLVED)
        .exclude(receipt_check="")
        .exists()
    )


def public_timeline(case_id: int) -> list[Any]:
    """Public events of a case, without who took them."""
    return list(
        CaseEvent.objects.filter(case_id=case_id, is_public=True)
        .order_by("at", "id")
        .values("action", "at", "from_state", "to_state", "to_color")
    )


def wish_wall(unit: Unit | None = None) -> QuerySet[Case]:
    qs = public_cases().filter(kind=CaseKind.WISH).exclude(state=CaseState.REJECTED)
    if unit is not None:
        qs = qs.filter(subtree_q(unit.path, field="unit_path"))
    return qs


def wish_wall_rows(*, unit: Unit | None = None, page: Any = 1) -> Page:
    from django.db.models import FilteredRelation

    qs = (
        wish_wall(unit)
        .annotate(
            active_claim=FilteredRelation("claims", condition=Q(claims__withdrawn_at__isnull=True))
        )
        .values(
            "id",
            "receipt_code",
            "text",
            "state",
            "compound__name",
            "community__name",
            "created_at",
            "active_claim__claimant_label",
            "active_claim__fulfilled_at",
        )
        .order_by("-id")
    )
    result = paginate(qs, page, 50)
    mask_rows(result.rows, fields=("text",))
    return result


# --- Figures -----------------------------------------------------------------------------


def suggestion_figures(
    *,
    unit: Unit,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    actor: Any = None,
) -> dict[str, int]:
    """ "235 suggestions collected, 112 problems solved": collected, adopted, solved;
    counted over the cases ``actor`` may see when one is given."""
    base = scoped(actor, Case) if actor is not None else Case.objects.all()
    qs = base.filter(subtree_q(unit.path, field="unit_path"), kind=CaseKind.SUGGESTION)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs.aggregate(
        collected=Count("id"),
        adopted=Count("id", filter=Q(adopted=True)),
        solved=Count("id", filter=Q(problem_solved=True)),
    )


def disputes_resolved(
    *, unit: Unit, start: dt.datetime, end: dt.datetime, actor: Any = None
) -> dict[str, int]:
    base = scoped(actor, Mediation) if actor is not None else Mediation.objects.all()
    qs = base.filter(
        subtree_q(unit.path, field="case__unit_path"),
        concluded_at__gte=start,
        concluded_at__lt=end,
    )
    return qs.aggregate(
        concluded=Count("id"),
        agreements=Count("id", filter=Q(outcome=MediationOutcome.AGREEMENT)),
    )


def period_figures(
    *, actor: Any, unit: Unit, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """A place's appeals over a period, counted over the cases the actor may see in the
    unit's subtree: received (by color; rejected and merged among them); resolved, and
    how many of those by the deadline then in force (of those that had one); the
    ratings residents gave in the period and the share of them 4 or 5 (every rating
    counts, the unsatisfied one that reopened a case and the one after it); cases
    closed unrated in the period; what is open now and overdue."""
    return _period_figures(actor=actor, unit=unit, start=start, end=end, branches=False)[unit.path]


def period_figures_by_branch(
    *, actor: Any, unit: Unit, start: dt.datetime, end: dt.datetime, paths: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """``period_figures`` for each unit directly below ``unit`` at once (five queries
    whatever their number), keyed by that unit's path; the cases placed at ``unit``
    itself are under ``unit.path``. A branch with no case is absent unless its path is
    among ``paths``."""
    return _period_figures(actor=actor, unit=unit, start=start, end=end, branches=True, paths=paths)


def _period_figures(
    *,
    actor: Any,
    unit: Unit,
    start: dt.datetime,
    end: dt.datetime,
    branches: bool,
    paths: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    cases = scoped(actor, Case).filter(subtree_q(unit.path, field="unit_path"))

    def counted(qs: QuerySet[Any], **counts: Count) -> dict[str, dict[str, int]]:
        if not branches:
            return {unit.path: qs.aggregate(**counts)}
        return per_branch(qs, field="unit_path", path=unit.path, **counts)

    received = counted(
        cases.filter(created_at__gte=start, created_at__lt=end),
        total=Count("id"),
        green=Count("id", filter=Q(color=Color.GREEN)),
        yellow=Count("id", filter=Q(color=Color.YELLOW)),
        red=Count("id", filter=Q(color=Color.RED)),
        rejected=Count("id", filter=Q(state=CaseState.REJECTED)),
        merged=Count("id", filter=Q(state=CaseState.MERGED)),
    )
    resolved = counted(
        cases.filter(resolved_at__gte=start, resolved_at__lt=end),
        total=Count("id"),
        timed=Count("id", filter=Q(resolved_on_time__isnull=False)),
        on_time=Count("id", filter=Q(resolved_on_time=True)),
    )
    # Every rating residents gave in the period counts: an unsatisfied one reopens the
    # case, and the rating after it is handled again is counted too. (The latest rating
    # of closed cases alone would be near 100% by construction: an unsatisfied rating
    # never closes a case.)
    ratings = counted(
        # A rating keeps its case's path: one range of its own index, no join.
        scoped(actor, Rating).filter(
            subtree_q(unit.path, field="unit_path"),
            created_at__gte=start,
            created_at__lt=end,
        ),
        given=Count("id"),
        satisfied=Count("id", filter=Q(score__gte=SATISFIED_AT_LEAST)),
    )
    closed = counted(
        cases.filter(closed_at__gte=start, closed_at__lt=end, closed_unrated=True),
        unrated=Count("id"),
    )
    now = timeutils.now()
    open_now = counted(
        cases.filter(state__in=sorted(OPEN_STATES)),
        total=Count("id"),
        overdue=Count("id", filter=Q(deadline__lt=now)),
    )

    def share(part: int, whole: int) -> float | None:
        return round(part * 100 / whole, 1) if whole else None

    figures: dict[str, dict[str, Any]] = {}
    for branch in {*received, *resolved, *ratings, *closed, *open_now, *paths}:
        r = received.get(branch) or dict.fromkeys(
            ("total", "green", "yellow", "red", "rejected", "merged"), 0
        )
        d = resolved.get(branch) or dict.fromkeys(("total", "timed", "on_time"), 0)
        g = ratings.get(branch) or dict.fromkeys(("given", "satisfied"), 0)
        o = open_now.get(branch) or dict.fromkeys(("total", "overdue"), 0)
        figures[branch] = {
            "received": r,
            "resolved": {**d, "on_time_rate": share(d["on_time"], d["timed"])},
            "ratings": {**g, "satisfaction": share(g["satisfied"], g["given"])},
            "closed": closed.get(branch) or {"unrated": 0},
            "open": o,
        }
    return figures


def monthly_trend(
    *, actor: Any, unit: Unit, months: list[dt.date]
) -> dict[dt.date, dict[str, int]]:
    """For each local month (given by its first day, in order): the cases received and
    resolved in it, counted over the cases the actor may see in the unit's subtree, as
    ``period_figures`` counts them. Two queries, each one range of the subtree with a
    count per month (no per-row date function, which SQLite would run in Python)."""
    cases = scoped(actor, Case).filter(subtree_q(unit.path, field="unit_path"))
    bounds = [timeutils.month_bounds(first.year, first.month) for first in months]
    figures: dict[dt.date, dict[str, int]] = {m: {"received": 0, "resolved": 0} for m in months}
    if not months:
        return figures
    for field, key in (("created_at", "received"), ("resolved_at", "resolved")):
        counts = cases.filter(
            **{f"{field}__gte": bounds[0][0], f"{field}__lt": bounds[-1][1]}
        ).aggregate(
            **{
                f"m{n}": Count("id", filter=Q(**{f"{field}__gte": a, f"{field}__lt": b}))
                for n, (a, b) in enumerate(bounds)
            }
        )
        for n, first in enumerate(months):
            figures[first][key] = counts[f"m{n}"]
    return figures


def ratings_of(case: Case) -> QuerySet[Rating]:
    return Rating.objects.filter(case=case).order_by("id")


# --- Month end --------------------------------------------------------------------------------


def month_cases(*, community: Unit, year: int, month: int) -> QuerySet[Case]:
    start, end = timeutils.month_bounds(year, month)
    return (
        Case.objects.filter(
            subtree_q(community.path, field="unit_path"), created_at__gte=start, created_at__lt=end
        )
        .exclude(state=CaseState.MERGED)
        .select_related("category", "compound")
        .order_by("color", "id")
    )


def classifications(*, community: Unit) -> QuerySet[MonthlyClassification]:
    return MonthlyClassification.objects.filter(community=community).select_related(
        "classified_by", "published_by"
    )


def published_sheet(
    *, community: Unit, year: int, month: int
) -> tuple[MonthlyClassification | None, list[dict[str, Any]]]:
    record = MonthlyClassification.objects.filter(
        community=community, month=dt.date(year, month, 1), published_at__isnull=False
    ).first()
    if record is None:
        return None, []
    start, end = timeutils.month_bounds(year, month)
    rows = list(
        public_cases()
        .filter(
            subtree_q(community.path, field="unit_path"), created_at__gte=start, created_at__lt=end
        )
        .order_by("color", "id")
        .values(*PUBLIC_FIELDS)
    )
    return record, mask_rows(rows)


# --- Duplicates ---------------------------------------------------------------------------


def duplicates_near(
    *,
    category: Category,
    lat: float | None,
    lng: float | None,
    unit: Unit | None = None,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Open public cases of the same category within the configured radius (200 m) of
    the point, nearest first; without a point, open cases of the category in the same
    compound or community."""
    qs = public_cases().filter(category=category, state__in=sorted(OPEN_STATES))
    if lat is None or lng is None:
        if unit is None:
            return []
        return mask_rows(
            list(
                qs.filter(unit_path__startswith=unit.path)
                .order_by("-id")
                .values(*PUBLIC_FIELDS)[:limit]
            )
        )
    radius = conf("DUPLICATE_RADIUS_M")
    box = radius / 111_000 * 1.2
    here = Point(float(lat), float(lng))
    near = []
    for row in qs.filter(
        lat__gte=here.lat - box,
        lat__lte=here.lat + box,
        lng__gte=here.lng - box * 1.5,
        lng__lte=here.lng + box * 1.5,
    ).values(*PUBLIC_FIELDS, "lat", "lng")[:200]:
        distance = haversine_m(here, Point(row["lat"], row["lng"]))
        if distance <= radius:
            near.append({**row, "distance": round(distance)})
    return mask_rows(sorted(near, key=lambda r: r["distance"])[:limit])


# --- Page helpers ---------------------------------------------------------------------------


def scoped_case(*, actor: Any, pk: int) -> Case | None:
    return (
        scoped(actor, Case)
        .select_related(*LIST_RELATIONS, "unit", "party_org", "merged_into")
        .filter(pk=pk)
        .first()
    )


def report_places(limit: int = 3000) -> list[Unit]:
    """Compounds and natural villages a resident can pick from (active ones, by place),
    each with its community or village (``parent``) to group them by, and its point."""
    return list(
        Unit.objects.filter(kind__in=["compound", "natural_village"], is_active=True)
        .select_related("parent")
        .order_by("path")
        .only("id", "name", "path", "lat", "lng", "parent__name")[:limit]
    )


def home_place(user: Any) -> Unit | None:
    """The compound or natural village a resident lives in (from their registry record's
    household), for the report form to start at; None when the account is linked to no
    household, or the resident moved away."""
    if not getattr(user, "is_authenticated", False):
        return None
    unit_path = (
        scoped(user, Person)
        .filter(user_id=user.pk, household__isnull=False, pseudonymized_at=None, left_on=None)
        .values_list("household__unit__path", flat=True)
        .first()
    )
    if not unit_path:
        return None
    return (
        Unit.objects.filter(
            path__in=ancestor_paths(unit_path), kind__in=["compound", "natural_village"]
        )
        .order_by("-path")
        .first()
    )


def intake_household(*, actor: Any, raw: Any) -> Household | None:
    """The household a staff member enters a case for (its id as sent), if they may see
    it and it is still on the register; None otherwise."""
    pk = key_from_text(str(raw or ""))
    if pk is None:
        return None
    return (
        scoped(actor, Household)
        .filter(pk=pk, is_active=True)
        .select_related("unit", "head")
        .first()
    )


def console_places(*, actor: Any, limit: int = 3000) -> list[Unit]:
    """Communities, villages, compounds and buildings the staff member may enter for."""
    return list(
        scoped(actor, Unit)
        .filter(
            kind__in=["community", "village", "compound", "natural_village", "building"],
            is_active=True,
        )
        .select_related("parent")
        .order_by("path")[:limit]
    )


def board_directory() -> list[dict[str, Any]]:
    """Top units with their communities and villages, for the public boards' index."""
    tops = list(Unit.objects.filter(parent__isnull=True, is_active=True).order_by("path"))
    out = []
    for top in tops:
        units = list(
            Unit.objects.filter(
                top.subtree_q(), kind__in=["community", "village"], is_active=True
            ).order_by("path")[:500]
        )
        out.append({"top": top, "units": units})
    return out


def published_months(*, community: Unit) -> list[MonthlyClassification]:
    return list(
        MonthlyClassification.objects.filter(
            community=community, published_at__isnull=False
        ).order_by("-month")[:12]
    )


def my_notifications(*, actor: Any) -> QuerySet[Any]:
    from .models import Notification

    return scoped(actor, Notification).select_related("case").order_by("-id")


def wishes_waiting(*, actor: Any) -> QuerySet[Any]:
    """Wishes logged on visits in the actor's scope that are not cases yet."""
    from doorstep.grids.models import Wish, WishStatus

    return (
        scoped(actor, Wish)
        .filter(case__isnull=True, status=WishStatus.OPEN)
        .select_related("household__unit")
        .order_by("-id")
    )


def task_departments(*, actor: Any, case: Case) -> list[Any]:
    """Departments the actor may bring into this red case: those serving a unit above
    the case's place, not yet in it."""
    from doorstep.core.tree import ancestor_paths
    from doorstep.orgs.models import Department

    if not case.is_joint or case.state not in OPEN_STATES:
        return []
    taken = JointTask.objects.filter(case=case).values("department_id")
    return list(
        scoped(actor, Department)
        .filter(unit__path__in=ancestor_paths(case.unit_path), is_active=True)
        .exclude(pk__in=taken)
        .order_by("unit__path", "name")
    )


# --- Console: disputes, suggestions, categories ------------------------------------------


def dispute_list(
    *, actor: Any, unit: Unit, outcome: str = "", kind_only: bool = True
) -> QuerySet[Case]:
    """Disputes in the unit's subtree that the actor may see, with their mediation."""
    qs = (
        scoped(actor, Case)
        .filter(subtree_q(unit.path, field="unit_path"), kind=CaseKind.DISPUTE)
        .select_related(*LIST_RELATIONS, "mediation__mediator", "mediation__mediator_person")
    )
    if outcome == "none":
        qs = qs.filter(mediation__isnull=True)
    elif outcome in MediationOutcome.values:
        qs = qs.filter(mediation__outcome=outcome)
    return qs.order_by("-id")


def disputes_concluded(
    *, actor: Any, unit: Unit, start: dt.datetime, end: dt.datetime
) -> QuerySet[Mediation]:
    """Mediations concluded in [start, end) in the unit's subtree, newest first."""
    return (
        scoped(actor, Mediation)
        .filter(
            subtree_q(unit.path, field="case__unit_path"),
            concluded_at__gte=start,
            concluded_at__lt=end,
        )
        .select_related(
            "case__category", "case__community", "case__compound", "mediator", "mediator_person"
        )
        .order_by("-concluded_at", "-id")
    )


def disputes_by_month(
    *, actor: Any, unit: Unit, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Per local month: mediations concluded and how many ended in an agreement."""
    from django.db.models.functions import TruncMonth

    rows = (
        disputes_concluded(actor=actor, unit=unit, start=start, end=end)
        .annotate(month=TruncMonth("concluded_at", tzinfo=timeutils.LOCAL_TZ))
        .values("month")
        .annotate(
            concluded=Count("id"),
            agreements=Count("id", filter=Q(outcome=MediationOutcome.AGREEMENT)),
        )
        .order_by("month")
    )
    return list(rows)


def mediation_detail(*, actor: Any, case_pk: int) -> tuple[Case, Mediation | None]:
    """A dispute the actor may see and its mediation (None before one is assigned)."""
    from django.http import Http404

    case = case_detail(actor=actor, pk=case_pk)
    if case.kind != CaseKind.DISPUTE:
        raise Http404
    mediation = (
        Mediation.objects.select_related("mediator", "mediator_person").filter(case=case).first()
    )
    return case, mediation


def mediator_person_lookup(*, actor: Any, text: str) -> Any:
    """The resident the staff typed as a mediator without an account: by a whole mobile
    number, or by a full name that only one person in the actor's scope bears."""
    from doorstep.people.selectors import person_search

    query = (text or "").strip().replace(" ", "")
    if query.isdigit() and len(query) != 11:
        raise ValidationError(_("请输入完整的11位手机号，或居民的姓名。"), field="mediator_person")
    if len(query) < 2:
        raise ValidationError(_("请输入居民的姓名或手机号。"), field="mediator_person")
    found = person_search(actor=actor, q=query).filter(pseudonymized_at__isnull=True)
    if not query.isdigit():
        found = found.filter(name=query)
    people = list(found.order_by("pk")[:2])
    if not people:
        raise ValidationError(_("没有找到这位居民。"), field="mediator_person")
    if len(people) > 1:
        raise ValidationError(
            _("有不止一位居民叫这个名字，请输入其手机号。"), field="mediator_person"
        )
    return people[0]


def mediator_choices(*, case: Case, limit: int = 100) -> list[Any]:
    """Who may mediate: the staff of the dispute's grid, community and party
    organization, and whoever already mediated in that community (a 和事佬 or an old
    captain with an account)."""
    from doorstep.accounts.models import User
    from doorstep.accounts.selectors import role_holders

    users: dict[int, Any] = {}
    if case.grid_id:
        for role in ("grid_member", "grid_leader"):
            for a in role_holders(role=role, scope_kind="grid", scope_ids=[case.grid_id]):
                users[a.user_id] = a.user
    for a in role_holders(role="community_staff", scope_kind="unit", scope_ids=[case.community_id]):
        users[a.user_id] = a.user
    if case.party_org_id:
        for a in role_holders(
            role="party_secretary", scope_kind="party_org", scope_ids=[case.party_org_id]
        ):
            users[a.user_id] = a.user
    community_path = case.community.path if case.community_id else case.unit_path
    for user in (
        User.objects.filter(is_active=True, mediations__case__unit_path__startswith=community_path)
        .distinct()
        .order_by("id")[:limit]
    ):
        users[user.pk] = user
    return list(users.values())[:limit]


def suggestion_list(*, actor: Any, unit: Unit, adopted: str = "") -> QuerySet[Case]:
    """Suggestions in the unit's subtree that the actor may see."""
    qs = scoped(actor, Case).filter(
        subtree_q(unit.path, field="unit_path"), kind=CaseKind.SUGGESTION
    )
    if adopted == "pending":
        qs = qs.filter(adopted__isnull=True)
    elif adopted == "yes":
        qs = qs.filter(adopted=True)
    elif adopted == "no":
        qs = qs.filter(adopted=False)
    elif adopted == "solved":
        qs = qs.filter(problem_solved=True)
    return qs.select_related(*LIST_RELATIONS).order_by("-id")


def category_tree() -> list[tuple[Category, list[Category]]]:
    """Every category, active or not: top categories with their sub-categories, each
    marked whether a case uses it (an EXISTS on the category index, one query)."""
    from django.db.models import Exists, OuterRef

    rows = list(
        Category.objects.select_related("parent")
        .annotate(in_use=Exists(Case.objects.filter(category=OuterRef("pk"))))
        .order_by("order", "code")
    )
    children: dict[int, list[Category]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    return [(row, children.get(row.pk, [])) for row in rows if row.parent_id is None]


def category_history(*, category: Category, limit: int = 50) -> list[Any]:
    from .models import CategoryChange

    return list(CategoryChange.objects.filter(category=category).select_related("actor")[:limit])
