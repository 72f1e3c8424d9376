"""Writes in grids: grids, household links, visits and wishes. Balancing households into
grids lives in :mod:`doorstep.grids.balancing`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction
from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import get_scoped_or_404, grants
from doorstep.accounts.selectors import role_holders
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError, full_clean
from doorstep.core.inputs import is_key
from doorstep.core.tree import ancestor_paths, subtree_q
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import PartyOrg, Unit
from doorstep.orgs.services import validate_boundary
from doorstep.people.models import Household

from .models import Grid, GridHousehold, Visit, Wish
from .rules import can_manage_grids
from .selectors import household_grids

if TYPE_CHECKING:
    from .balancing import Plan


def _clean(obj: Any) -> None:
    full_clean(obj)


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


@transaction.atomic
def household_assign(
    *,
    actor: Any,
    household_id: Any,
    grid_id: Any,
    member_id: Any = None,
    request: Any = None,
) -> GridHousehold:
    """Put one household in a grid of its community and link it to one of that grid's
    members (划入网格): a household registered after the last balancing, or one moved to
    another grid, without balancing the whole community again. For those who run the
    community's grids; audited with the grid and member before and after."""
    household = get_scoped_or_404(
        actor, Household, queryset=Household.objects.select_related("unit"), pk=household_id
    )
    if not household.is_active:
        raise Conflict(_("该住户已注销。"), field="household")
    grid = (
        Grid.objects.filter(household_grids(household))
        .select_related("unit")
        .filter(pk=grid_id if is_key(grid_id) else -1)
        .first()
    )
    if grid is None:
        raise ValidationError(_("请选择该住户所在社区/村的网格。"), field="grid")
    if not can_manage_grids(actor, grid.unit):
        raise PermissionDenied(_("只有负责该社区/村的工作人员可以调整网格。"))
    member = None
    if member_id not in (None, ""):
        member = next(
            (
                a.user
                for a in role_holders(role=Role.GRID_MEMBER, scope_kind="grid", scope_ids=[grid.pk])
                if is_key(member_id) and a.user_id == member_id
            ),
            None,
        )
        if member is None:
            raise ValidationError(_("联系网格员必须是该网格的网格员。"), field="member")
    before = (
        GridHousehold.objects.filter(household=household).values("grid_id", "member_id").first()
    )
    if before == {"grid_id": grid.pk, "member_id": getattr(member, "pk", None)}:
        raise ValidationError(_("该住户已在这个网格，由这名网格员联系。"), field="grid")
    link = household_link(household=household, grid=grid, member=member)
    audit_record(
        action=AuditAction.GRIDS_BALANCED,
        actor=actor,
        obj=grid.unit,
        request=request,
        detail={
            "cause": "assigned",
            "household": household.pk,
            "from_grid": before["grid_id"] if before else None,
            "from_member": before["member_id"] if before else None,
            "to_grid": grid.pk,
            "to_member": getattr(member, "pk", None),
        },
    )
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


# --- Balancing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceResult:
    created: list[Grid]
    moved: int  # links created or changed
    emptied: list[str]  # names of grids left with no household


_LINK_BATCH = 500
_ANALYZE_AFTER = 50  # grids created at once


def _links_update(rows: list[tuple[int, int, int | None]]) -> None:
    """Point existing links (household id → grid id, member id) elsewhere in batches of
    one ``UPDATE … FROM (VALUES …)`` each, a statement SQLite (3.33+) and PostgreSQL share:
    ``bulk_update``'s ``CASE`` per row is many times slower for tens of thousands."""
    table = connection.ops.quote_name(GridHousehold._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _LINK_BATCH):
            batch = rows[start : start + _LINK_BATCH]
            values = ", ".join(
                ["(CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS BIGINT))"] * len(batch)
            )
            params: list[Any] = [value for row in batch for value in row]
            # Only the quoted table name and placeholders are interpolated.
            sql = (
                f"UPDATE {table} SET grid_id = v.column2, member_id = v.column3, updated_at = %s "  # noqa: S608
                f"FROM (VALUES {values}) AS v WHERE {table}.household_id = v.column1"
            )
            cursor.execute(sql, [now, *params])


def _links_insert(rows: list[tuple[int, int, int | None]]) -> None:
    """New links with ``COPY`` on PostgreSQL, else in batches of one multi-row ``INSERT``
    each: building a model instance per row (``bulk_create``) costs more than the insert
    itself at 100,000 rows."""
    meta = GridHousehold._meta
    table = connection.ops.quote_name(meta.db_table)
    column = {field.name: field.column for field in meta.concrete_fields}
    columns = ", ".join(
        connection.ops.quote_name(column[name])
        for name in ("created_at", "updated_at", "household", "grid", "member")
    )
    if connection.vendor == "postgresql" and rows:
        # COPY: several times faster than multi-row INSERTs through client-side binding.
        moment = timezone.now()
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for h, g, m in rows:
                copy.write_row((moment, moment, h, g, m))
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _LINK_BATCH):
            batch = rows[start : start + _LINK_BATCH]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
            params: list[Any] = [v for h, g, m in batch for v in (now, now, h, g, m)]
            sql = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
            cursor.execute(sql, params)


@transaction.atomic
def grids_bulk_create(*, unit: Unit, names: list[str]) -> list[Grid]:
    """Create several grids of one community at once (balancing may need hundreds),
    validated together: the unit is a community or village and every name is new."""
    if unit.kind not in GRASSROOTS_KINDS:
        raise ValidationError(_("网格必须属于社区或村。"), field="unit")
    cleaned = [(name or "").strip() for name in names]
    max_length = Grid._meta.get_field("name").max_length or 50
    if any(not name or len(name) > max_length for name in cleaned):
        raise ValidationError(_("网格名称不能为空，且不超过50个字。"), field="name")
    taken = set(Grid.objects.filter(unit=unit, name__in=cleaned).values_list("name", flat=True))
    if taken or len(set(cleaned)) != len(cleaned):
        raise ValidationError(_("该社区/村已有同名网格。"), field="name")
    return Grid.objects.bulk_create([Grid(unit=unit, name=name) for name in cleaned])


@transaction.atomic
def household_links_bulk_set(*, unit: Unit, assignments: list[tuple[int, int, int | None]]) -> int:
    """Put many households in grids of ``unit`` and link them to members at once:
    ``assignments`` holds (household id, grid id, member id or None). Every household
    must lie in the unit's subtree, every grid belong to the unit, and every member hold
    the grid-member role over their grid; otherwise nothing is written."""
    if not assignments:
        return 0
    inside = set(
        Household.objects.filter(unit.subtree_q(field="unit__path")).values_list("id", flat=True)
    )
    if any(household_id not in inside for household_id, _g, _m in assignments):
        raise ValidationError(_("住户不在该网格所属的社区/村内。"), field="household")
    grid_ids = {grid_id for _h, grid_id, _m in assignments}
    if Grid.objects.filter(unit=unit, pk__in=grid_ids).count() != len(grid_ids):
        raise ValidationError(_("网格不属于该社区/村。"), field="grid")
    pairs = {(grid_id, member_id) for _h, grid_id, member_id in assignments if member_id}
    if pairs:
        allowed = {
            (a.scope_id, a.user_id)
            for a in role_holders(role=Role.GRID_MEMBER, scope_kind="grid", scope_ids=grid_ids)
        }
        if not pairs <= allowed:
            raise ValidationError(_("联系网格员必须是该网格的网格员。"), field="member")
    # Households of the subtree and nothing else are in ``assignments`` (checked above).
    linked = set(
        GridHousehold.objects.filter(unit.subtree_q(field="household__unit__path")).values_list(
            "household_id", flat=True
        )
    )
    _links_insert([row for row in assignments if row[0] not in linked])
    _links_update([row for row in assignments if row[0] in linked])
    return len(assignments)


@transaction.atomic
def grid_balance_apply(*, plan: Plan, actor: Any = None, request: Any = None) -> BalanceResult:
    """Apply a balancing plan in one transaction: create the grids it names that do not
    exist yet, then move and link the households it moves. Grids are never deleted; a
    grid the plan empties stays, empty. Refused (and nothing written) when the community's
    households, grids or grid members changed after the plan was made."""
    from .balancing import fingerprint
    from .selectors import balance_input

    unit = Unit.objects.select_for_update().get(pk=plan.unit_id)
    data, _none = balance_input(unit, addresses=False)
    if fingerprint(data, max_size=plan.max_size, per_member=plan.per_member) != plan.fingerprint:
        raise Conflict(
            _("预览之后住户、网格或网格员已有变动，请重新预览后再应用。"), field="fingerprint"
        )
    new = [planned for planned in plan.grids if planned.grid_id is None]
    created = grids_bulk_create(unit=unit, names=[planned.name for planned in new])
    if connection.vendor == "postgresql" and len(created) >= _ANALYZE_AFTER:
        # The links' foreign-key checks run at commit with plans made from the grid
        # table's statistics; on a young table those say "empty", and every check
        # becomes a sequential scan of the grids (seconds for 100,000 households).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Grid._meta.db_table)}")
    grid_of_number = {p.number: p.grid_id for p in plan.grids if p.grid_id is not None}
    grid_of_number.update({p.number: g.pk for p, g in zip(new, created, strict=True)})
    moving = {move.household_id for move in plan.moves}
    assignments = [
        (household_id, grid_of_number[number], member_id)
        for household_id, number, member_id in plan.assignments()
        if household_id in moving
    ]
    household_links_bulk_set(unit=unit, assignments=assignments)
    audit_record(
        action=AuditAction.GRIDS_BALANCED,
        actor=actor,
        username="system",
        obj=unit,
        request=request,
        detail={
            "grids_created": len(created),
            "households_moved": len(assignments),
            "grids_emptied": len(plan.emptied),
            "max_size": plan.max_size,
            "per_member": plan.per_member,
        },
    )
    return BalanceResult(
        created=created, moved=len(assignments), emptied=[g.name for g in plan.emptied]
    )


def _grids_covering(path: str) -> Q:
    """The grids that may hold a household (or a case) placed at ``path``: those of a
    unit above it or at it. A grid of any other unit no longer covers the place, as
    after the place moved to another community."""
    return Q(unit__path__in=ancestor_paths(path))


def follow_subtree_move(*, unit: Unit, old_path: str, new_path: str, **_signal: Any) -> int:
    """A unit moved in the tree (``orgs.signals.subtree_moved``). A household moved out
    of its grid's community leaves that grid: its grid member no longer sees who lives
    there, and it waits, unassigned, for the new community's balancing. A grid inside
    the moved subtree (a community moved whole) keeps its households. The audit log
    keeps which households left which grids. Returns the links removed."""
    stale = (
        GridHousehold.objects.filter(subtree_q(new_path, field="household__unit__path"))
        .exclude(grid__in=Grid.objects.filter(subtree_q(new_path, field="unit__path")))
        .exclude(grid__in=Grid.objects.filter(_grids_covering(new_path)))
    )
    rows = list(stale.values_list("pk", "household_id", "grid_id"))
    if not rows:
        return 0
    GridHousehold.objects.filter(pk__in=[pk for pk, _h, _g in rows]).delete()
    audit_record(
        action=AuditAction.GRIDS_BALANCED,
        username="system",
        obj=unit,
        detail={
            "cause": "unit_moved",
            "households_unlinked": len(rows),
            "links": [[household, grid] for _pk, household, grid in rows],
        },
    )
    return len(rows)


def wish_mark_taken_up(*, wish: Wish) -> bool:
    """Record that a wish from a visit has become an appeal case (the appeals part calls
    this). Only an open wish moves; returns whether it did."""
    from .models import WishStatus

    moved = Wish.objects.filter(pk=wish.pk, status=WishStatus.OPEN).update(
        status=WishStatus.TAKEN_UP, updated_at=timezone.now()
    )
    if moved:
        wish.status = WishStatus.TAKEN_UP
    return bool(moved)
