"""Importing the registry: all or nothing, every bad row reported, idempotent, scoped,
audited, and no plaintext personal number left in the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import get_resolver, include, path
from openpyxl import Workbook, load_workbook

from doorstep.accounts.models import AuditAction, AuditEvent, AuditOutcome
from doorstep.accounts.roles import Role
from doorstep.conftest import World, make_user
from doorstep.orgs.services import party_org_create
from doorstep.people.idnumber import make_id_number
from doorstep.people.importing import RowError, registry_import
from doorstep.people.models import Household, MobileRegistration, PartyMember, Person
from doorstep.people.services import id_hash_of, person_create

# The test module is its own URLconf: the site's URLs plus this feature's, until the
# feature is wired into config/urls.py.
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

TODAY = dt.date(2026, 5, 1)
IMPORT_URL = "/console/registry/import/"
HEADER = ["姓名", "身份证号码", "性别", "出生日期", "电话", "地址", "单元", "室号", "与户主关系",
          "标签", "监护人身份证号码"]  # fmt: skip


def idn(birth: dt.date, seq: int) -> str:
    return make_id_number("510502", birth, seq)


HEAD_ID = idn(dt.date(1970, 3, 4), 11)
SPOUSE_ID = idn(dt.date(1972, 6, 7), 22)
CHILD_ID = idn(dt.date(2019, 1, 2), 33)
HEAD_PHONE = "13912345678"


def family_rows() -> list[list[str]]:
    return [
        ["王建国", HEAD_ID, "男", "1970-03-04", HEAD_PHONE, "甲小区/1号楼", "2", "301", "户主",
         "退役军人、独居", ""],
        ["李秀英", SPOUSE_ID, "", "", "", "甲小区/1号楼", "2", "301", "配偶", "", ""],
        ["王小明", CHILD_ID, "", "", "", "甲小区/1号楼", "2", "301", "子女", "", HEAD_ID],
    ]  # fmt: skip


def xlsx_bytes(rows: list[list[Any]], header: list[str] = HEADER, **extra: Any) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for merged in extra.get("merge", []):
        sheet.merge_cells(merged)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", header: list[str] = HEADER) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def run(world: World, data: bytes, *, kind: str = "persons", user: Any = None) -> Any:
    return registry_import(
        actor=user or world.user(Role.COMMUNITY_STAFF),
        unit_id=world.a.community.pk,
        kind=kind,
        source=io.BytesIO(data),
        today=TODAY,
    )


def snapshot() -> tuple[int, int, int, int]:
    return (
        Person.objects.count(),
        Household.objects.count(),
        PartyMember.objects.count(),
        MobileRegistration.objects.count(),
    )


def post(client: Any, user: Any, data: bytes, name: str, unit: Any, kind: str = "persons") -> Any:
    client.force_login(user)
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(IMPORT_URL, {"kind": kind, "unit": unit.pk, "file": upload})


def test_page_imports_a_family_with_its_household_and_redirects_to_the_result(
    client: Any, world: World
) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    before = snapshot()

    response = post(client, staff, xlsx_bytes(family_rows()), "户籍.xlsx", world.a.community)

    assert response.status_code == 302
    assert response["Location"] == f"{IMPORT_URL}?done=1"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["report"].created == 3
    assert page.context["report"].households_created == 1
    assert snapshot() == (before[0] + 3, before[1] + 1, 0, 0)
    head = Person.objects.get(id_number_hash=id_hash_of(HEAD_ID))
    child = Person.objects.get(id_number_hash=id_hash_of(CHILD_ID))
    assert (head.name, head.name_pinyin, head.name_initials) == ("王建国", "wangjianguo", "wjg")
    assert (head.gender, head.birth_date) == ("male", dt.date(1970, 3, 4))
    assert head.id_number_masked == HEAD_ID[:4] + "**********" + HEAD_ID[-4:]
    assert head.phone_masked == "139****5678"
    assert sorted(head.tags.values_list("code", flat=True)) == ["living_alone", "veteran"]
    household = head.household
    assert household is not None
    assert (household.unit, household.entrance, household.room) == (world.a.building, "2", "301")
    assert household.head == head
    assert child.guardian == head and child.household == household and child.relation == "child"
    assert child.unit == world.a.building
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.outcome == AuditOutcome.SUCCESS
    assert event.actor == staff
    assert event.detail["created"] == 3 and event.detail["errors"] == 0
    assert HEAD_ID not in str(event.detail) and HEAD_PHONE not in str(event.detail)


def test_every_bad_row_is_reported_with_its_line_and_column_and_nothing_is_loaded(
    world: World,
) -> None:
    bad_check = HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")
    rows = [
        ["甲", bad_check, "", "", "", "甲小区/1号楼", "1", "102", "", "", ""],  # line 2
        ["乙", SPOUSE_ID, "", "", "", "甲小区/9号楼", "1", "102", "", "", ""],  # line 3
        ["丙", HEAD_ID, "", "", "", "甲小区/1号楼", "1", "103", "", "", ""],  # line 4
        ["丁", HEAD_ID, "", "", "", "甲小区/1号楼", "1", "104", "", "", ""],  # line 5
        ["戊", CHILD_ID, "", "", "", "甲小区/1号楼", "1", "105", "子女", "", ""],  # line 6
        ["己", idn(dt.date(1950, 1, 1), 5), "", "", "", "甲小区/1号楼", "1", "106", "", "会员", ""],
        ["庚", idn(dt.date(1951, 1, 1), 6), "男", "", "12345", "甲小区/1号楼", "", "", "", "", ""],
        ["辛", idn(dt.date(1952, 1, 1), 8), "", "", "", "甲小区/1号楼", "1", "108", "", "", ""],
    ]  # fmt: skip
    before = snapshot()

    report = run(world, xlsx_bytes(rows))

    assert [(e.line, e.column) for e in report.errors] == [
        (2, "身份证号码"),
        (3, "地址"),
        (5, "身份证号码"),
        (6, "监护人身份证号码"),
        (7, "标签"),
        (8, "性别"),
        (8, "电话"),
    ]
    messages = [e.message for e in report.errors]
    assert messages[0] == "身份证号码校验位不正确，请核对。"
    assert messages[1] == "在甲社区下找不到地址“甲小区/9号楼”。"
    assert messages[2] == "身份证号码与第 4 行重复。"
    assert messages[3] == "未满14周岁的人员必须登记监护人。"
    assert messages[4] == "未知的标签：会员。"
    assert report.created == 0
    assert snapshot() == before
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert event.outcome == AuditOutcome.FAILURE and event.detail["errors"] == 7


def test_the_page_shows_the_full_error_table(client: Any, world: World) -> None:
    rows = family_rows()
    rows[0][5] = "甲小区/不存在"
    rows[2][10] = ""  # the child loses its guardian
    before = snapshot()

    response = post(
        client, world.user(Role.COMMUNITY_STAFF), xlsx_bytes(rows), "a.xlsx", world.a.community
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "发现 2 个问题，文件未导入任何数据" in html
    assert "<td>2</td><td>地址</td>" in html
    assert "<td>4</td><td>监护人身份证号码</td>" in html
    assert snapshot() == before


def test_reimporting_the_same_file_changes_nothing(world: World) -> None:
    data = csv_bytes(family_rows())
    first = run(world, data)
    assert (first.created, first.unchanged) == (3, 0)
    rows_before = list(Person.objects.order_by("id").values())

    second = run(world, data)

    assert second.ok
    assert (second.created, second.unchanged, second.households_created) == (0, 3, 0)
    assert list(Person.objects.order_by("id").values()) == rows_before


def test_reimporting_someone_who_left_keeps_them_off_the_register_and_says_so(
    client: Any, world: World
) -> None:
    data = csv_bytes(family_rows())
    run(world, data)
    head = Person.objects.get(id_number_hash=id_hash_of(HEAD_ID))
    Person.objects.filter(pk=head.pk).update(left_on=TODAY, left_reason="deceased")
    rows_before = list(Person.objects.order_by("id").values())

    report = run(world, data)

    assert report.ok and (report.unchanged, report.off_register) == (3, 1)
    assert list(Person.objects.order_by("id").values()) == rows_before
    response = post(client, world.user(Role.COMMUNITY_STAFF), data, "a.csv", world.a.community)
    page = client.get(response["Location"]).content.decode()
    assert "其中已迁出或去世（导入不改变其状态）" in page and 'import-off-register">1<' in page


def test_registered_person_with_different_data_is_a_conflict_not_an_overwrite(
    world: World,
) -> None:
    run(world, csv_bytes(family_rows()))
    before = list(Person.objects.order_by("id").values())
    rows = family_rows()
    rows[0][4] = "13700000000"  # another phone
    rows[1][6:8] = ["3", "502"]  # another address

    report = run(world, csv_bytes(rows))

    assert [(e.line, e.column) for e in report.errors] == [(2, "身份证号码"), (3, "身份证号码")]
    assert "电话不同" in report.errors[0].message
    assert "地址不同" in report.errors[1].message
    assert list(Person.objects.order_by("id").values()) == before


def test_a_person_registered_in_another_tree_is_reported(world: World) -> None:
    person_create(name="外地人", unit=world.b.building, id_number=SPOUSE_ID)
    report = run(world, csv_bytes(family_rows()[:2]))
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "该身份证号码已在其他社区或村登记，不能导入到甲社区。")
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_excel_writes(world: World, encoding: str) -> None:
    report = run(world, csv_bytes(family_rows(), encoding=encoding))
    assert report.ok, report.errors
    assert Person.objects.filter(name="王建国").count() == 1


def test_gb18030_csv_through_the_page(client: Any, world: World) -> None:
    data = csv_bytes(family_rows(), encoding="gb18030")
    response = post(client, world.user(Role.COMMUNITY_STAFF), data, "名单.csv", world.a.community)
    assert response.status_code == 302
    assert Person.objects.filter(name="李秀英").exists()


def test_formulas_are_reported_by_cell(world: World) -> None:
    rows = family_rows()
    rows[1][7] = "=300+1"
    before = snapshot()
    report = run(world, xlsx_bytes(rows))
    assert [(e.line, e.column) for e in report.errors] == [(3, "H3")]
    assert "公式" in report.errors[0].message
    assert snapshot() == before


def test_merged_cells_are_reported(world: World) -> None:
    report = run(world, xlsx_bytes(family_rows(), merge=["F2:F4"]))
    # The merged range is reported, and so are the cells it left empty.
    assert [(e.line, e.column) for e in report.errors] == [(2, "F2:F4"), (3, "地址"), (4, "地址")]
    assert report.errors[0].message == "存在合并单元格：请取消合并，并在每一行填写完整。"
    assert not Person.objects.filter(name="王建国").exists()


def test_file_type_is_judged_by_content_not_name(client: Any, world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    response = post(client, staff, png, "名单.xlsx", world.a.community)
    assert response.status_code == 422
    assert "无法识别的文件" in response.content.decode()
    docx = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert run(world, docx.getvalue()).errors[0].message.startswith("无法读取该文件")
    # An .xlsx workbook named .csv is still read as a workbook.
    response = post(client, staff, xlsx_bytes(family_rows()), "名单.csv", world.a.community)
    assert response.status_code == 302


def test_old_xls_empty_files_and_missing_headers(world: World) -> None:
    assert (
        "旧版 Excel"
        in run(world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600).errors[0].message
    )
    assert run(world, b"").errors == [RowError(0, "", "文件为空。")]
    header_only = run(world, csv_bytes([]))
    assert header_only.errors == [RowError(0, "", "文件中只有表头，没有数据行。")]
    missing = run(world, csv_bytes([["张三"]], header=["姓名", "电话"]))
    assert [(e.line, e.column) for e in missing.errors] == [(1, "身份证号码"), (1, "地址")]
    assert missing.errors[0].message == "缺少必填列“身份证号码”。"


def test_oversized_file_is_refused_with_a_clear_message(
    client: Any, world: World, settings: Any
) -> None:
    settings.DOORSTEP_IMPORT_MAX_BYTES = 1024 * 1024
    data = csv_bytes(family_rows()) + b"," * (1024 * 1024)
    before = snapshot()
    response = post(client, world.user(Role.COMMUNITY_STAFF), data, "big.csv", world.a.community)
    assert response.status_code == 422
    assert "文件太大（1.0 MB），上限为 1 MB。请拆分后分批导入。" in response.content.decode()
    assert snapshot() == before


def test_id_numbers_stored_as_numbers_by_excel_are_refused(world: World) -> None:
    rows: list[list[Any]] = family_rows()[:1]
    rows[0][1] = float(HEAD_ID[:17] + "0")
    report = run(world, xlsx_bytes(rows))
    assert [(e.line, e.column) for e in report.errors] == [(2, "身份证号码")]
    assert "存成了数字" in report.errors[0].message


def test_a_user_of_tree_b_cannot_import_into_tree_a(client: Any, world: World) -> None:
    other = make_user("b_staff", Role.COMMUNITY_STAFF, world.b.community)
    before = snapshot()
    response = post(client, other, xlsx_bytes(family_rows()), "a.xlsx", world.a.community)
    assert response.status_code == 404
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action=AuditAction.IMPORT).exists()


def test_roles_that_may_not_edit_the_registry_do_not_see_the_page(
    client: Any, world: World
) -> None:
    client.force_login(world.user(Role.GRID_MEMBER))
    assert client.get(IMPORT_URL).status_code == 404
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    page = client.get(IMPORT_URL)
    assert page.status_code == 200
    assert f'<option value="{world.a.community.pk}">甲社区</option>' in page.content.decode()
    assert "乙社区" not in page.content.decode()


def test_templates_download_with_chinese_headers_and_notes(client: Any, world: World) -> None:
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    response = client.get("/console/registry/import/template/persons.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["导入数据", "填写说明"]
    assert [c.value for c in workbook["导入数据"][1]] == HEADER
    assert workbook["导入数据"].max_row == 1 or all(
        c.value is None for row in workbook["导入数据"].iter_rows(min_row=2) for c in row
    )
    # The template itself imports cleanly once filled in.
    sheet = workbook["导入数据"]
    for index, row in enumerate(family_rows(), start=2):
        for col, value in enumerate(row, start=1):
            sheet.cell(row=index, column=col, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert run(world, buffer.getvalue()).created == 3


def test_no_plaintext_id_or_phone_anywhere_in_a_person_row(world: World) -> None:
    run(world, xlsx_bytes(family_rows()))
    secrets = {HEAD_ID, SPOUSE_ID, CHILD_ID, HEAD_PHONE}
    for row in Person.objects.values_list():
        text = " ".join(str(value) for value in row)
        assert not any(secret in text for secret in secrets), row
    for household_row in Household.objects.values_list():
        assert not any(secret in " ".join(map(str, household_row)) for secret in secrets)


def test_command_prints_the_report_and_fails_on_errors(tmp_path: Any, world: World) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(family_rows(), encoding="gb18030"))
    out = io.StringIO()
    call_command(
        "import_people", str(good), unit=world.a.community.code, kind="persons",
        user=world.user(Role.COMMUNITY_STAFF).username, stdout=out,
    )  # fmt: skip
    assert "3 created, 0 unchanged" in out.getvalue()
    bad_rows = family_rows()
    bad_rows[0][5] = "甲小区/9号楼"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(bad_rows))
    before = snapshot()
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 problem\(s\); nothing was imported"):
        call_command(
            "import_people", str(bad), unit=str(world.a.community.pk),
            user=world.user(Role.COMMUNITY_STAFF).username, stdout=out,
        )  # fmt: skip
    assert "2\t地址\t在甲社区下找不到地址“甲小区/9号楼”。" in out.getvalue()
    assert snapshot() == before
    with pytest.raises(CommandError, match="outside"):
        call_command(
            "import_people", str(good), unit=world.b.community.code,
            user=world.user(Role.COMMUNITY_STAFF).username, stdout=io.StringIO(),
        )  # fmt: skip


def test_party_members_and_mobile_registrations(world: World) -> None:
    run(world, csv_bytes(family_rows()))
    functional = party_org_create(
        kind="functional", name="甲站点功能型党支部", unit=world.a.community
    )
    members = [
        [HEAD_ID, "甲社区党委", "正式党员", "1995-07-01"],
        [SPOUSE_ID, "甲社区党委", "预备党员", ""],
    ]
    header = ["身份证号码", "党组织名称", "类别", "入党日期"]
    report = run(world, csv_bytes(members, header=header), kind="party_members")
    assert (report.ok, report.created) == (True, 2)
    head = PartyMember.objects.get(person__id_number_hash=id_hash_of(HEAD_ID))
    assert (head.party_org, head.kind, head.joined_on) == (
        world.a.party_org,
        "regular",
        dt.date(1995, 7, 1),
    )
    again = run(world, csv_bytes(members, header=header), kind="party_members")
    assert (again.created, again.unchanged) == (0, 2)
    unknown = run(
        world,
        csv_bytes([[idn(dt.date(1960, 1, 1), 1), "无此党委", "", ""]], header=header),
        kind="party_members",
    )
    assert [(e.line, e.column) for e in unknown.errors] == [(2, "党组织名称"), (2, "身份证号码")]

    mobile_header = ["身份证号码", "报到党组织", "报到日期", "原所在党组织"]
    mobile = [[HEAD_ID, "甲站点功能型党支部", "2024-03-01", "某县某村党支部"]]
    report = run(world, csv_bytes(mobile, header=mobile_header), kind="mobile")
    assert (report.ok, report.created) == (True, 1)
    registration = MobileRegistration.objects.get()
    assert (registration.party_org, registration.registered_on, registration.status) == (
        functional,
        dt.date(2024, 3, 1),
        "active",
    )
    assert run(world, csv_bytes(mobile, header=mobile_header), kind="mobile").unchanged == 1
    not_functional = run(
        world, csv_bytes([[HEAD_ID, "甲社区党委", "2024-03-01", "x"]], header=mobile_header),
        kind="mobile",
    )  # fmt: skip
    assert not_functional.errors[0].message == "在甲社区找不到名为“甲社区党委”的功能型党组织。"
    assert MobileRegistration.objects.count() == 1


def test_the_importers_pinyin_shortcut_agrees_with_pinyin_keys() -> None:
    import random

    from doorstep.core.synthetic import person_name
    from doorstep.people.importing import PinyinKeys
    from doorstep.people.pinyin import pinyin_keys

    rng = random.Random(7)
    names = [person_name(rng) for _ in range(20_000)]
    names += [
        "欧阳修",
        "单田芳",
        "曾国藩",
        "长孙无忌",
        "解缙",
        "乐嘉",
        "张 三",
        "Tom李",
        "重庆",
        "朝阳",
    ]
    fast = PinyinKeys()
    assert [fast(name) for name in names] == [pinyin_keys(name) for name in names]


def test_the_importers_id_and_phone_shortcuts_agree_with_the_full_checks() -> None:
    import random

    from doorstep.core.errors import ValidationError
    from doorstep.people.idnumber import normalize_phone, parse_id_number
    from doorstep.people.importing import IdCheck, _fast_phone

    rng = random.Random(11)
    valid = [
        make_id_number(rng.choice(["510502", "110105", "620402"]), dt.date(y, m, d), s)
        for y, m, d, s in [(1900, 1, 1, 1), (1980, 2, 29, 2), (2026, 5, 1, 3), (1999, 12, 31, 998)]
    ] + [idn(dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(27_000)), n) for n in range(300)]
    texts = [*valid]
    for value in valid[:60]:
        check = value[17]
        texts += [
            value[:17] + ("0" if check != "0" else "1"),  # wrong check character
            value[:17] + check.lower(),
            value[:9] + " " + value[9:],
            "99" + value[2:],  # no such province
            value[:17],
            value + "1",
            value.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        ]
    texts += [
        make_id_number("510502", dt.date(2026, 5, 2), 1),  # born after "today"
        make_id_number("510502", dt.date(1899, 12, 31), 1),
        "51050219800230001X",  # 30 February
        "51050219801301001X",
        "5105021980010200A8",
    ]
    check_id = IdCheck(TODAY)
    for text in texts:
        try:
            parsed = parse_id_number(text, today=TODAY)
        except ValidationError:
            parsed = None
        fast = check_id(text)
        if fast is not None:  # the shortcut only ever says yes to what the full check accepts
            assert parsed is not None and parsed.value == text and parsed.birth_date == fast
        elif parsed is not None:  # and says yes to every valid ASCII number written as is
            assert parsed.value != text or not text.isascii()
    assert all(check_id(value) is not None for value in valid)

    phones = ["13912345678", "19912345678", "12912345678", "8613912345678", "+86 139 1234 5678",
              "010-12345678", "139123456789", "1391234567", "１３９１２３４５６７８", "23912345678"]  # fmt: skip
    for phone in phones:
        try:
            expected: str | None = normalize_phone(phone)
        except ValidationError:
            expected = None
        try:
            got: str | None = _fast_phone(phone)
        except ValidationError:
            got = None
        assert got == expected


# --- Whatever the page's language ------------------------------------------------------------

ENGLISH_HEADER = ["Name", "ID number", "Gender", "Date of birth", "Phone", "Address",
                  "Entrance", "Room", "Relationship to head of household", "Tags",
                  "Guardian ID number"]  # fmt: skip


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("english_file", [False, True])
def test_chinese_and_english_headers_and_labels_import_in_either_language(
    world: World, language: str, english_file: bool
) -> None:
    """The template's Chinese headers and choice labels import from the English page,
    and English ones (any case) from the Chinese page: the file, not the page, decides."""
    from django.utils import translation

    rows = family_rows()
    header = HEADER
    if english_file:
        header = ENGLISH_HEADER
        rows[0][2], rows[0][8] = "Male", "head of household"
        rows[1][8] = "SPOUSE"
        rows[2][8] = "Child"
    with translation.override(language):
        report = run(world, xlsx_bytes(rows, header=header))
    assert report.ok, report.errors
    assert report.created == 3
    family = Person.objects.filter(name__in=["王建国", "李秀英", "王小明"])
    assert dict(family.values_list("name", "relation")) == {
        "王建国": "head",
        "李秀英": "spouse",
        "王小明": "child",
    }


def test_an_unknown_relation_is_still_reported_in_the_english_page(world: World) -> None:
    from django.utils import translation

    rows = family_rows()
    rows[1][8] = "Neighbour"
    before = snapshot()
    with translation.override("en"):
        report = run(world, csv_bytes(rows))
    assert [(e.line, e.column) for e in report.errors] == [(3, "与户主关系")]
    assert "Neighbour" in report.errors[0].message
    assert snapshot() == before


def test_a_large_import_streams_every_row_and_its_tags(world: World) -> None:
    """More rows than one chunk: every person, household head, guardian and tag written
    (COPY is streamed on PostgreSQL; SQLite writes chunk by chunk)."""
    from doorstep.people.importing import CHUNK

    rows = []
    for i in range(CHUNK + 150):
        head = idn(dt.date(1960, 1, 1) + dt.timedelta(days=i), i % 1000)
        rows.append(["赵" + chr(0x4E00 + i % 500), head, "", "", "", "甲小区/1号楼", "1",
                     str(1000 + i), "户主", "独居" if i % 3 == 0 else "", ""])  # fmt: skip
    persons, heads = Person.objects.count(), Household.objects.filter(head__isnull=False).count()
    tagged = Person.objects.filter(tags__code="living_alone").count()
    report = run(world, csv_bytes(rows))
    assert report.ok, report.errors[:3]
    assert report.created == len(rows) == Person.objects.count() - persons
    assert Household.objects.filter(head__isnull=False).count() - heads == len(rows)
    assert Person.objects.filter(tags__code="living_alone").count() - tagged == len(
        [r for r in rows if r[9]]
    )
    assert run(world, csv_bytes(rows)).unchanged == len(rows)  # and again: idempotent
