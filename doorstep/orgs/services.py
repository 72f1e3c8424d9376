"""Writes to the org tree. Each function is one transaction and validates before saving."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from doorstep.core.errors import ValidationError
from doorstep.core.geo import validate_point
from doorstep.core.tree import MAX_DEPTH, attach_path, move_subtree, provisional_path

from .choices import ALLOWED_PARENTS, SIX_DIGIT_KINDS, TWELVE_DIGIT_KINDS, UnitKind
from .models import Department, PartyOrg, Unit
from .signals import subtree_moved


def _full_clean(obj: Any) -> None:
    try:
        obj.full_clean(exclude=["path", "depth"])
    except DjangoValidationError as exc:
        raise ValidationError(errors={k: list(v) for k, v in exc.message_dict.items()}) from None


def validate_unit_code(kind: str, code: str) -> None:
    if not code:
        return
    if kind in SIX_DIGIT_KINDS and not re.fullmatch(r"\d{6}", code):
        raise ValidationError(
            _("区、县、市的代码必须是6位行政区划代码（GB/T 2260）。"), field="code"
        )
    if kind in TWELVE_DIGIT_KINDS and not re.fullmatch(r"\d{12}", code):
        raise ValidationError(
            _("街道、乡镇、社区、村的代码必须是12位统计用区划代码。"), field="code"
        )
    if len(code) > 32:
        raise ValidationError(_("代码不能超过32个字符。"), field="code")


def _validate_parent(kind: str, parent: Unit | None) -> None:
    allowed = ALLOWED_PARENTS.get(kind)
    if allowed is None:
        raise ValidationError(_("未知的单元类型：%(kind)s。") % {"kind": kind}, field="kind")
    parent_kind = parent.kind if parent else None
    if parent_kind not in allowed:
        raise ValidationError(
            _("%(kind)s 不能设在 %(parent)s 之下。")
            % {
                "kind": UnitKind(kind).label,
                "parent": UnitKind(parent_kind).label if parent_kind else _("顶层"),
            },
            field="parent",
        )
    if parent is not None and parent.depth + 1 >= MAX_DEPTH:
        raise ValidationError(_("层级过深。"), field="parent")


def unit_check(
    *,
    kind: str,
    parent: Unit | None,
    code: str = "",
    lat: float | None = None,
    lng: float | None = None,
    boundary: dict | None = None,
    unit: Unit | None = None,
) -> None:
    """Everything creating a unit (or, with ``unit``, moving and editing it) refuses,
    checked without writing: for a form that must answer before it saves."""
    if unit is not None and parent is not None and parent.path.startswith(unit.path):
        raise ValidationError(_("不能把单元移到它自己的下级之下。"), field="parent")
    _validate_parent(kind, parent)
    validate_unit_code(kind, code)
    if lat is not None or lng is not None:
        validate_point(lat, lng)
    if boundary is not None:
        validate_boundary(boundary)


@transaction.atomic
def unit_create(
    *,
    kind: str,
    name: str,
    parent: Unit | None = None,
    code: str = "",
    lat: float | None = None,
    lng: float | None = None,
    boundary: dict | None = None,
) -> Unit:
    name = (name or "").strip()
    _validate_parent(kind, parent)
    validate_unit_code(kind, code)
    if lat is not None or lng is not None:
        point = validate_point(lat, lng)
        lat, lng = point.lat, point.lng
    if boundary is not None:
        validate_boundary(boundary)
    unit = Unit(kind=kind, name=name, parent=parent, code=code, lat=lat, lng=lng, boundary=boundary)
    _full_clean(unit)
    unit.path = provisional_path()
    unit.save()
    attach_path(unit)
    return unit


def validate_boundary(boundary: dict) -> None:
    """A GeoJSON Polygon or MultiPolygon with WGS-84 rings inside China."""
    kind = boundary.get("type") if isinstance(boundary, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("边界必须是 GeoJSON Polygon 或 MultiPolygon。"), field="boundary")
    coordinates: Any = boundary.get("coordinates")
    polygons: Any = [coordinates] if kind == "Polygon" else coordinates
    try:
        for polygon in polygons or []:
            for ring in polygon or []:
                if len(ring) < 4 or ring[0] != ring[-1]:
                    raise ValidationError(
                        _("边界的每个环至少需要4个点且首尾相同。"), field="boundary"
                    )
                for lng, lat, *_rest in ring:
                    validate_point(lat, lng, field="boundary")
    except (TypeError, ValueError):
        raise ValidationError(_("边界坐标格式错误。"), field="boundary") from None


@transaction.atomic
def unit_move(*, unit: Unit, new_parent: Unit | None) -> Unit:
    """Move a unit and its whole subtree under ``new_parent``."""
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    unit_check(kind=unit.kind, parent=new_parent, unit=unit)
    if Unit.objects.filter(parent=new_parent, name=unit.name).exclude(pk=unit.pk).exists():
        raise ValidationError(_("同一上级下已有同名单元。"), field="parent")
    old_path = unit.path
    move_subtree(unit, new_parent)
    unit.parent = new_parent
    unit.save(update_fields=["parent", "updated_at"])
    if unit.path != old_path:
        # Sent once the tree is whole again: receivers may walk up from the moved unit.
        subtree_moved.send(sender=Unit, unit=unit, old_path=old_path, new_path=unit.path)
    return unit


@transaction.atomic
def party_org_create(
    *, kind: str, name: str, unit: Unit, parent: PartyOrg | None = None, secretary_name: str = ""
) -> PartyOrg:
    org = PartyOrg(
        kind=kind,
        name=(name or "").strip(),
        unit=unit,
        parent=parent,
        secretary_name=secretary_name,
    )
    _full_clean(org)
    org.path = provisional_path()
    org.save()
    attach_path(org)
    return org


@transaction.atomic
def department_create(*, kind: str, name: str, unit: Unit, office_phone: str = "") -> Department:
    department = Department(
        kind=kind, name=(name or "").strip(), unit=unit, office_phone=office_phone
    )
    _full_clean(department)
    department.save()
    return department
