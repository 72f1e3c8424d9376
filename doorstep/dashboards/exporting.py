"""The figures page as a workbook for the meeting: every figure of the period beside the
previous period's, and a sheet saying what they are (place, periods, scope, who, when),
audited as an export. Figures only: no person is named in it."""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction
from doorstep.core import timeutils
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.models import Unit

from .figures import RATE, YUAN, Branch, Figures, Section, Shown, Trend, branch_lines


def figures_xlsx(
    *,
    actor: Any,
    figures: Figures,
    previous: Figures | None,
    basis: str,
    sections: list[tuple[Section, list[Shown]]],
    trail: list[Unit],
    branches: list[Branch],
    trend: Trend | None = None,
    request: HttpRequest | None = None,
) -> bytes:
    from openpyxl import Workbook

    units = {RATE: "%", YUAN: _("元")}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("数据概览"))
    sheet.append([_("板块"), _("指标"), _("本期"), basis, _("变化"), _("计量单位")])
    for section, lines in sections:
        for shown in lines:
            sheet.append(
                [
                    str(section.title),
                    str(shown.line.label),
                    shown.value,
                    shown.before if shown.compared else None,
                    shown.change,
                    units.get(shown.line.kind, ""),
                ]
            )
    if branches:
        table = workbook.create_sheet(_("下级单位对比"))
        table.append([_("单位"), *(str(line.label) for line in branch_lines())])
        for branch in branches:
            name = branch.unit.name if branch.unit is not None else _("本级")
            table.append([name, *(cell.value for cell in branch.cells)])
    if trend is not None:
        months = workbook.create_sheet(_("近 12 个月走势"))
        months.append(
            [_("月份"), _("收到诉求"), _("已办结"), _("入户走访次数"), _("阵地服务人次"),
             _("志愿服务时长（小时）"), _("兑换物品价值（元）"), _("就餐人次")]
        )  # fmt: skip
        for month in trend.months:
            months.append(
                [f"{month.first:%Y-%m}", month.received, month.resolved, month.visits,
                 month.site_person_times, month.volunteer_hours, month.redeemed_yuan,
                 month.diners]
            )  # fmt: skip
    notes = workbook.create_sheet(_("说明"))
    notes.append([_("单位"), " / ".join(u.name for u in trail) or figures.unit.name])
    notes.append([_("统计期间"), f"{figures.start:%Y-%m-%d} – {figures.end:%Y-%m-%d}"])
    if previous is not None:
        notes.append([_("对比期间"), f"{previous.start:%Y-%m-%d} – {previous.end:%Y-%m-%d}"])
    notes.append([_("范围"), _("本人有权查看的范围内，该单位及其下级的记录")])
    for section, _lines in sections:
        if section.note:
            notes.append([str(section.title), str(section.note)])
    notes.append([_("导出时间"), timeutils.now().astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")])
    notes.append([_("导出人"), actor.get_username()])
    audit_record(
        action=AuditAction.EXPORT,
        actor=actor,
        obj=figures.unit,
        request=request,
        detail={
            "what": "figures",
            "format": "xlsx",
            "start": figures.start.isoformat(),
            "end": figures.end.isoformat(),
            "compared_with": (
                f"{previous.start.isoformat()}/{previous.end.isoformat()}" if previous else ""
            ),
        },
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
