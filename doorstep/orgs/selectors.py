"""Reads of the org tree. The tree itself is not personal data: its public shape may be
shown to anyone. Console reads that depend on the actor go through accounts' scoping."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from doorstep.core.tree import ancestor_paths, subtree_q

from .choices import GRASSROOTS_KINDS, UnitKind
from .models import Unit


def unit_subtree(unit: Unit, *, include_self: bool = True) -> QuerySet[Unit]:
    return Unit.objects.filter(subtree_q(unit.path, include_self=include_self))


def unit_ancestors(unit: Unit) -> QuerySet[Unit]:
    """Root first; the unit itself last."""
    return Unit.objects.filter(path__in=ancestor_paths(unit.path)).order_by("depth")


def unit_trails(units: Iterable[Unit], *, levels: int = 3) -> dict[int, str]:
    """Each unit's name after the names of the units above it, the last ``levels`` of
    them (``人民路街道 / 颐和社区 / 1号小区``), in one query: a city has many a 1号小区,
    and a list of places must tell them apart."""
    rows = list(units)
    above = {p for u in rows for p in ancestor_paths(u.path)[-levels:-1]}
    names = dict(Unit.objects.filter(path__in=sorted(above)).values_list("path", "name"))
    trails = {}
    for u in rows:
        chain = [names.get(p, "") for p in ancestor_paths(u.path)[-levels:-1]]
        trails[u.pk] = " / ".join([*(n for n in chain if n), u.name])
    return trails


def unit_children(unit: Unit | None) -> QuerySet[Unit]:
    qs = Unit.objects.filter(parent=unit) if unit else Unit.objects.filter(parent__isnull=True)
    return qs.filter(is_active=True).order_by("kind", "name")


def grassroots_units() -> QuerySet[Unit]:
    """Communities and villages: the level where residents belong and committees sit."""
    return Unit.objects.filter(kind__in=sorted(GRASSROOTS_KINDS), is_active=True)


def public_grassroots_directory() -> list[dict]:
    """Each district/county with its communities and villages, for the resident home page."""
    counties = list(
        Unit.objects.filter(kind__in=[UnitKind.DISTRICT, UnitKind.COUNTY], is_active=True).order_by(
            "path"
        )
    )
    grassroots = list(grassroots_units().only("id", "name", "kind", "path").order_by("path"))
    directory = []
    for county in counties:
        members = [g for g in grassroots if g.path.startswith(county.path)]
        if members:
            directory.append({"county": county, "units": members})
    return directory


def kind_counts(unit: Unit) -> dict[str, int]:
    """How many units of each kind lie under ``unit`` (itself excluded)."""
    rows = unit_subtree(unit, include_self=False).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}
