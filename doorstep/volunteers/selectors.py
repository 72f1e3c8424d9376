"""Reads of the volunteers app, each through the scoping checkpoint."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from doorstep.accounts.scoping import scoped
from doorstep.core import timeutils
from doorstep.core.tree import ancestor_paths, per_branch
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.selectors import mask_name

from .choices import ACTIVE_SIGNUP, DEFAULT_STAR_HOURS, ActivityStatus, SignupStatus
from .models import Activity, Signup, StarThresholds, Team


def confirmed_minutes(person: Person) -> int:
    return (
        Signup.objects.filter(person=person, status=SignupStatus.CONFIRMED).aggregate(
            n=Sum("minutes")
        )["n"]
        or 0
    )


def star_hours(unit: Unit) -> tuple[int, ...]:
    """The thresholds nearest above ``unit`` (itself first), else the defaults."""
    row = (
        StarThresholds.objects.filter(unit__path__in=ancestor_paths(unit.path))
        .order_by("-unit__depth")
        .first()
    )
    return row.hours if row is not None else DEFAULT_STAR_HOURS


def stars_for(hours: float, thresholds: tuple[int, ...]) -> int:
    return sum(1 for t in thresholds if hours >= t)


@dataclass(frozen=True)
class VolunteerStanding:
    hours: float
    stars: int
    next_stars_at: int | None  # hours needed for the next star, None at five
    thresholds: tuple[int, ...] = DEFAULT_STAR_HOURS  # the unit's hours for one to five


def standing(person: Person) -> VolunteerStanding:
    thresholds = star_hours(person.unit)
    hours = confirmed_minutes(person) / 60
    stars = stars_for(hours, thresholds)
    return VolunteerStanding(
        hours=round(hours, 1),
        stars=stars,
        next_stars_at=thresholds[stars] if stars < len(thresholds) else None,
        thresholds=tuple(thresholds),
    )


def active_signup(*, actor: Any, activity: Activity, person: Person) -> Signup | None:
    """The person's live sign-up for the activity, as the actor sees it (None else)."""
    return (
        scoped(actor, Signup)
        .filter(activity=activity, person=person, status__in=ACTIVE_SIGNUP)
        .first()
    )


def with_taken(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    return qs.annotate(
        taken=Count("signups", filter=Q(signups__status__in=ACTIVE_SIGNUP))
    ).select_related("unit", "team", "points_rule")


def activities_to_join(*, actor: Any, limit: int = 50) -> list[Activity]:
    """Open activities where the resident lives that have not ended and have a slot."""
    rows = with_taken(
        scoped(actor, Activity).filter(status=ActivityStatus.OPEN, ends_at__gt=timeutils.now())
    ).order_by("starts_at", "pk")[: limit * 2]
    return [a for a in rows if a.taken < a.slots][:limit]  # type: ignore[attr-defined]


def my_signups(*, actor: Any) -> QuerySet[Signup]:
    return (
        scoped(actor, Signup)
        .filter(person__user_id=actor.pk)
        .select_related("activity", "transfer")
        .order_by("-activity__starts_at", "-pk")
    )


def activity_list(
    *, actor: Any, unit: Unit | None = None, upcoming: bool = False, past: bool = False
) -> QuerySet[Activity]:
    """Activities the actor sees, latest first: all of them, those not yet ended
    (``upcoming``) or those that have ended (``past``)."""
    qs = scoped(actor, Activity)
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="unit__path"))
    if upcoming:
        qs = qs.filter(ends_at__gt=timeutils.now())
    if past:
        qs = qs.filter(ends_at__lte=timeutils.now())
    return with_taken(qs).order_by("-starts_at", "-pk")


def activities_ahead(*, actor: Any, unit: Unit | None = None) -> QuerySet[Activity]:
    """Activities under way or still to come, the soonest first: what an organizer
    acts on next."""
    return activity_list(actor=actor, unit=unit, upcoming=True).order_by("starts_at", "pk")


def roster(*, actor: Any, activity: Activity) -> QuerySet[Signup]:
    return (
        scoped(actor, Signup)
        .filter(activity=activity)
        .select_related("person__unit", "transfer")
        .order_by("status", "person__name_pinyin", "pk")
    )


def team_list(*, actor: Any, unit: Unit | None = None) -> QuerySet[Team]:
    qs = scoped(actor, Team)
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="unit__path"))
    return (
        qs.select_related("unit", "leader", "serves")
        .annotate(member_count=Count("members", filter=Q(members__left_on__isnull=True)))
        .order_by("unit__path", "name")
    )


def hours_leaderboard(*, unit: Unit, limit: int = 10) -> list[dict[str, Any]]:
    """Volunteers of a community by confirmed hours, names masked."""
    rows = (
        Signup.objects.filter(
            status=SignupStatus.CONFIRMED,
            activity__unit=unit,
            person__pseudonymized_at__isnull=True,
        )
        .order_by()
        .values("person_id", "person__name")
        .annotate(minutes=Sum("minutes"))
        .order_by("-minutes", "person_id")[:limit]
    )
    thresholds = star_hours(unit)
    return [
        {
            "rank": i,
            "name": mask_name(r["person__name"]),
            "hours": round(r["minutes"] / 60, 1),
            "stars": stars_for(r["minutes"] / 60, thresholds),
        }
        for i, r in enumerate(rows, start=1)
    ]


def party_post_claims(*, actor: Any, unit: Unit | None = None) -> QuerySet[Signup]:
    """Posts claimed by party members (党员认领岗位)."""
    qs = scoped(actor, Signup).filter(party_claim=True, status__in=ACTIVE_SIGNUP)
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="activity__unit__path"))
    return qs.select_related("activity", "person")


def _confirmed(actor: Any, start: dt.datetime, end: dt.datetime) -> QuerySet[Signup]:
    """The sign-ups the actor may see whose hours were confirmed, by check-out time in
    [start, end): what every volunteering figure counts."""
    return scoped(actor, Signup).filter(
        status=SignupStatus.CONFIRMED, checked_out_at__gte=start, checked_out_at__lt=end
    )


def hours_by_branch(
    *, actor: Any, unit: Unit, start: dt.datetime, end: dt.datetime
) -> dict[str, float]:
    """``period_figures``' hours per unit directly below ``unit`` (keyed by its path;
    ``unit.path`` for activities at the unit itself). One query."""
    rows = per_branch(
        _confirmed(actor, start, end),
        field="activity__unit__path",
        path=unit.path,
        minutes=Sum("minutes"),
    )
    return {branch: round((row["minutes"] or 0) / 60, 1) for branch, row in rows.items()}


def monthly_figures(
    *, actor: Any, unit: Unit, months: list[dt.date]
) -> dict[dt.date, dict[str, Any]]:
    """``period_figures``' person-times and hours for each local month (given by its
    first day), in one query of conditional sums (no per-row date function, which SQLite
    would run in Python)."""
    if not months:
        return {}
    bounds = [timeutils.month_bounds(first.year, first.month) for first in months]
    sums = (
        _confirmed(actor, bounds[0][0], bounds[-1][1])
        .filter(unit.subtree_q(field="activity__unit__path"))
        .aggregate(
            **{
                f"{name}{n}": aggregate(
                    field, filter=Q(checked_out_at__gte=a, checked_out_at__lt=b)
                )
                for n, (a, b) in enumerate(bounds)
                for name, aggregate, field in (("n", Count, "id"), ("m", Sum, "minutes"))
            }
        )
    )
    return {
        first: {"person_times": sums[f"n{n}"], "hours": round((sums[f"m{n}"] or 0) / 60, 1)}
        for n, first in enumerate(months)
    }


def period_figures(
    *, actor: Any, unit: Unit, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """Volunteering in a unit's subtree over a period (``start`` inclusive, ``end``
    exclusive, aware datetimes), from the sign-ups the actor may see whose hours were
    confirmed: person-times, hours and distinct volunteers, counted at check-out."""
    figures = (
        _confirmed(actor, start, end)
        .filter(unit.subtree_q(field="activity__unit__path"))
        .aggregate(
            person_times=Count("id"),
            minutes=Sum("minutes"),
            volunteers=Count("person_id", distinct=True),
        )
    )
    minutes = figures["minutes"] or 0
    return {
        "person_times": figures["person_times"],
        "hours": round(minutes / 60, 1),
        "volunteers": figures["volunteers"],
    }
