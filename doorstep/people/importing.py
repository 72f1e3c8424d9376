"""Importing the registry from the spreadsheets local governments keep (.xlsx and .csv).

Three kinds of file: persons with their households, party members, and mobile party
member registrations (流动党员报到). Every import is all or nothing:

1. the file is checked as a whole (type by content, size, encoding, headers, formulas,
   merged cells), then every row is validated against the file and the database, and
   *every* bad row is reported with its line, column and reason;
2. only when nothing is wrong are rows written, in one transaction.

Re-importing a file changes nothing: a person whose ID hash is registered with the same
data is counted as unchanged; with different data the row is a reported conflict, never
a silent overwrite.

Large files do not go through the ORM. The validation pass keeps each new person as a
compact tuple (with the ID hash the duplicate check computed); the write pass seals,
hashes the phone and gives pinyin per row (per distinct name), and writes them with one
``executemany`` per chunk on SQLite (with a larger page cache, see
:func:`bulk_load_settings`) or ``COPY`` on PostgreSQL, with primary keys reserved up
front so that guardians, household heads and tags can refer to rows that are not
written yet (foreign keys are deferred to the end of the transaction on both databases).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction, AuditOutcome
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import crypto
from doorstep.core.errors import PermissionDenied, ValidationError
from doorstep.orgs.choices import GRASSROOTS_KINDS, PartyOrgKind
from doorstep.orgs.models import PartyOrg, Unit

from .choices import CHILD_AGE, MobileStatus, PartyMemberKind, Relation
from .idnumber import (
    CHECK_CHARS,
    WEIGHTS,
    mask_phone,
    normalize_phone,
    parse_id_number,
    region_codes,
)
from .models import Household, MobileRegistration, PartyMember, Person, Tag
from .pinyin import pinyin_keys
from .rules import can_edit_registry
from .services import ADDRESS_KINDS

MAX_BYTES_DEFAULT = 50 * 1024 * 1024
CHUNK = 2_000  # rows validated, looked up and written together
BULK_CACHE_KIB = 256 * 1024  # SQLite's page cache while a large import writes
CACHE_LIMIT = 100_000  # distinct values remembered per import (names, addresses, dates)
SNIFF_BYTES = 64 * 1024


class ImportKind(models.TextChoices):
    PERSONS = "persons", gettext_lazy("人员和住户")
    PARTY_MEMBERS = "party_members", gettext_lazy("党员")
    MOBILE = "mobile", gettext_lazy("流动党员报到")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    note: str = ""
    example: str = ""


COLUMNS: dict[str, list[Column]] = {
    ImportKind.PERSONS: [
        Column("name", "姓名", True, "必填", "张三"),
        Column(
            "id_number", "身份证号码", True, "必填，18位；请将此列设为文本", "510502198001020018"
        ),
        Column("gender", "性别", False, "男/女；可不填，以身份证号码为准", "男"),
        Column("birth_date", "出生日期", False, "如 1980-01-02；可不填，以身份证号码为准", ""),
        Column("phone", "电话", False, "手机号11位，座机带区号", "13800000000"),
        Column("address", "地址", True, "所选社区/村以下的单元名称，用 / 分隔", "棉纺厂小区/3号楼"),
        Column("entrance", "单元", False, "单元号，如 2", "2"),
        Column("room", "室号", False, "室号或门牌号，如 301", "301"),
        Column("relation", "与户主关系", False, "户主、配偶、子女、父母……", "户主"),
        Column("tags", "标签", False, "标签代码或名称，用顿号或逗号分隔", "退役军人、独居"),
        Column(
            "guardian", "监护人身份证号码", False, "未满14周岁必填；监护人须已登记或在本文件中", ""
        ),
    ],
    ImportKind.PARTY_MEMBERS: [
        Column("id_number", "身份证号码", True, "必填，人员须已登记", "510502198001020018"),
        Column("party_org", "党组织名称", True, "所选社区/村内党组织的名称", "某社区党委"),
        Column("kind", "类别", False, "正式党员/预备党员，默认正式党员", "正式党员"),
        Column("joined_on", "入党日期", False, "如 2001-07-01", "2001-07-01"),
    ],
    ImportKind.MOBILE: [
        Column("id_number", "身份证号码", True, "必填，人员须已登记", "510502198001020018"),
        Column("party_org", "报到党组织", True, "站点功能型党组织的名称", "某站点功能型党支部"),
        Column("registered_on", "报到日期", True, "如 2024-03-01", "2024-03-01"),
        Column("origin_org", "原所在党组织", True, "原组织关系所在党组织", "某县某村党支部"),
    ],
}

HEADER_ALIASES = {
    "身份证号": "身份证号码",
    "公民身份号码": "身份证号码",
    "证件号码": "身份证号码",
    "联系电话": "电话",
    "手机": "电话",
    "手机号": "电话",
    "手机号码": "电话",
    "门牌号": "室号",
    "房号": "室号",
    "户主关系": "与户主关系",
    "监护人身份证号": "监护人身份证号码",
    "所在党组织": "党组织名称",
    "党组织": "党组织名称",
}


@dataclass(frozen=True)
class RowError:
    """One problem: ``line`` is the spreadsheet row (1 is the header; 0: the file)."""

    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    kind: str
    unit_name: str = ""
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    # Of the unchanged persons, those off the register (moved away or deceased): an
    # import neither puts them back nor takes anyone off, and says so.
    off_register: int = 0
    households_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "unchanged": self.unchanged,
            "off_register": self.off_register,
            "households_created": self.households_created,
            "errors": len(self.errors),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "unit_name": self.unit_name,
            **self.counts(),
            "error_list": [[e.line, e.column, e.message] for e in self.errors],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportReport:
        return cls(
            kind=data["kind"],
            unit_name=data.get("unit_name", ""),
            rows=data["rows"],
            created=data["created"],
            unchanged=data["unchanged"],
            off_register=data.get("off_register", 0),
            households_created=data["households_created"],
            errors=[RowError(*e) for e in data.get("error_list", [])],
        )


class FileRejected(Exception):
    """The file as a whole cannot be read; carries the problems to report."""

    def __init__(self, errors: list[RowError]):
        super().__init__(errors[0].message if errors else "")
        self.errors = errors


def max_bytes() -> int:
    return int(getattr(settings, "DOORSTEP_IMPORT_MAX_BYTES", MAX_BYTES_DEFAULT))


# --- Reading a file ------------------------------------------------------------------------


@dataclass
class Table:
    """A sheet: its normalized header and a re-iterable source of (line, cells)."""

    header: list[str]
    rows: Callable[[], Iterator[tuple[int, Sequence[Any]]]]
    problems: list[RowError] = field(default_factory=list)
    format: str = "csv"


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _file_size(source: IO[bytes]) -> int:
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    return size


# English headers, whatever the language of the page the file is imported from: spaces,
# case and "_" / "-" are ignored ("ID number", "id_number" and "IDNumber" are the same).
ENGLISH_HEADERS = {
    "name": "姓名", "fullname": "姓名", "idnumber": "身份证号码", "idno": "身份证号码",
    "residentidnumber": "身份证号码", "gender": "性别", "sex": "性别",
    "dateofbirth": "出生日期", "birthdate": "出生日期", "phone": "电话",
    "phonenumber": "电话", "mobile": "电话", "address": "地址", "entrance": "单元",
    "room": "室号", "roomnumber": "室号", "relation": "与户主关系",
    "relationtohead": "与户主关系", "relationshiptoheadofhousehold": "与户主关系",
    "tags": "标签", "guardianidnumber": "监护人身份证号码", "guardian": "监护人身份证号码",
    "partyorganization": "党组织名称", "partyorg": "党组织名称", "category": "类别",
    "kind": "类别", "dateofjoiningtheparty": "入党日期", "joinedon": "入党日期",
    "registeredwith": "报到党组织", "registrationdate": "报到日期",
    "registeredon": "报到日期", "originalpartyorganization": "原所在党组织",
    "originorganization": "原所在党组织",
}  # fmt: skip


def _normalize_header(text: Any) -> str:
    value = re.sub(r"\s+", "", str(text or "")).strip("*＊")
    value = re.sub(r"[（(](必填|选填|required|optional)[）)]$", "", value, flags=re.IGNORECASE)
    if value.isascii():
        english = ENGLISH_HEADERS.get(re.sub(r"[\s_\-]+", "", value).casefold())
        if english:
            return english
    return HEADER_ALIASES.get(value, value)


def read_table(source: IO[bytes]) -> Table:
    """Open an uploaded file by what it contains, never by its name."""
    size = _file_size(source)
    if size == 0:
        raise FileRejected([RowError(0, "", _("文件为空。"))])
    limit = max_bytes()
    if size > limit:
        raise FileRejected(
            [
                RowError(
                    0,
                    "",
                    _("文件太大（%(size).1f MB），上限为 %(limit).0f MB。请拆分后分批导入。")
                    % {"size": size / 1024 / 1024, "limit": limit / 1024 / 1024},
                )
            ]
        )
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(source)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected(
            [RowError(0, "", _("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后导入。"))]
        )
    if b"\x00" in head:
        raise FileRejected(
            [RowError(0, "", _("无法识别的文件：请上传 Excel 工作簿（.xlsx）或 CSV 文件。"))]
        )
    return _read_csv(source)


def _detect_encoding(source: IO[bytes]) -> str:
    start = source.read(3)
    source.seek(0)
    if start == codecs.BOM_UTF8:
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := source.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            source.seek(0)
        return encoding
    raise FileRejected(
        [RowError(0, "", _("无法识别文件的文字编码：请保存为 UTF-8 或 GB18030 编码的 CSV。"))]
    )


def _read_csv(source: IO[bytes]) -> Table:
    encoding = _detect_encoding(source)

    def records() -> Iterator[list[str]]:
        source.seek(0)
        text = io.TextIOWrapper(source, encoding=encoding, newline="")
        try:
            yield from csv.reader(text)
        except csv.Error as exc:
            raise FileRejected([RowError(0, "", _("CSV 格式错误：%(e)s") % {"e": exc})]) from None
        finally:
            text.detach()

    header: list[str] | None = None
    header_line = 0
    for line, record in enumerate(records(), start=1):
        if any(cell.strip() for cell in record):
            header, header_line = [_normalize_header(c) for c in record], line
            break
    if header is None:
        raise FileRejected([RowError(0, "", _("文件中没有数据。"))])

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        for line, record in enumerate(records(), start=1):
            if line > header_line:
                yield line, record

    return Table(header=header, rows=rows, format="csv")


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
_CELL_REF = re.compile(rb"""\br=["']([A-Z]+\d+)["']""")


def _first_sheet_xml(archive: zipfile.ZipFile) -> str | None:
    """The part name of the workbook's first sheet (what calamine reads as index 0)."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    sheet = re.search(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook)
    if not sheet:
        return None
    for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
        tag = rel.group(0)
        if re.search(rb'\bId="' + re.escape(sheet.group(1)) + rb'"', tag):
            target = re.search(rb'\bTarget="([^"]+)"', tag)
            if target:
                name = target.group(1).decode()
                return name.lstrip("/") if name.startswith("/") else "xl/" + name
    return None


def _formula_cells(archive: zipfile.ZipFile, part: str) -> list[str]:
    """References of cells holding a formula, scanning the sheet XML in streamed chunks."""
    found: list[str] = []
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            buffer = tail + chunk
            for match in _FORMULA.finditer(buffer):
                if match.start() < len(tail) - 16:
                    continue  # already seen in the previous chunk's overlap
                cell_start = max(buffer.rfind(b"<c ", 0, match.start()), 0)
                ref = _CELL_REF.search(buffer, cell_start, match.start())
                if ref:
                    found.append(ref.group(1).decode())
            tail = buffer[-4096:]
    return list(dict.fromkeys(found))


def _read_xlsx(source: IO[bytes]) -> Table:
    from python_calamine import CalamineError, CalamineWorkbook

    not_xlsx = RowError(0, "", _("无法读取该文件：它不是有效的 Excel 工作簿（.xlsx）。"))
    try:
        archive = zipfile.ZipFile(source)
        names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise FileRejected([not_xlsx]) from None
    if "xl/workbook.xml" not in names:
        raise FileRejected([not_xlsx])
    part = _first_sheet_xml(archive)
    formulas = _formula_cells(archive, part) if part and part in names else []
    source.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(source)
        sheet = workbook.get_sheet_by_index(0)
        data = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
    except (CalamineError, ValueError, OSError):
        raise FileRejected([not_xlsx]) from None
    problems = [
        RowError(
            int(re.sub(r"[A-Z]", "", ref)),
            ref,
            _("单元格含有公式：请复制后“选择性粘贴为数值”，再导入。"),
        )
        for ref in formulas
    ]
    for (r0, c0), (r1, c1) in merged:
        span = f"{column_letter(c0)}{r0 + 1}:{column_letter(c1)}{r1 + 1}"
        problems.append(
            RowError(r0 + 1, span, _("存在合并单元格：请取消合并，并在每一行填写完整。"))
        )
    header_index = next((i for i, row in enumerate(data) if any(_text(cell) for cell in row)), None)
    if header_index is None:
        raise FileRejected([RowError(0, "", _("文件中没有数据。")), *problems])
    header = [_normalize_header(c) for c in data[header_index]]

    def rows() -> Iterator[tuple[int, Sequence[Any]]]:
        for index in range(header_index + 1, len(data)):
            yield index + 1, data[index]

    problems.sort(key=lambda e: e.line)
    return Table(header=header, rows=rows, problems=problems, format="xlsx")


# --- Cells ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: Any) -> dt.date:
    """A date as people type it into a spreadsheet; ValueError when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float | int) and not isinstance(value, bool) and 1 < value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    text = _text(value)
    if len(text) == 8 and text.isdigit():
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    match = _DATE.match(text)
    if not match:
        raise ValueError(text)
    return dt.date(int(match[1]), int(match[2]), int(match[3]))


def _split_tags(text: str) -> list[str]:
    return [t for t in re.split(r"[、,，;；\s]+", text) if t]


IMPORT_LANGUAGES = ("zh-hans", "en")  # choice labels accepted whatever the page's language


class ChoiceMap(dict[str, str]):
    """Values and labels (Chinese and English, whatever the active language) to values,
    built once per import: looking a label up through the lazy translation on every row
    costs more than the row's crypto. ASCII words match in any case (``Spouse``,
    ``spouse``, ``SPOUSE``)."""

    def find(self, text: str) -> str:
        found = self.get(text)
        if found is None and text.isascii():
            found = self.get(text.casefold())
        return found or ""


def _choice_map(
    choices: type[models.TextChoices], aliases: dict[str, str] | None = None
) -> ChoiceMap:
    found = ChoiceMap()
    for language in IMPORT_LANGUAGES:
        with translation.override(language):
            for value, label in choices.choices:
                text = str(label)
                found[text] = str(value)
                if text.isascii():
                    found[text.casefold()] = str(value)
    found.update({str(value): str(value) for value in choices.values})
    found.update(aliases or {})
    return found


RELATION_ALIASES = {"本人": "head", "妻子": "spouse", "丈夫": "spouse", "儿子": "child", "女儿": "child",
                    "父亲": "parent", "母亲": "parent", "孙子": "grandchild", "孙女": "grandchild",
                    "租客": "tenant", "户主": "head"}  # fmt: skip
GENDER_WORDS = {"男": "male", "女": "female", "male": "male", "female": "female",
                "男性": "male", "女性": "female", "m": "male", "f": "female"}  # fmt: skip


class PinyinKeys:
    """:func:`pinyin_keys`, exactly, at a fraction of its cost for many names.

    pypinyin converts a name word by word, and a run of characters that forms no phrase
    of its dictionary character by character. So when no two-or-more-character substring
    of a name is a phrase, its keys are the concatenation of its characters' keys, which
    are cached; every other name goes through :func:`pinyin_keys` itself. The test suite
    checks the two agree on a large sample of names."""

    MAX_FAST = 10

    def __init__(self) -> None:
        from pypinyin.constants import PHRASES_DICT

        self.phrases = PHRASES_DICT
        self.chars: dict[str, tuple[str, str]] = {}
        self.names: dict[str, tuple[str, str]] = {}

    def __call__(self, name: str) -> tuple[str, str]:
        keys = self.names.get(name)
        if keys is None:
            keys = self.keys(name)
            if len(self.names) < CACHE_LIMIT:
                self.names[name] = keys
        return keys

    def keys(self, name: str) -> tuple[str, str]:
        n = len(name)
        if n > self.MAX_FAST:
            return pinyin_keys(name)
        phrases = self.phrases
        for i in range(n - 1):
            for j in range(i + 2, n + 1):
                if name[i:j] in phrases:
                    return pinyin_keys(name)
        full, initials = [], []
        chars = self.chars
        for char in name:
            keys = chars.get(char)
            if keys is None:
                keys = chars[char] = pinyin_keys(char)
            full.append(keys[0])
            initials.append(keys[1])
        return "".join(full)[:200], "".join(initials)[:50]


_MISSING: Any = object()
_DIGIT_WEIGHTS = tuple({str(d): d * w for d in range(10)} for w in WEIGHTS)


class IdCheck:
    """:func:`parse_id_number`'s verdict on a well-formed number, at a fraction of its
    cost: returns the birth date when the number (already stripped) is a valid 18-digit
    ID exactly as written, else None, and the caller asks :func:`parse_id_number`, which
    decides and names the problem (and normalizes spaces and a lower-case x). The date
    of each distinct birth date is computed once. The test suite checks the two agree."""

    def __init__(self, today: dt.date):
        self.today = today
        self.births: dict[str, dt.date | None] = {}
        self.regions = region_codes()

    def __call__(self, text: str) -> dt.date | None:
        if (
            len(text) != 18
            or not text.isascii()
            or not text[:17].isdigit()
            or text[:6] not in self.regions
        ):
            return None
        births = self.births
        birth = births.get(text[6:14], _MISSING)
        if birth is _MISSING:
            try:
                birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
            except ValueError:
                birth = None
            if birth is not None and (birth.year < 1900 or birth > self.today):
                birth = None
            if len(births) < CACHE_LIMIT:
                births[text[6:14]] = birth
        if birth is None:
            return None
        w = _DIGIT_WEIGHTS
        total = (
            w[0][text[0]] + w[1][text[1]] + w[2][text[2]] + w[3][text[3]] + w[4][text[4]]
            + w[5][text[5]] + w[6][text[6]] + w[7][text[7]] + w[8][text[8]] + w[9][text[9]]
            + w[10][text[10]] + w[11][text[11]] + w[12][text[12]] + w[13][text[13]]
            + w[14][text[14]] + w[15][text[15]] + w[16][text[16]]
        )  # fmt: skip
        return birth if CHECK_CHARS[total % 11] == text[17] else None


_MOBILE_PREFIXES = frozenset(f"1{d}" for d in "3456789")


def _fast_phone(text: str) -> str:
    """:func:`normalize_phone` for the common case (an 11-digit mobile number as is);
    anything else goes through it."""
    if len(text) == 11 and text.isascii() and text.isdigit() and text[:2] in _MOBILE_PREFIXES:
        return text
    return normalize_phone(text)


# --- Writing rows fast ---------------------------------------------------------------------


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """The database's own bulk load: one COPY on PostgreSQL, one executemany per
    :data:`CHUNK` rows on SQLite. Values must already be in the database's form (see
    :func:`db_value`).

    ``rows`` may be a generator, and on PostgreSQL it should be when making the rows
    costs time: COPY streams each row to the server as soon as it is made, so the server
    parses, checks and indexes rows on its own core while Python makes the next ones
    (rather than waiting, chunk after chunk, for one side or the other)."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
        if isinstance(rows, list) and len(rows) <= CHUNK:
            cursor.executemany(sql, rows)
            return
        source = iter(rows)
        while batch := list(itertools.islice(source, CHUNK)):
            cursor.executemany(sql, batch)


@contextmanager
def bulk_load_settings() -> Iterator[None]:
    """Connection settings for writing many rows, restored afterwards.

    SQLite: a page cache of up to :data:`BULK_CACHE_KIB` instead of the default 2 MB, so
    that the pages of the person table's dozen indexes, which every row touches at
    random places, stay in memory rather than being spilled to the WAL and read back
    for the next row. Pages are allocated only as they are used. Durability is as
    configured (journal mode and ``synchronous`` are not touched). PostgreSQL: nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB:d}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous:d}")


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for ``count`` rows about to be written in this transaction."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the write lock (transaction_mode IMMEDIATE), so
        # nothing else can take these ids; AUTOINCREMENT's high-water mark is respected.
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
        start = max(top, seq[0] if seq else 0) + 1
    return list(range(start, start + count))


def db_value(value: Any) -> Any:
    """A constant (timestamps, defaults) in the form the current database takes."""
    if connection.vendor == "sqlite":
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, bool):
            return int(value)
    return value


# --- The import ----------------------------------------------------------------------------


def registry_import(
    *,
    actor: Any,
    unit_id: int | str,
    kind: str,
    source: IO[bytes],
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Validate a whole file and load it, or load nothing and report every problem.

    The actor must be allowed to edit the registry; the unit (a community or village)
    must be in their scope, and addresses, persons and party organizations resolve
    only within it. Audited with counts only, never personal numbers."""
    if not can_edit_registry(actor):
        raise PermissionDenied(_("您的角色无权导入人员信息。"))
    unit = get_scoped_or_404(actor, Unit, pk=unit_id)
    if unit.kind not in GRASSROOTS_KINDS:
        raise ValidationError(_("请选择一个社区或村。"), field="unit")
    if kind not in ImportKind.values:
        raise ValidationError(_("未知的导入类型。"), field="kind")
    today = today or timezone.localdate()
    report = ImportReport(kind=kind, unit_name=unit.name)
    try:
        with _cyclic_gc_paused():
            _run_importer(
                actor=actor, unit=unit, kind=kind, source=source, report=report, today=today
            )
    except FileRejected as rejected:
        report.errors = rejected.errors
    detail = {"kind": kind, "unit": unit.pk, **report.counts()}
    audit_record(
        action=AuditAction.IMPORT,
        outcome=AuditOutcome.SUCCESS if report.ok else AuditOutcome.FAILURE,
        actor=actor,
        obj=unit,
        request=request,
        detail=detail,
    )
    return report


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a file is imported.

    An import keeps a few small objects per row (a tuple per new person, dict entries)
    alive until it ends, and makes no reference cycles. The collector would scan them
    again and again as they pile up: a third of the validation pass's time at 300,000
    rows. Memory is still freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run_importer(
    *, actor: Any, unit: Unit, kind: str, source: IO[bytes], report: ImportReport, today: dt.date
) -> None:
    table = read_table(source)
    importer: type[_Importer] = {
        ImportKind.PERSONS: _PersonsImporter,
        ImportKind.PARTY_MEMBERS: _PartyMembersImporter,
        ImportKind.MOBILE: _MobileImporter,
    }[ImportKind(kind)]
    importer(actor=actor, unit=unit, table=table, report=report, today=today).run()


class _Importer:
    kind: str

    def __init__(
        self, *, actor: Any, unit: Unit, table: Table, report: ImportReport, today: dt.date
    ):
        self.actor, self.unit, self.table, self.report, self.today = (
            actor,
            unit,
            table,
            report,
            today,
        )
        self.errors = report.errors
        self.columns = COLUMNS[self.kind]
        self.headers = {c.key: c.header for c in self.columns}
        self.index: dict[str, int] = {}
        self.id_check = IdCheck(today)

    def error(self, line: int, key: str, message: str) -> None:
        self.errors.append(RowError(line, self.headers.get(key, key), message))

    def check_header(self) -> None:
        positions = {name: i for i, name in reversed(list(enumerate(self.table.header))) if name}
        missing = [c.header for c in self.columns if c.required and c.header not in positions]
        if missing:
            raise FileRejected(
                [
                    RowError(1, header, _("缺少必填列“%(name)s”。") % {"name": header})
                    for header in missing
                ]
                + self.table.problems
            )
        self.index = {c.key: positions[c.header] for c in self.columns if c.header in positions}
        self.errors.extend(self.table.problems)

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line, {key: raw cell}) for every non-blank row, in file order."""
        index = list(self.index.items())
        for line, cells in self.table.rows():
            width = len(cells)
            values = {key: (cells[i] if i < width else None) for key, i in index}
            if any(_text(v) for v in values.values()):
                yield line, values

    def chunks(self) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        chunk: list[tuple[int, dict[str, Any]]] = []
        for record in self.records():
            chunk.append(record)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def id_value(self, line: int, raw: Any, key: str = "id_number") -> str | None:
        if isinstance(raw, float | int) and not isinstance(raw, bool):
            self.error(
                line,
                key,
                _("身份证号码被 Excel 存成了数字，末几位可能已丢失：请把该列设为文本后重新填写。"),
            )
            return None
        text = _text(raw)
        if not text:
            self.error(line, key, _("请填写身份证号码。"))
            return None
        if self.id_check(text) is not None:
            return text
        try:
            return parse_id_number(text, today=self.today).value
        except ValidationError as exc:
            self.error(line, key, str(exc.message))
            return None

    def date_value(self, line: int, key: str, raw: Any, *, required: bool) -> dt.date | None:
        if not _text(raw) and not isinstance(raw, dt.date):
            if required:
                self.error(line, key, _("请填写日期。"))
            return None
        try:
            day = parse_date(raw)
        except ValueError:
            self.error(line, key, _("日期格式不正确，请写成 2024-03-01。"))
            return None
        if day > self.today or day.year < 1900:
            self.error(line, key, _("日期不在合理范围内。"))
            return None
        return day

    def run(self) -> None:
        raise NotImplementedError

    def scoped_persons(self, hashes: list[str]) -> dict[str, dict[str, Any]]:
        """Registered persons by ID hash, with their unit path (to tell out-of-scope)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(hashes), 500):
            # The unique index on the hash is partial (non-empty hashes): say so, or
            # SQLite's planner cannot use it and scans the table.
            for row in (
                Person.objects.filter(id_number_hash__in=hashes[start : start + 500])
                .exclude(id_number_hash="")
                .order_by()
            ).values("id", "id_number_hash", "unit__path"):
                found[row["id_number_hash"]] = dict(row)
        return found

    def in_unit(self, path: str) -> bool:
        return path.startswith(self.unit.path)

    def party_orgs(self, *, functional: bool) -> dict[str, list[PartyOrg]]:
        orgs = scoped(self.actor, PartyOrg).filter(
            self.unit.subtree_q(field="unit__path"), is_active=True
        )
        if functional:
            orgs = orgs.filter(kind=PartyOrgKind.FUNCTIONAL)
        by_name: dict[str, list[PartyOrg]] = {}
        for org in orgs:
            by_name.setdefault(org.name, []).append(org)
        return by_name

    def resolve_org(
        self, line: int, raw: Any, orgs: dict[str, list[PartyOrg]], *, functional: bool
    ) -> PartyOrg | None:
        name = _text(raw)
        if not name:
            self.error(line, "party_org", _("请填写党组织名称。"))
            return None
        matches = orgs.get(name, [])
        if len(matches) > 1:
            self.error(line, "party_org", _("有多个同名党组织，无法确定是哪一个。"))
            return None
        if not matches:
            message = (
                _("在%(unit)s找不到名为“%(name)s”的功能型党组织。")
                if functional
                else _("在%(unit)s找不到名为“%(name)s”的党组织。")
            )
            self.error(line, "party_org", message % {"unit": self.unit.name, "name": name})
            return None
        return matches[0]


# --- Persons and households ----------------------------------------------------------------


@dataclass
class _Existing:
    pk: int
    name: str
    household: tuple[int, str, str] | None
    relation: str
    phone_hash: str
    guardian_hash: str
    tags: set[int]
    left: bool = False  # off the register


class _PersonsImporter(_Importer):
    kind = ImportKind.PERSONS

    def run(self) -> None:
        self.relations = _choice_map(Relation, RELATION_ALIASES)
        self.check_header()
        self.load_places()
        self.validate()
        if self.errors:
            self.errors.sort(key=lambda e: e.line)
            return
        with transaction.atomic(), bulk_load_settings():
            self.write()

    # Pass 0: what addresses, households and tags exist below the unit.
    def load_places(self) -> None:
        units = list(
            Unit.objects.filter(self.unit.subtree_q(), is_active=True)
            .order_by("path")
            .values("id", "path", "name", "kind", "parent_id")
        )
        relative: dict[int, tuple[str, ...]] = {}
        self.addresses: dict[str, int] = {}
        self.address_cache: dict[str, str | None] = {}  # as written -> key in addresses
        self.address_kinds: dict[str, str] = {}
        for row in units:
            names = (
                ()
                if row["id"] == self.unit.pk
                else (*relative.get(row["parent_id"], ()), row["name"])
            )
            relative[row["id"]] = names
            key = "/".join(names)
            self.addresses[key] = row["id"]
            self.address_kinds[key] = row["kind"]
        self.households: dict[tuple[int, str, str], tuple[int, int | None]] = {
            (h["unit_id"], h["entrance"], h["room"]): (h["id"], h["head_id"])
            for h in Household.objects.filter(self.unit.subtree_q(field="unit__path")).values(
                "id", "unit_id", "entrance", "room", "head_id"
            )
        }
        self.tags: dict[str, int] = {}
        for tag in Tag.objects.filter(is_active=True):
            self.tags[tag.code] = tag.pk
            self.tags[tag.name] = tag.pk

    def resolve_address(self, text: str) -> str | None:
        cache = self.address_cache
        key = cache.get(text, _MISSING)
        if key is _MISSING:
            key = self.find_address(text)
            if len(cache) < CACHE_LIMIT:
                cache[text] = key
        return key

    def find_address(self, text: str) -> str | None:
        parts = [p for p in re.split(r"\s*[/／\\>＞]\s*", text) if p]
        if parts and parts[0] == self.unit.name:
            parts = parts[1:]
        key = "/".join(parts)
        return key if key in self.addresses else None

    # Pass 1: every row against the file and the database.
    def validate(self) -> None:
        self.seen: dict[str, int] = {}  # ID number -> line of its first row
        self.new_ord: dict[str, int] = {}  # ID number -> ordinal among new persons
        self.existing_pk: dict[str, int] = {}
        self.new_households: dict[tuple[int, str, str], int] = {}
        self.new_heads: dict[tuple[int, str, str], tuple[int, int]] = {}  # -> (ordinal, line)
        self.head_updates: dict[int, tuple[int, int]] = {}  # household id -> (ordinal, line)
        self.guardian_refs: list[tuple[int, str, str]] = []  # (line, ward, guardian)
        self.pending: list[tuple[Any, ...]] = []  # new persons, in file order
        rows = 0
        for chunk in self.chunks():
            rows += len(chunk)
            self.validate_chunk(chunk)
        self.report.rows = rows
        if rows == 0:
            self.errors.append(RowError(0, "", _("文件中只有表头，没有数据行。")))
        self.check_guardians()

    def validate_chunk(self, chunk: list[tuple[int, dict[str, Any]]]) -> None:
        parsed = []
        for line, values in chunk:
            row = self.parse_row(line, values)
            if row is not None:
                parsed.append(row)
        hashes = [crypto.blind_index(row["id"]) for row in parsed]
        registered = self.registered(hashes)
        for row, id_hash in zip(parsed, hashes, strict=True):
            line, value = row["line"], row["id"]
            first = self.seen.get(value)
            if first is not None:
                self.error(
                    line, "id_number", _("身份证号码与第 %(line)d 行重复。") % {"line": first}
                )
                continue
            self.seen[value] = line
            existing = registered.get(id_hash)
            if existing is not None:
                self.compare(row, existing)
                continue
            self.plan_new(row, id_hash)

    def parse_row(self, line: int, v: dict[str, Any]) -> dict[str, Any] | None:
        ok = True
        name = _text(v.get("name"))
        if not name:
            self.error(line, "name", _("请填写姓名。"))
            ok = False
        elif len(name) > 50:
            self.error(line, "name", _("姓名过长（最多50字）。"))
            ok = False
        value = self.id_value(line, v.get("id_number"))
        ok = ok and value is not None
        birth = gender = None
        if value is not None:
            birth = self.id_check.births.get(value[6:14]) or dt.date(
                int(value[6:10]), int(value[10:12]), int(value[12:14])
            )
            gender = "male" if int(value[16]) % 2 else "female"
            stated_gender = _text(v.get("gender"))
            if stated_gender and GENDER_WORDS.get(stated_gender.casefold()) != gender:
                self.error(line, "gender", _("性别与身份证号码不一致。"))
                ok = False
            if _text(v.get("birth_date")) or isinstance(v.get("birth_date"), dt.date):
                try:
                    if parse_date(v.get("birth_date")) != birth:
                        self.error(line, "birth_date", _("出生日期与身份证号码不一致。"))
                        ok = False
                except ValueError:
                    self.error(line, "birth_date", _("日期格式不正确，请写成 2024-03-01。"))
                    ok = False
        phone = _text(v.get("phone"))
        if phone:
            try:
                phone = _fast_phone(phone)
            except ValidationError as exc:
                self.error(line, "phone", str(exc.message))
                ok = False
        address_text = _text(v.get("address"))
        unit_id = None
        if not address_text:
            self.error(line, "address", _("请填写地址。"))
            ok = False
        else:
            key = self.resolve_address(address_text)
            if key is None:
                self.error(
                    line,
                    "address",
                    _("在%(unit)s下找不到地址“%(address)s”。")
                    % {"unit": self.unit.name, "address": address_text},
                )
                ok = False
            elif self.address_kinds[key] not in ADDRESS_KINDS:
                self.error(line, "address", _("住户地址必须是楼栋、小区、自然村或村。"))
                ok = False
            else:
                unit_id = self.addresses[key]
        entrance = _text(v.get("entrance")).removesuffix("单元")[:10]
        room = _text(v.get("room"))[:20]
        relation_text = _text(v.get("relation"))
        relation = ""
        if relation_text:
            relation = self.relations.find(relation_text)
            if not relation:
                self.error(
                    line, "relation", _("无法识别的与户主关系“%(r)s”。") % {"r": relation_text}
                )
                ok = False
        tag_ids: set[int] = set()
        unknown = []
        for word in _split_tags(_text(v.get("tags"))):
            if word in self.tags:
                tag_ids.add(self.tags[word])
            else:
                unknown.append(word)
        if unknown:
            self.error(line, "tags", _("未知的标签：%(tags)s。") % {"tags": "、".join(unknown)})
            ok = False
        guardian = None
        if _text(v.get("guardian")):
            guardian = self.id_value(line, v.get("guardian"), "guardian")
            ok = ok and guardian is not None
            if guardian is not None and guardian == value:
                self.error(line, "guardian", _("监护人不能是本人。"))
                ok = False
        elif birth is not None:
            age = (
                self.today.year
                - birth.year
                - ((self.today.month, self.today.day) < (birth.month, birth.day))
            )
            if age < CHILD_AGE:
                self.error(
                    line,
                    "guardian",
                    _("未满%(age)d周岁的人员必须登记监护人。") % {"age": CHILD_AGE},
                )
                ok = False
        if not ok:
            return None
        return {
            "line": line,
            "id": value,
            "name": name,
            "phone": phone,
            "household": (unit_id, entrance, room),
            "relation": relation,
            "tags": tag_ids,
            "guardian": guardian,
        }

    def registered(self, hashes: list[str]) -> dict[str, _Existing | str]:
        """Registered persons by hash; a string marks one outside the chosen unit."""
        rows = self.scoped_persons(hashes)
        if not rows:
            return {}
        inside = [r["id"] for r in rows.values() if self.in_unit(r["unit__path"])]
        details = {
            p["id"]: p
            for p in Person.objects.filter(pk__in=inside).values(
                "id",
                "name",
                "household__unit_id",
                "household__entrance",
                "household__room",
                "relation",
                "phone_hash",
                "guardian__id_number_hash",
                "left_on",
            )
        }
        tags: dict[int, set[int]] = {}
        for person_id, tag_id in Person.tags.through.objects.filter(
            person_id__in=inside
        ).values_list("person_id", "tag_id"):
            tags.setdefault(person_id, set()).add(tag_id)
        result: dict[str, _Existing | str] = {}
        for id_hash, row in rows.items():
            p = details.get(row["id"])
            if p is None:
                result[id_hash] = "outside"
                continue
            household = (
                (p["household__unit_id"], p["household__entrance"], p["household__room"])
                if p["household__unit_id"]
                else None
            )
            result[id_hash] = _Existing(
                pk=p["id"],
                name=p["name"],
                household=household,
                relation=p["relation"],
                phone_hash=p["phone_hash"],
                guardian_hash=p["guardian__id_number_hash"] or "",
                tags=tags.get(p["id"], set()),
                left=p["left_on"] is not None,
            )
        return result

    def compare(self, row: dict[str, Any], existing: _Existing | str) -> None:
        line = row["line"]
        if isinstance(existing, str):
            self.error(
                line,
                "id_number",
                _("该身份证号码已在其他社区或村登记，不能导入到%(unit)s。")
                % {"unit": self.unit.name},
            )
            return
        differs = []
        if existing.name != row["name"]:
            differs.append(_("姓名"))
        if existing.household != row["household"]:
            differs.append(_("地址"))
        if existing.relation != row["relation"]:
            differs.append(_("与户主关系"))
        if existing.phone_hash != (crypto.blind_index(row["phone"]) if row["phone"] else ""):
            differs.append(_("电话"))
        if existing.tags != row["tags"]:
            differs.append(_("标签"))
        guardian_hash = crypto.blind_index(row["guardian"]) if row["guardian"] else ""
        if existing.guardian_hash != guardian_hash:
            differs.append(_("监护人"))
        if differs:
            self.error(
                line,
                "id_number",
                _(
                    "该身份证号码已登记，但%(fields)s不同：导入不会覆盖已有信息，请在人员详情中修改。"
                )
                % {"fields": _("、").join(differs)},
            )
            return
        self.existing_pk[row["id"]] = existing.pk
        self.report.unchanged += 1
        if existing.left:
            self.report.off_register += 1
        if row["guardian"]:
            self.guardian_refs.append((line, row["id"], row["guardian"]))

    def plan_new(self, row: dict[str, Any], id_hash: str) -> None:
        line, key = row["line"], row["household"]
        ordinal = len(self.new_ord)
        self.new_ord[row["id"]] = ordinal
        # What pass 2 writes, kept compact (a tuple of strings) rather than read again.
        self.pending.append(
            (row["name"], row["id"], row["phone"], key, row["relation"],
             tuple(row["tags"]) if row["tags"] else (), row["guardian"], id_hash)
        )  # fmt: skip
        if row["guardian"]:
            self.guardian_refs.append((line, row["id"], row["guardian"]))
        known = self.households.get(key)
        if known is None and key not in self.new_households:
            self.new_households[key] = len(self.new_households)
        if row["relation"] != Relation.HEAD:
            return
        if known is not None:
            household_id, head_id = known
            other = self.head_updates.get(household_id)
            if head_id is not None:
                self.error(line, "relation", _("该住户已登记户主。"))
            elif other is not None:
                self.error(
                    line, "relation", _("与第 %(line)d 行是同一住户的户主。") % {"line": other[1]}
                )
            else:
                self.head_updates[household_id] = (ordinal, line)
            return
        head = self.new_heads.get(key)
        if head is not None:
            self.error(
                line, "relation", _("与第 %(line)d 行是同一住户的户主。") % {"line": head[1]}
            )
        else:
            self.new_heads[key] = (ordinal, line)

    def check_guardians(self) -> None:
        """Guardians may come later in the file or be registered already (in scope)."""
        outside = [g for _, _, g in self.guardian_refs if g not in self.seen]
        found: dict[str, int] = {}
        hashes = {crypto.blind_index(g): g for g in dict.fromkeys(outside)}
        keys = list(hashes)
        for start in range(0, len(keys), 500):
            for pk, id_hash in (
                scoped(self.actor, Person)
                .filter(id_number_hash__in=keys[start : start + 500])
                .exclude(id_number_hash="")
                .order_by()
                .values_list("id", "id_number_hash")
            ):
                found[hashes[id_hash]] = pk
        for line, _ward, guardian in self.guardian_refs:
            if guardian in self.seen:
                continue
            if guardian in found:
                self.existing_pk[guardian] = found[guardian]
            else:
                self.error(
                    line,
                    "guardian",
                    _("监护人未登记：请先登记监护人，或把监护人也写入本文件。"),
                )

    # Pass 2: write. Nothing above found a problem.
    def write(self) -> None:
        vendor_sqlite = connection.vendor == "sqlite"
        now = db_value(timezone.now())
        person_ids = reserve_ids(Person, len(self.new_ord))
        household_ids = reserve_ids(Household, len(self.new_households))
        household_of = {key: household_ids[i] for key, i in self.new_households.items()}
        bulk_insert(
            Household._meta.db_table,
            ["id", "created_at", "updated_at", "unit_id", "entrance", "room", "head_id", "is_active"],
            [
                (household_of[key], now, now, key[0], key[1], key[2],
                 person_ids[self.new_heads[key][0]] if key in self.new_heads else None,
                 1 if vendor_sqlite else True)
                for key in self.new_households
            ],
        )  # fmt: skip
        for household_id, (head_ordinal, _line) in self.head_updates.items():
            Household.objects.filter(pk=household_id).update(head_id=person_ids[head_ordinal])
        existing_households = {key: pk for key, (pk, _head) in self.households.items()}
        columns, build = self.person_row_builder(now)
        pinyin = PinyinKeys()
        tag_rows: list[tuple[int, int]] = []
        new_ord, existing_pk = self.new_ord, self.existing_pk

        def person_rows() -> Iterator[tuple[Any, ...]]:
            for pk, row in zip(person_ids, self.pending, strict=True):
                name, key, guardian, tags = row[0], row[3], row[6], row[5]
                household_id = household_of.get(key) or existing_households[key]
                guardian_id = None
                if guardian:
                    g = new_ord.get(guardian)
                    guardian_id = person_ids[g] if g is not None else existing_pk[guardian]
                for tag_id in tags:
                    tag_rows.append((pk, tag_id))
                yield build(pk, row, pinyin(name), household_id, guardian_id)

        bulk_insert(Person._meta.db_table, columns, person_rows())
        bulk_insert(Person.tags.through._meta.db_table, ["person_id", "tag_id"], tag_rows)
        self.report.created = len(self.new_ord)
        self.report.households_created = len(self.new_households)

    def person_row_builder(self, now: Any) -> tuple[list[str], Callable[..., tuple[Any, ...]]]:
        """Columns of people_person and a function making one row in the same order.
        Columns this importer does not know (added later) get their model default."""
        known = ["id", "created_at", "updated_at", "name", "name_pinyin", "name_initials",
                 "gender", "birth_date", "id_number_sealed", "id_number_hash", "id_number_masked", "id_last4",
                 "phone_sealed", "phone_hash", "phone_masked", "phone_last4", "unit_id",
                 "household_id", "relation", "guardian_id", "user_id", "pseudonymized_at"]  # fmt: skip
        fields = {f.column: f for f in Person._meta.concrete_fields}
        extra = [c for c in fields if c not in known]
        extra_values = tuple(db_value(fields[c].get_default()) for c in extra)
        sqlite = connection.vendor == "sqlite"
        seal, blind = crypto.seal, crypto.blind_index

        def build(
            pk: int,
            row: tuple[Any, ...],
            keys: tuple[str, str],
            household_id: int,
            guardian_id: int | None,
        ) -> tuple[Any, ...]:
            name, value, phone, key, relation = row[0], row[1], row[2], row[3], row[4]
            birth: Any
            if sqlite and value.isascii():  # the ISO date, straight from a valid number
                birth = f"{value[6:10]}-{value[10:12]}-{value[12:14]}"
            else:
                birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
                birth = birth.isoformat() if sqlite else birth
            return (
                pk, now, now, name, keys[0], keys[1],
                "male" if int(value[16]) % 2 else "female",
                birth,
                seal(value), row[7], value[:4] + "**********" + value[-4:], value[-4:],
                seal(phone) if phone else "", blind(phone) if phone else "",
                mask_phone(phone) if phone else "", phone[-4:],
                key[0], household_id, relation, guardian_id, None, None,
                *extra_values,
            )  # fmt: skip

        return known + extra, build


# --- Party members and mobile registrations ------------------------------------------------


class _PartyMembersImporter(_Importer):
    kind = ImportKind.PARTY_MEMBERS

    def run(self) -> None:
        self.check_header()
        orgs = self.party_orgs(functional=False)
        kinds = _choice_map(PartyMemberKind, {"正式": "regular", "预备": "probationary"})
        # line, ID hash, party org (None: the row is bad already), kind, joined on
        planned: list[tuple[int, str, int | None, str, dt.date | None]] = []
        seen: dict[str, int] = {}
        rows = 0
        for chunk in self.chunks():
            rows += len(chunk)
            for line, v in chunk:
                value = self.id_value(line, v.get("id_number"))
                org = self.resolve_org(line, v.get("party_org"), orgs, functional=False)
                kind_text = _text(v.get("kind"))
                kind = PartyMemberKind.REGULAR.value
                if kind_text:
                    kind = kinds.find(kind_text)
                    if not kind:
                        self.error(line, "kind", _("类别应为“正式党员”或“预备党员”。"))
                joined = self.date_value(line, "joined_on", v.get("joined_on"), required=False)
                if value is None:
                    continue
                if value in seen:
                    self.error(
                        line,
                        "id_number",
                        _("身份证号码与第 %(line)d 行重复。") % {"line": seen[value]},
                    )
                    continue
                seen[value] = line
                org_id = org.pk if org is not None and kind else None
                planned.append((line, crypto.blind_index(value), org_id, kind, joined))
        self.report.rows = rows
        if rows == 0:
            self.errors.append(RowError(0, "", _("文件中只有表头，没有数据行。")))
        persons = self.scoped_persons([p[1] for p in planned])
        members = {
            m["person_id"]: m
            for m in PartyMember.objects.filter(
                person_id__in=[p["id"] for p in persons.values()]
            ).values("person_id", "party_org_id", "kind", "joined_on")
        }
        new_rows = []
        now = db_value(timezone.now())
        for line, id_hash, org_id, kind, joined in planned:
            person = persons.get(id_hash)
            if person is None or not self.in_unit(person["unit__path"]):
                self.error(
                    line,
                    "id_number",
                    _("该身份证号码未在%(unit)s登记，请先导入人员。") % {"unit": self.unit.name},
                )
                continue
            if org_id is None:
                continue
            member = members.get(person["id"])
            if member is not None:
                if (member["party_org_id"], member["kind"], member["joined_on"]) == (
                    org_id,
                    kind,
                    joined,
                ):
                    self.report.unchanged += 1
                else:
                    self.error(
                        line,
                        "id_number",
                        _(
                            "该人员已登记为党员，但所在党组织、类别或入党日期不同：导入不会覆盖已有信息。"
                        ),
                    )
                continue
            new_rows.append((now, now, person["id"], org_id, kind, db_value(joined)))
        self.errors.sort(key=lambda e: e.line)
        if self.errors:
            return
        with transaction.atomic():
            bulk_insert(
                PartyMember._meta.db_table,
                ["created_at", "updated_at", "person_id", "party_org_id", "kind", "joined_on"],
                new_rows,
            )
        self.report.created = len(new_rows)


class _MobileImporter(_Importer):
    kind = ImportKind.MOBILE

    def run(self) -> None:
        self.check_header()
        orgs = self.party_orgs(functional=True)
        planned: list[tuple[int, str, int, dt.date, str]] = []
        seen: dict[tuple[str, int], int] = {}
        rows = 0
        for chunk in self.chunks():
            rows += len(chunk)
            for line, v in chunk:
                value = self.id_value(line, v.get("id_number"))
                org = self.resolve_org(line, v.get("party_org"), orgs, functional=True)
                day = self.date_value(line, "registered_on", v.get("registered_on"), required=True)
                origin = _text(v.get("origin_org"))
                if not origin:
                    self.error(line, "origin_org", _("请填写原所在党组织。"))
                elif len(origin) > 100:
                    self.error(line, "origin_org", _("原所在党组织名称过长（最多100字）。"))
                    origin = ""
                if value is None or org is None or day is None or not origin:
                    continue
                if (value, org.pk) in seen:
                    self.error(
                        line,
                        "id_number",
                        _("与第 %(line)d 行重复。") % {"line": seen[(value, org.pk)]},
                    )
                    continue
                seen[(value, org.pk)] = line
                planned.append((line, crypto.blind_index(value), org.pk, day, origin))
        self.report.rows = rows
        if rows == 0:
            self.errors.append(RowError(0, "", _("文件中只有表头，没有数据行。")))
        persons = self.scoped_persons([p[1] for p in planned])
        active = {
            (r["person_id"], r["party_org_id"]): r
            for r in MobileRegistration.objects.filter(
                person_id__in=[p["id"] for p in persons.values()], status=MobileStatus.ACTIVE
            ).values("person_id", "party_org_id", "registered_on", "origin_org")
        }
        now = db_value(timezone.now())
        new_rows = []
        for line, id_hash, org_id, day, origin in planned:
            person = persons.get(id_hash)
            if person is None:
                self.error(line, "id_number", _("该身份证号码尚未登记，请先导入人员。"))
                continue
            current = active.get((person["id"], org_id))
            if current is not None:
                if (current["registered_on"], current["origin_org"]) == (day, origin):
                    self.report.unchanged += 1
                else:
                    self.error(
                        line,
                        "id_number",
                        _(
                            "该党员已在此党组织报到，但报到日期或原所在党组织不同：导入不会覆盖已有信息。"
                        ),
                    )
                continue
            new_rows.append(
                (
                    now,
                    now,
                    person["id"],
                    org_id,
                    db_value(day),
                    origin,
                    MobileStatus.ACTIVE.value,
                    None,
                )
            )
        self.errors.sort(key=lambda e: e.line)
        if self.errors:
            return
        with transaction.atomic():
            bulk_insert(
                MobileRegistration._meta.db_table,
                ["created_at", "updated_at", "person_id", "party_org_id", "registered_on",
                 "origin_org", "status", "left_on"],
                new_rows,
            )  # fmt: skip
        self.report.created = len(new_rows)


# --- Templates -----------------------------------------------------------------------------


def import_template(kind: str) -> bytes:
    """An .xlsx template: the header row on the first sheet (ID columns formatted as
    text, so Excel keeps all 18 characters) and a notes sheet with an example."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    columns = COLUMNS[ImportKind(kind)]
    workbook = Workbook()
    sheet = workbook.active
    if sheet is None:  # a new workbook always has one sheet
        sheet = workbook.create_sheet()
    sheet.title = _("导入数据")
    sheet.append([c.header for c in columns])
    for index, column in enumerate(columns, start=1):
        letter = column_letter(index - 1)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        if column.key in ("id_number", "guardian", "phone", "entrance", "room"):
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
    notes = workbook.create_sheet(_("填写说明"))
    notes.append([_("列"), _("是否必填"), _("说明"), _("示例（仅作示范，不会被导入）")])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in columns:
        notes.append(
            [
                column.header,
                _("必填") if column.required else _("选填"),
                column.note,
                column.example,
            ]
        )
    notes.append([])
    notes.append([_("请在“导入数据”表第 2 行起填写，每人一行；不要使用公式或合并单元格。")])
    notes.append([_("导入前会检查整个文件：有任何一行出错，全部不导入，并列出每一行的问题。")])
    if kind == ImportKind.PERSONS:
        notes.append(
            [_("地址填写所选社区/村以下的单元名称，如“棉纺厂小区/3号楼”，单元、室号分列填写。")]
        )
        tags = "、".join(f"{t.name}（{t.code}）" for t in Tag.objects.filter(is_active=True))
        notes.append([_("可用标签：%(tags)s") % {"tags": tags}])
    for letter, width in (("A", 18), ("B", 10), ("C", 50), ("D", 28)):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
