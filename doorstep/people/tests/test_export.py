"""Exporting a scoped person list: masked unless the user may reveal, always audited."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import get_resolver, include, path
from openpyxl import load_workbook

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import scoped
from doorstep.conftest import World
from doorstep.core.errors import PermissionDenied
from doorstep.people.exporting import persons_export_xlsx
from doorstep.people.idnumber import make_id_number
from doorstep.people.models import Person
from doorstep.people.services import person_create

_wired = get_resolver("config.urls").namespace_dict
urlpatterns = [
    *[
        path("", include(module))
        for namespace, module in (
            ("people_import", "doorstep.people.urls_import"),
            ("people", "doorstep.people.urls"),
        )
        if namespace not in _wired
    ],
    path("", include("config.urls")),
]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]

EXPORT_URL = "/console/registry/export.xlsx"
ID_A = make_id_number("510502", dt.date(1958, 2, 3), 17)
PHONE_A = "13612345678"


@pytest.fixture
def veteran(world: World) -> Person:
    return person_create(
        name="赵退伍",
        household=world.a.household,
        relation="spouse",
        id_number=ID_A,
        phone=PHONE_A,
        tags=["veteran"],
    )


def sheet_rows(content: bytes) -> tuple[list[str], list[list[Any]]]:
    workbook = load_workbook(io.BytesIO(content))
    rows = [[c.value for c in row] for row in workbook.worksheets[0].iter_rows()]
    notes = [str(c.value) for row in workbook.worksheets[1].iter_rows() for c in row if c.value]
    return notes, rows


def test_export_is_masked_by_default_and_audited(
    client: Any, world: World, veteran: Person
) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client.force_login(staff)

    response = client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    notes, rows = sheet_rows(response.content)
    assert rows[0][:5] == ["姓名", "身份证号码", "性别", "出生日期", "电话"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"甲居民", "赵退伍"}  # tree B's resident is out of scope
    row = by_name["赵退伍"]
    assert row[1:5] == [ID_A[:4] + "**********" + ID_A[-4:], "男", "1958-02-03", "136****5678"]
    assert row[5:10] == ["甲小区/1号楼", "1", "101", "配偶", "退役军人"]
    assert row[11] == "甲社区"
    assert ID_A not in str(rows) and PHONE_A not in str(rows)
    assert "身份证号码和电话号码已做脱敏处理。" in notes
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor, event.detail["rows"], event.detail["revealed"]) == (staff, 2, False)


def test_a_revealed_export_says_so_and_the_audit_row_records_it(
    client: Any, world: World, veteran: Person
) -> None:
    client.force_login(world.user(Role.COMMUNITY_STAFF))

    response = client.get(EXPORT_URL, {"reveal": "1", "q": "赵"})

    notes, rows = sheet_rows(response.content)
    assert [row[:2] + row[4:5] for row in rows[1:]] == [["赵退伍", ID_A, PHONE_A]]
    assert any("本文件含完整的身份证号码和电话号码" in note for note in notes)
    assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "人员（含完整证件号）"
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.detail["rows"], event.detail["revealed"], event.detail["has_query"]) == (
        1,
        True,
        True,
    )
    assert ID_A not in str(event.detail)


def test_a_role_that_may_not_reveal_gets_a_masked_file(
    client: Any, world: World, veteran: Person
) -> None:
    grid_leader = world.user(Role.GRID_LEADER)
    client.force_login(grid_leader)
    response = client.get(EXPORT_URL, {"reveal": "1"})
    assert response.status_code == 200
    _notes, rows = sheet_rows(response.content)
    assert ID_A not in str(rows) and PHONE_A not in str(rows)
    assert AuditEvent.objects.get(action=AuditAction.EXPORT).detail["revealed"] is False
    with pytest.raises(PermissionDenied):
        persons_export_xlsx(actor=grid_leader, queryset=scoped(grid_leader, Person), reveal=True)
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_filters_and_scope_of_the_export(client: Any, world: World, veteran: Person) -> None:
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    _notes, rows = sheet_rows(client.get(EXPORT_URL, {"tag": "veteran"}).content)
    assert [row[0] for row in rows[1:]] == ["赵退伍"]
    assert client.get(EXPORT_URL, {"within": world.b.community.pk}).status_code == 404
    client.force_login(world.user(Role.RESIDENT))
    assert client.get(EXPORT_URL).status_code == 404
