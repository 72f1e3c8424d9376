"""Exporting a scoped list of persons to .xlsx: masked unless the user may reveal, and
audited either way (a revealed export says so in the file and in the audit row).

The columns are those of the import template, so a revealed export of one community
can be imported again elsewhere (addresses are written below the person's community or
village, as the importer reads them).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction
from doorstep.core import crypto
from doorstep.core.errors import PermissionDenied
from doorstep.core.tree import SEGMENT
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit

from .choices import Gender, Relation
from .models import Person
from .rules import can_reveal

CHUNK = 2_000
HEADERS = ["姓名", "身份证号码", "性别", "出生日期", "电话", "地址", "单元", "室号", "与户主关系",
           "标签", "监护人身份证号码", "社区/村"]  # fmt: skip


def _unit_names(paths: set[str]) -> dict[int, tuple[str, str]]:
    """For every unit on the given paths: (its community/village's name, the address of
    the unit below it, names joined with '/')."""
    ids = {int(path[i : i + SEGMENT]) for path in paths for i in range(0, len(path), SEGMENT)}
    units = {u.pk: u for u in Unit.objects.filter(pk__in=ids).only("id", "name", "kind", "path")}
    result: dict[int, tuple[str, str]] = {}
    for unit in units.values():
        chain = [units[int(unit.path[i : i + SEGMENT])] for i in range(0, len(unit.path), SEGMENT)]
        top = max((i for i, u in enumerate(chain) if u.kind in GRASSROOTS_KINDS), default=None)
        if top is None:
            result[unit.pk] = ("", "/".join(u.name for u in chain))
        else:
            result[unit.pk] = (chain[top].name, "/".join(u.name for u in chain[top + 1 :]))
    return result


def persons_export_xlsx(
    *,
    actor: Any,
    queryset: QuerySet[Person],
    reveal: bool = False,
    request: HttpRequest | None = None,
    filters: dict[str, Any] | None = None,
) -> bytes:
    """The persons of ``queryset`` (which must come from ``scoped(actor, Person)``) as an
    .xlsx workbook. Full ID and phone numbers only when ``reveal`` is asked for and the
    actor may reveal; a refused reveal raises PermissionDenied and is audited."""
    from openpyxl import Workbook

    if reveal and not can_reveal(actor):
        raise PermissionDenied(_("您的角色无权导出完整的个人信息。"))
    qs = (
        queryset.filter(pseudonymized_at__isnull=True)
        .select_related("household", "guardian")
        .prefetch_related("tags")
        .order_by("unit__path", "household_id", "id")
    )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("人员（含完整证件号）") if reveal else _("人员"))
    sheet.append([_(h) for h in HEADERS])
    genders = dict(Gender.choices)
    relations = dict(Relation.choices)
    count = 0
    batch: list[Person] = []

    def flush() -> None:
        nonlocal count
        paths = {p.unit.path for p in batch if p.unit_id}
        names = _unit_names(paths)
        for person in batch:
            community, address = names.get(person.unit_id, ("", ""))
            household = person.household
            guardian = person.guardian
            if reveal:
                id_number = (
                    crypto.open_sealed(person.id_number_sealed) if person.id_number_sealed else ""
                )
                phone = crypto.open_sealed(person.phone_sealed) if person.phone_sealed else ""
                guardian_id = (
                    crypto.open_sealed(guardian.id_number_sealed)
                    if guardian is not None and guardian.id_number_sealed
                    else ""
                )
            else:
                id_number, phone = person.id_number_masked, person.phone_masked
                guardian_id = guardian.id_number_masked if guardian is not None else ""
            sheet.append(
                [
                    person.name,
                    id_number,
                    str(genders.get(person.gender, "")) if person.gender != Gender.UNKNOWN else "",
                    person.birth_date.isoformat() if person.birth_date else "",
                    phone,
                    address,
                    household.entrance if household else "",
                    household.room if household else "",
                    str(relations.get(person.relation, "")),
                    "、".join(sorted(t.name for t in person.tags.all())),
                    guardian_id,
                    community,
                ]
            )
            count += 1
        batch.clear()

    for person in qs.select_related("unit").iterator(chunk_size=CHUNK):
        batch.append(person)
        if len(batch) >= CHUNK:
            flush()
    flush()
    notes = workbook.create_sheet(_("说明"))
    notes.append([_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    notes.append([_("导出人"), actor.get_username()])
    notes.append([_("人数"), count])
    if reveal:
        notes.append(
            [
                _("注意"),
                _("本文件含完整的身份证号码和电话号码，导出已记入审计日志。请妥善保管，用后删除。"),
            ]
        )
    else:
        notes.append([_("说明"), _("身份证号码和电话号码已做脱敏处理。")])
    audit_record(
        action=AuditAction.EXPORT,
        actor=actor,
        object_type="people.person",
        request=request,
        detail={"rows": count, "revealed": reveal, "format": "xlsx", **(filters or {})},
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_filename(*, reveal: bool, day: dt.date | None = None) -> str:
    day = day or timezone.localdate()
    return f"persons-{day:%Y%m%d}{'-full' if reveal else ''}.xlsx"
