"""Writes in grids: grids, household links, visits and wishes. Balancing households into
grids lives in :mod:`doorstep.grids.balancing`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import get_scoped_or_404, grants
from doorstep.core.errors import PermissionDenied, ValidationError
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import PartyOrg, Unit
from doorstep.orgs.services import validate_boundary
from doorstep.people.models import Household

from .models import Grid, GridHousehold, Visit, Wish


def _clean(obj: Any) -> None:
    try:
        obj.full_clean()
    except DjangoValidationError as exc:
        raise ValidationError(errors={k: list(v) for k, v in exc.message_dict.items()}) from None


@transaction.atomic
def grid_create(
    *, unit: Unit, name: str, boundary: dict | None = None, party_group: PartyOrg | None = None
) -> Grid:
    if unit.kind not in GRASSROOTS_KINDS:
        raise ValidationError(_("网格必须属于社区或村。"), field="unit")
    if boundary is not None:
        validate_boundary(boundary)
    grid = Grid(unit=unit, name=(name or "").strip(), boundary=boundary, party_group=party_group)
    _clean(grid)
    grid.save()
    return grid


@transaction.atomic
def household_link(*, household: Household, grid: Grid, member: Any = None) -> GridHousehold:
    """Put a household in a grid (moving it if it was elsewhere) and link it to a member."""
    if not household.unit.path.startswith(grid.unit.path):
        raise ValidationError(_("住户不在该网格所属的社区/村内。"), field="household")
    link, _created = GridHousehold.objects.select_for_update().get_or_create(
        household=household, defaults={"grid": grid, "member": member}
    )
    if not _created and (link.grid_id != grid.pk or link.member_id != getattr(member, "pk", None)):
        link.grid, link.member = grid, member
        link.save(update_fields=["grid", "member", "updated_at"])
    return link


def _visitor_grid(actor: Any, household: Household) -> Grid:
    """The grid through which the actor may visit this household (404 when none)."""
    household = get_scoped_or_404(actor, Household, pk=household.pk)
    link = GridHousehold.objects.select_related("grid").filter(household=household).first()
    if link is None:
        raise ValidationError(_("该住户尚未划入网格。"), field="household")
    roles = {g.role for g in grants(actor)}
    if not roles & {Role.GRID_MEMBER, Role.GRID_LEADER, Role.BUILDING_LEADER, Role.COMMUNITY_STAFF}:
        raise PermissionDenied(_("只有网格员、网格长、楼栋长和社区工作人员可以登记走访。"))
    return link.grid


@transaction.atomic
def visit_log(
    *,
    actor: Any,
    household: Household,
    visited_on: dt.date,
    notes: str = "",
    needs: str = "",
    wishes: list[str] | None = None,
) -> Visit:
    grid = _visitor_grid(actor, household)
    if visited_on > timezone.localdate():
        raise ValidationError(_("走访日期不能晚于今天。"), field="visited_on")
    visit = Visit(
        household=household,
        grid=grid,
        visitor=actor,
        visited_on=visited_on,
        notes=notes.strip(),
        needs=needs.strip(),
    )
    _clean(visit)
    visit.save()
    for text in wishes or []:
        if text.strip():
            wish = Wish(household=household, visit=visit, text=text.strip())
            _clean(wish)
            wish.save()
    return visit
