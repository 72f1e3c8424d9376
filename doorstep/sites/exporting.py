"""Exporting the person-times report to .xlsx: the rows the staff saw on the page (from
their scoped service records), the total, and the filters, audited as an export."""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction
from doorstep.core import timeutils
from doorstep.core.timeutils import LOCAL_TZ

from .choices import SiteLevel
from .models import ServiceCategory

GROUP_LABELS = {
    "site": gettext_noop("阵地"),
    "category": gettext_noop("服务类别"),
    "level": gettext_noop("层级"),
    "month": gettext_noop("月份"),
}


def person_times_xlsx(
    *,
    actor: Any,
    rows: list[dict[str, Any]],
    filters: dict[str, Any],
    request: HttpRequest | None = None,
) -> bytes:
    """``rows`` come from ``selectors.person_times`` for ``actor``; the workbook holds one
    sheet of figures and one of what they are (period, grouping, filters, who, when)."""
    from openpyxl import Workbook

    by = filters.get("by", "site")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("服务人次"))
    sheet.append([_(GROUP_LABELS.get(by, "阵地")), _("人次"), _("记录数")])
    for row in rows:
        sheet.append([row["label"], row["person_times"], row["records"]])
    total = sum(r["person_times"] for r in rows)
    sheet.append([_("合计"), total, sum(r["records"] for r in rows)])
    notes = workbook.create_sheet(_("说明"))
    notes.append([_("统计期间"), f"{filters['start']:%Y-%m-%d} – {filters['end']:%Y-%m-%d}"])
    notes.append([_("分组"), _(GROUP_LABELS.get(by, "阵地"))])
    level = filters.get("level") or ""
    notes.append([_("层级"), str(dict(SiteLevel.choices).get(level, _("全部")))])
    category = filters.get("category") or ""
    name = (
        ServiceCategory.objects.filter(code=category).values_list("name", flat=True).first()
        if category
        else None
    )
    notes.append([_("服务类别"), name or _("全部")])
    notes.append([_("范围"), _("本人可见范围内各阵地的服务记录")])
    notes.append([_("导出时间"), timeutils.now().astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")])
    notes.append([_("导出人"), actor.get_username()])
    audit_record(
        action=AuditAction.EXPORT,
        actor=actor,
        object_type="sites.servicerecord",
        request=request,
        detail={
            "what": "person_times",
            "rows": len(rows),
            "person_times": total,
            "format": "xlsx",
            "start": filters["start"].isoformat(),
            "end": filters["end"].isoformat(),
            "by": by,
            "level": level,
            "category": category,
        },
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
