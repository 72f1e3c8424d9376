"""Masking personal data in text that is published (公示).

A case's result, a wish's text and the like are written by people and may name a
resident, give a phone number, an ID number or a room. The public board, the printable
sheet, the receipt page and the wish wall show such text only through
:func:`mask_personal` (or :func:`mask_rows` for rows of a page), which replaces:

- mobile numbers (with or without separators) and landlines with an area code: all but
  the first three digits, so that not even the last four (a check the receipt rating
  relies on) appear;
- 18-digit ID numbers (and old 15-digit ones): every character;
- rooms and buildings below the compound ("3-2-501", "501室", "5号楼2单元", "东街12号");
- the names of the case's people when known (the reporter and the household's members,
  the parties of a mediated dispute): all but the surname ("张*");
- the names of any other registered resident of the case's community that a result
  names ("已请楼长李秀英协调"): found in the registry when the result is written
  (:func:`registry_names`) and kept on the case (``result_names``), so that the public
  pages need no registry lookup per row.

Masking is done when the text is read, not when it is written, so that it covers rows
written before a pattern was added and the stored record stays exact for staff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "*"

# Digits not glued to other digits or Latin letters (an ID inside a longer code is not one).
_EDGE_L = r"(?<![0-9A-Za-z])"
_EDGE_R = r"(?![0-9A-Za-z])"
_ID = re.compile(_EDGE_L + r"(?:\d{17}[\dXx]|\d{15})" + _EDGE_R)
_MOBILE = re.compile(_EDGE_L + r"(?:\+?86[\s-]?)?(1[3-9]\d)((?:[\s-]?\d){8})" + _EDGE_R)
_LANDLINE = re.compile(_EDGE_L + r"(0\d{2,3})[\s-]?(\d{7,8})" + _EDGE_R)
_CN_NUM = "0-9〇零一二三四五六七八九十"
_ROOM_PATTERNS = [
    # 3-2-501 (building–entrance–room) or 12-501 (building–room); not a date or a range.
    re.compile(
        r"(?<![0-9A-Za-z\-—–/.])\d{1,3}\s?[-—–]\s?(?:\d{1,2}\s?[-—–]\s?\d{2,4}|\d{3,4})"
        r"(?:室|号)?(?![0-9A-Za-z\-—–/.])"
    ),
    # 5号楼 / 五栋 / 5幢 / 2单元 (numbers may be written in Chinese)
    re.compile(rf"[{_CN_NUM}]+\s?(?:号楼|号院|栋|幢|单元)"),
    # 501室 / 501房 / 3楼 / 12层 (Arabic digits only: "一楼" is a common word)
    re.compile(r"\d+\s?(?:室|号房|房间|房|层|楼)"),
    # 东街12号, 建设路8号, 3组15号: a house number after a street, lane or group
    re.compile(rf"(?<=[路街巷弄道村组队])\s?[{_CN_NUM}]+\s?号"),
]


def _mask_digits(text: str, keep: int) -> str:
    out, seen = [], 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= keep else MASK)
        elif ch in " -":
            continue
        else:
            out.append(ch)
    return "".join(out)


def _mask_name(name: str) -> str:
    return name[:1] + MASK * max(len(name) - 1, 1)


def name_tokens(raw: str) -> list[str]:
    """Names in a free list of parties ("张家、李四和王五"): two or more characters each."""
    parts = re.split(r"[、,，;；/\s]+|(?<=\S)[和与及](?=\S)", raw or "")
    return [p.strip() for p in parts if len(p.strip()) >= 2]


def mask_personal(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with phone numbers, ID numbers, rooms and the given names masked."""
    if not text:
        return text
    out = _ID.sub(lambda m: MASK * len(m.group(0)), text)
    out = _MOBILE.sub(lambda m: _mask_digits(m.group(1) + m.group(2), 3), out)
    out = _LANDLINE.sub(lambda m: m.group(1) + MASK * len(m.group(2)), out)
    for pattern in _ROOM_PATTERNS:
        out = pattern.sub(lambda m: MASK * 3, out)
    # Longest first, so that "王小明" is masked before a shorter "王小" could split it.
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len)[::-1]:
        out = out.replace(name, _mask_name(name))
        # A given name used alone ("小明反映…") after the surname of a three-character name.
        if len(name) == 3:
            out = out.replace(name[1:], MASK * 2)
    return out


# Names are two to four Chinese characters, or longer with the middle dot of minority
# names ("阿依古丽·买买提").
_HAN_RUN = re.compile(r"[\u3400-\u9fff·]{2,}")
_NAME_LENGTHS = range(2, 11)
_CHUNK = 500


def registry_names(text: str, *, within_path: str) -> list[str]:
    """The names of registered residents living under ``within_path`` (a community's
    path) that occur in ``text``: every run of Chinese characters is cut into the
    substrings a name could be, and those are looked up among the residents' names."""
    from doorstep.core.tree import subtree_q
    from doorstep.people.models import Person

    candidates = sorted(
        {
            run[i : i + n]
            for run in _HAN_RUN.findall(text or "")
            for n in _NAME_LENGTHS
            for i in range(len(run) - n + 1)
            if n <= 4 or "·" in run[i : i + n]
        }
    )
    found: set[str] = set()
    for start in range(0, len(candidates), _CHUNK):
        found.update(
            Person.objects.filter(
                subtree_q(within_path, field="unit__path"),
                name__in=candidates[start : start + _CHUNK],
            ).values_list("name", flat=True)
        )
    return sorted(found)


def case_names(case_ids: Iterable[int]) -> dict[int, set[str]]:
    """The names of each case's people: its reporter, its household's members, the
    parties of its mediation and the residents its result names. One query, two when
    households are known."""
    from doorstep.people.models import Person

    from .models import Case

    ids = sorted({int(i) for i in case_ids})
    names: dict[int, set[str]] = {i: set() for i in ids}
    if not ids:
        return names
    households: dict[int, list[int]] = {}
    for case_id, reporter, household_id, parties, named in Case.objects.filter(
        pk__in=ids
    ).values_list(
        "id", "reporter_person__name", "household_id", "mediation__parties", "result_names"
    ):
        if reporter:
            names[case_id].add(reporter)
        if named:
            names[case_id].update(named)
        if parties:
            names[case_id].update(name_tokens(parties))
        if household_id:
            households.setdefault(household_id, []).append(case_id)
    if households:
        for household_id, name in Person.objects.filter(
            household_id__in=sorted(households)
        ).values_list("household_id", "name"):
            for case_id in households[household_id]:
                names[case_id].add(name)
    return names


def mask_rows(rows: list[dict[str, Any]], fields: Iterable[str] = ("result",)) -> list[Any]:
    """Mask ``fields`` of public rows (each with the case's ``id``) in place, with the
    names of each row's case. A fixed number of queries whatever the number of rows."""
    wanted = tuple(fields)
    with_text = [r for r in rows if any(r.get(f) for f in wanted)]
    if not with_text:
        return rows
    names = case_names(r["id"] for r in with_text)
    for row in with_text:
        for field in wanted:
            if row.get(field):
                row[field] = mask_personal(row[field], names.get(row["id"], ()))
    return rows
