"""The holiday calendar file an administrator loads once a year (docs/adr/0010).

CSV (UTF-8, a header line, one day per line)::

    date,kind,name
    2026-01-01,holiday,元旦
    2026-01-04,workday,元旦调休

JSON::

    {"year": 2026, "days": [{"date": "2026-01-01", "kind": "holiday", "name": "元旦"}]}

``kind`` is ``holiday`` (放假) or ``workday`` (调休上班; must fall on a Saturday or
Sunday); the Chinese words 放假 / 假 and 上班 / 班 are accepted too. Every date must be
in the year being loaded, and no date may appear twice. A file with any bad line loads
nothing and every bad line is reported with its line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from doorstep.core.errors import ValidationError

from .choices import HolidayKind

FIELD = "file"
KIND_WORDS = {
    "holiday": HolidayKind.HOLIDAY,
    "放假": HolidayKind.HOLIDAY,
    "假": HolidayKind.HOLIDAY,
    "workday": HolidayKind.WORKDAY,
    "上班": HolidayKind.WORKDAY,
    "班": HolidayKind.WORKDAY,
}
MAX_BYTES = 200_000


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    kind: str
    name: str


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    if len(content) > MAX_BYTES:
        raise ValidationError(_("日历文件过大。"), field=FIELD)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(_("日历文件必须是 UTF-8 编码。"), field=FIELD) from None


def _rows(text: str, filename: str) -> list[tuple[int, dict[str, Any]]]:
    stripped = text.lstrip()
    if filename.lower().endswith(".json") or stripped.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("日历文件不是有效的 JSON：第 %(line)d 行。") % {"line": exc.lineno}, field=FIELD
            ) from None
        days = data.get("days") if isinstance(data, dict) else data
        if not isinstance(days, list):
            raise ValidationError(_("JSON 日历必须包含 days 列表。"), field=FIELD)
        return [(i, d if isinstance(d, dict) else {}) for i, d in enumerate(days, start=1)]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or {"date", "kind"} - {f.strip() for f in reader.fieldnames}:
        raise ValidationError(_("CSV 日历第一行必须是表头：date,kind,name。"), field=FIELD)
    return [
        (reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in row.items()})
        for row in reader
    ]


def parse(content: bytes | str, *, year: int, filename: str = "") -> list[CalendarDay]:
    """The days of ``year`` in the file, or a ValidationError listing every bad line."""
    rows = _rows(_decode(content), filename)
    problems: list[str] = []
    seen: set[dt.date] = set()
    days: list[CalendarDay] = []
    for line, row in rows:
        try:
            date = dt.date.fromisoformat(str(row.get("date", "")).strip())
        except ValueError:
            problems.append(_("第 %(line)d 行：日期无效，应为 YYYY-MM-DD。") % {"line": line})
            continue
        kind = KIND_WORDS.get(str(row.get("kind", "")).strip().lower())
        name = str(row.get("name", "") or "").strip()[:40]
        if kind is None:
            problems.append(
                _("第 %(line)d 行：类型必须是 holiday（放假）或 workday（调休上班）。")
                % {"line": line}
            )
        elif date.year != year:
            problems.append(
                _("第 %(line)d 行：日期不在 %(year)d 年内。") % {"line": line, "year": year}
            )
        elif date in seen:
            problems.append(_("第 %(line)d 行：日期重复。") % {"line": line})
        elif kind == HolidayKind.WORKDAY and date.weekday() < 5:
            problems.append(_("第 %(line)d 行：调休上班日应在周六或周日。") % {"line": line})
        else:
            seen.add(date)
            days.append(CalendarDay(date, kind, name or str(kind.label)))
    if problems:
        raise ValidationError(errors={FIELD: list(problems[:100])})
    if not days:
        raise ValidationError(_("日历文件中没有日期。"), field=FIELD)
    return days
