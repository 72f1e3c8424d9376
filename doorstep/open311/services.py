"""Writes of the Open311 part: issuing and revoking keys, filing requests and updates
through the appeals services."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Length, StrIndex
from django.http import QueryDict
from django.utils.translation import gettext as _

from doorstep.accounts.audit import AuditAction, audit_record
from doorstep.appeals.choices import CaseKind, Channel
from doorstep.appeals.models import Case
from doorstep.appeals.services import case_submit
from doorstep.core import timeutils
from doorstep.core.crypto import blind_index, seal
from doorstep.core.errors import Conflict, DomainError, NotFound, ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.orgs.models import Unit

from . import selectors as open311_selectors
from .models import (
    LIST_DATATYPES,
    ApiKey,
    Datatype,
    ServiceAttribute,
    ServiceType,
    Submission,
    UpdateReceipt,
)
from .params import attributes, bad, get, number, w3c_datetime

KEY_PREFIX = "o311_"


def _hash(key: str) -> str:
    return blind_index(f"open311:{key}")


@transaction.atomic
def api_key_create(*, actor: Any, name: str) -> tuple[ApiKey, str]:
    """Issue a key for the system called ``name``; return the row and the key, which is
    shown this once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写接入系统的名称"), field="name")
    if len(name) > 80:
        raise ValidationError(_("名称不能超过 80 个字符"), field="name")
    if ApiKey.objects.filter(name=name).exists():
        raise Conflict(_("已有同名的密钥：%(name)s") % {"name": name}, field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    row = ApiKey(name=name, prefix=key[: len(KEY_PREFIX) + 4], key_hash=_hash(key))
    row.created_by = actor if getattr(actor, "is_authenticated", False) else None
    row.full_clean()
    row.save()
    audit_record(action=AuditAction.TOKEN_ISSUED, actor=actor, obj=row, detail={"open311": name})
    return row, key


@transaction.atomic
def api_key_revoke(*, actor: Any, name: str) -> ApiKey:
    row = ApiKey.objects.select_for_update().filter(name=(name or "").strip()).first()
    if row is None:
        raise NotFound(_("没有这个名称的密钥"), field="name")
    if row.revoked_at is not None:
        raise Conflict(_("这个密钥已经吊销"), field="name")
    row.revoked_at = timeutils.now()
    row.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
    row.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(action=AuditAction.TOKEN_REVOKED, actor=actor, obj=row, detail={"open311": name})
    return row


def api_key_check(key: str | None) -> ApiKey | None:
    """The active key row for ``key``, or None when it is missing, unknown or revoked."""
    if not key:
        return None
    row = ApiKey.objects.filter(key_hash=_hash(key), revoked_at__isnull=True).first()
    if row is not None:
        ApiKey.objects.filter(pk=row.pk).update(last_used_at=timeutils.now())
    return row


# --- Filing a request --------------------------------------------------------------------

DESCRIPTION_MAX = 4000
# The appeals intake's field names, as an Open311 client knows them.
APPEAL_FIELDS = {
    "location": "lat/long",
    "text": "description",
    "photo": "media",
    "category": "service_code",
}
LOCATABLE_KINDS = frozenset({"community", "village", "compound", "natural_village", "building"})


def _locate(root: Unit | None, data: QueryDict) -> dict[str, Any]:
    lat, lng = number(data, "lat"), number(data, "long")
    if (lat is None) != (lng is None):
        raise bad(_("lat 和 long 必须同时提供"))
    if lat is not None and lng is not None:
        return {"lat": lat, "lng": lng}
    units = Unit.objects.filter(is_active=True, kind__in=sorted(LOCATABLE_KINDS))
    if root is not None:
        units = units.filter(root.subtree_q())
    address_id = get(data, "address_id")
    if address_id is not None:
        key = key_from_text(address_id)
        found = units.filter(pk=key).first() if key is not None else None
        if found is None:
            raise bad(_("address_id 不存在：%(id)s") % {"id": address_id})
        return {"unit": found}
    address = get(data, "address_string")
    if address is not None:
        # The most specific place the text names: the deepest unit, then the longest name.
        # The database does the matching, so a city's units are never read into Python.
        found = (
            units.annotate(at=StrIndex(Value(address), F("name")), name_length=Length("name"))
            .filter(at__gt=0)
            .order_by("-depth", "-name_length", "id")
            .first()
        )
        if found is None:
            raise bad(
                _(
                    "address_string 中没有可识别的社区、小区或楼栋名称，请改用 lat/long 或 address_id"
                )
            )
        return {"unit": found}
    raise bad(_("缺少位置：请提供 lat 和 long、address_string 或 address_id 之一"))


def _check_attributes(
    definition: dict[str, ServiceAttribute], given: dict[str, list[str]]
) -> dict[str, Any]:
    unknown = sorted(set(given) - set(definition))
    if unknown:
        raise bad(_("attribute 不在服务定义中：%(codes)s") % {"codes": ", ".join(unknown)})
    answers: dict[str, Any] = {}
    for code, attr in sorted(definition.items(), key=lambda item: item[1].order):
        values = given.get(code, [])
        if not values:
            if attr.required and attr.variable:
                raise bad(_("缺少必填的 attribute[%(code)s]") % {"code": code})
            continue
        if attr.datatype != Datatype.MULTIVALUELIST and len(values) > 1:
            raise bad(_("attribute[%(code)s] 只能有一个值") % {"code": code})
        if attr.datatype == Datatype.NUMBER:
            try:
                float(values[0])
            except ValueError:
                raise bad(_("attribute[%(code)s] 必须是数字") % {"code": code}) from None
        elif attr.datatype == Datatype.DATETIME:
            w3c_datetime({code: values[0]}, f"attribute[{code}]")
        elif attr.datatype in LIST_DATATYPES:
            allowed = set(attr.value_keys())
            wrong = [v for v in values if v not in allowed]
            if wrong:
                raise bad(
                    _("attribute[%(code)s] 的取值不在选项中：%(values)s")
                    % {"code": code, "values": ", ".join(wrong)}
                )
        elif attr.datatype == Datatype.STRING and "\n" in values[0]:
            raise bad(_("attribute[%(code)s] 不能换行") % {"code": code})
        answers[code] = values if attr.datatype == Datatype.MULTIVALUELIST else values[0]
    return answers


def _answers_text(definition: dict[str, ServiceAttribute], answers: dict[str, Any]) -> str:
    lines = []
    for code, value in answers.items():
        attr = definition[code]
        names = {str(v.get("key")): v.get("name") for v in attr.values or []}
        shown = [str(names.get(v, v)) for v in (value if isinstance(value, list) else [value])]
        lines.append(f"{attr.description}：{'、'.join(shown)}")
    return "\n".join(lines)


@transaction.atomic
def request_submit(
    *, api_key: ApiKey, root: Unit | None, data: QueryDict, media: Any = None
) -> tuple[Case, Submission, str]:
    """File one service request as an appeal case through the appeals intake (same
    routing, same deadlines); return the case, the submission and the service type.
    Anything wrong raises :class:`Open311Error` before a row is written."""
    code = get(data, "service_code")
    if code is None:
        raise bad(_("service_code 未提供"))
    category = open311_selectors.service(code)
    where = _locate(root, data)
    definition = {a.code: a for a in ServiceAttribute.objects.filter(category=category)}
    answers = _check_attributes(definition, attributes(data))
    description = get(data, "description") or ""
    if len(description) > DESCRIPTION_MAX:
        raise bad(
            _("description 不能超过 %(n)d 个字符（现有 %(m)d 个）")
            % {"n": DESCRIPTION_MAX, "m": len(description)}
        )
    media_url = get(data, "media_url") or ""
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except DjangoValidationError:
            raise bad(_("media_url 不是有效的 http(s) 网址")) from None
        if len(media_url) > 500:
            raise bad(_("media_url 不能超过 500 个字符"))
    text = "\n\n".join(part for part in (description, _answers_text(definition, answers)) if part)
    contact = {
        key: value
        for key in ("first_name", "last_name", "email", "phone")
        if (value := get(data, key)) is not None
    }
    for key in ("device_id", "account_id"):
        value = get(data, key)
        if value is not None and len(value) > 100:
            raise bad(_("%(name)s 不能超过 100 个字符") % {"name": key})
    try:
        case = case_submit(
            actor=None,
            kind=CaseKind.PROBLEM,
            category=category,
            channel=Channel.OPEN311,
            text=text or category.name,
            photos=[media] if media is not None else None,
            **where,
        )
    except DomainError as error:
        field = APPEAL_FIELDS.get(error.field or "", error.field or "request")
        raise bad(f"{field}: {error.message}") from error
    kind = open311_selectors.service_type(category)
    submission = Submission(
        case=case,
        api_key=api_key,
        token=secrets.token_hex(8) if kind == ServiceType.BATCH else None,
        attributes=answers,
        device_id=get(data, "device_id") or "",
        account_id=get(data, "account_id") or "",
        contact_sealed=seal(json.dumps(contact, ensure_ascii=False)) if contact else "",
        address_string=(get(data, "address_string") or "")[:300],
        media_url=media_url,
    )
    submission.save()
    return case, submission, kind


# --- mySociety's service request updates -----------------------------------------------

UPDATE_STATUSES = frozenset(
    {
        "open",
        "closed",
        "fixed",
        "in_progress",
        "action_scheduled",
        "investigating",
        "duplicate",
        "not_councils_responsibility",
        "no_further_action",
        "internal_referral",
        "reopen",
    }
)


@transaction.atomic
def update_submit(*, api_key: ApiKey, root: Unit | None, data: QueryDict) -> int:
    """An update a client sends about a case (a resident's comment relayed by a
    FixMyStreet-style site): recorded as a note in the case history for the staff who
    handle it — it never moves the case through the loop, which only its handlers and
    its reporter do. The same update id from the same key is answered once."""
    from doorstep.appeals.services import case_note

    request_id = get(data, "service_request_id")
    if request_id is None:
        raise bad(_("service_request_id 未提供"))
    case = Case.objects.get(pk=open311_selectors.request_by_id(root, request_id)["id"])
    status = (get(data, "status") or "").lower()
    if status and status not in UPDATE_STATUSES:
        raise bad(_("status 无效：%(status)s") % {"status": status})
    description = get(data, "description") or ""
    if not description:
        raise bad(_("description 未提供"))
    if len(description) > DESCRIPTION_MAX:
        raise bad(_("description 不能超过 %(n)d 个字符") % {"n": DESCRIPTION_MAX})
    updated = w3c_datetime(data, "updated_datetime")
    external_id = get(data, "update_id_ext") or get(data, "update_id") or ""
    if len(external_id) > 100:
        raise bad(_("update_id_ext 不能超过 100 个字符"))
    if external_id:
        previous = UpdateReceipt.objects.filter(api_key=api_key, external_id=external_id).first()
        if previous is not None:
            return previous.event_id
    event = case_note(
        actor=None,
        case=case,
        note=description,
        public=False,
        data={
            "open311_key": api_key.name,
            "status": status,
            "updated_datetime": updated.isoformat() if updated else "",
        },
    )
    if external_id:
        UpdateReceipt.objects.create(
            api_key=api_key, external_id=external_id, case=case, event_id=event.pk
        )
    return int(event.pk)
