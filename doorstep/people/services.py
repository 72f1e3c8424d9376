"""Writes to the registry. Personal numbers are sealed here and nowhere else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction, AuditOutcome
from doorstep.accounts.scoping import get_scoped_or_404
from doorstep.core import crypto
from doorstep.core.errors import (
    Conflict,
    PermissionDenied,
    TooManyRequests,
    ValidationError,
    full_clean,
)
from doorstep.core.ratelimit import exceeded
from doorstep.orgs.models import PartyOrg, Unit

from .choices import CHILD_AGE, Gender, MobileStatus, Relation
from .idnumber import mask_phone, normalize_phone, parse_id_number
from .models import Household, MobileRegistration, PartyMember, Person, Tag
from .pinyin import pinyin_keys
from .rules import can_reveal

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .selectors import CounterCandidate

ADDRESS_KINDS = {"building", "compound", "natural_village", "village", "community"}


def _clean(obj: Any, exclude: list[str] | None = None) -> None:
    full_clean(obj, exclude=exclude)


@dataclass(frozen=True)
class SealedNumbers:
    """What a raw ID and phone number become before they touch a row."""

    id_sealed: str = ""
    id_hash: str = ""
    id_masked: str = ""
    phone_sealed: str = ""
    phone_hash: str = ""
    phone_masked: str = ""
    phone_last4: str = ""
    birth_date: dt.date | None = None
    gender: str | None = None


def seal_numbers(
    id_number: str = "", phone: str = "", *, today: dt.date | None = None
) -> SealedNumbers:
    """Validate, seal, hash and mask. Raises ValidationError naming the bad field."""
    values: dict[str, Any] = {}
    if id_number:
        parsed = parse_id_number(id_number, today=today)
        values.update(
            id_sealed=crypto.seal(parsed.value),
            id_hash=crypto.blind_index(parsed.value),
            id_masked=parsed.masked,
            birth_date=parsed.birth_date,
            gender=parsed.gender,
        )
    if phone:
        number = normalize_phone(phone)
        values.update(
            phone_sealed=crypto.seal(number),
            phone_hash=crypto.blind_index(number),
            phone_masked=mask_phone(number),
            phone_last4=number[-4:],
        )
    return SealedNumbers(**values)


def id_hash_of(id_number: str) -> str:
    return crypto.blind_index(parse_id_number(id_number).value)


def phone_hash_of(phone: str) -> str:
    return crypto.blind_index(normalize_phone(phone))


@transaction.atomic
def household_create(*, unit: Unit, entrance: str = "", room: str = "") -> Household:
    if unit.kind not in ADDRESS_KINDS:
        raise ValidationError(_("住户地址必须是楼栋、小区、自然村或村。"), field="unit")
    household = Household(unit=unit, entrance=entrance.strip(), room=room.strip())
    _clean(household)
    household.save()
    return household


@transaction.atomic
def person_create(
    *,
    name: str,
    unit: Unit | None = None,
    household: Household | None = None,
    relation: str = "",
    id_number: str = "",
    phone: str = "",
    gender: str = "",
    birth_date: dt.date | None = None,
    guardian: Person | None = None,
    tags: list[str] | None = None,
    today: dt.date | None = None,
) -> Person:
    """Register a person. Birth date and gender come from the ID number when there is
    one; a child under 14 needs a guardian."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写姓名。"), field="name")
    if household is not None:
        unit = household.unit
    if unit is None:
        raise ValidationError(_("请指定住户或居住单元。"), field="unit")
    sealed = seal_numbers(id_number, phone, today=today)
    if sealed.birth_date:
        if birth_date and birth_date != sealed.birth_date:
            raise ValidationError(_("出生日期与身份证号码不一致。"), field="birth_date")
        birth_date = sealed.birth_date
    # The unique index on the hash is partial (non-empty), so say so for it to be used.
    if (
        sealed.id_hash
        and Person.objects.exclude(id_number_hash="").filter(id_number_hash=sealed.id_hash).exists()
    ):
        raise Conflict(_("该身份证号码已登记。"), field="id_number")
    person = Person(
        name=name,
        gender=sealed.gender or gender or Gender.UNKNOWN,
        birth_date=birth_date,
        unit=unit,
        household=household,
        relation=relation,
        guardian=guardian,
    )
    _apply_sealed(person, sealed)
    person.name_pinyin, person.name_initials = pinyin_keys(name)
    if person.is_child(today or timezone.localdate()) and guardian is None:
        raise ValidationError(
            _("未满%(age)d周岁的人员必须登记监护人。") % {"age": CHILD_AGE}, field="guardian"
        )
    _clean(person, exclude=["user"])
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise Conflict(_("该身份证号码已登记。"), field="id_number") from None
    if tags:
        person.tags.set(_tags(tags))
    if household is not None and relation == Relation.HEAD:
        Household.objects.filter(pk=household.pk).update(head=person)
    return person


def _apply_sealed(person: Person, sealed: SealedNumbers) -> None:
    if sealed.id_hash:
        person.id_number_sealed, person.id_number_hash, person.id_number_masked = (
            sealed.id_sealed,
            sealed.id_hash,
            sealed.id_masked,
        )
        person.id_last4 = sealed.id_masked[-4:]
    if sealed.phone_hash:
        person.phone_sealed, person.phone_hash = sealed.phone_sealed, sealed.phone_hash
        person.phone_masked, person.phone_last4 = sealed.phone_masked, sealed.phone_last4


def _tags(codes: list[str]) -> list[Tag]:
    found = list(Tag.objects.filter(code__in=codes, is_active=True))
    unknown = sorted(set(codes) - {t.code for t in found})
    if unknown:
        raise ValidationError(
            _("未知的标签：%(tags)s。") % {"tags": "、".join(unknown)}, field="tags"
        )
    return found


@transaction.atomic
def person_update_own(*, actor: Any, phone: str | None = None, name: str | None = None) -> Person:
    """A resident corrects their own record: name and phone. Other fields need staff."""
    person = (
        Person.objects.select_for_update()
        .filter(user_id=actor.pk, pseudonymized_at__isnull=True)
        .first()
    )
    if person is None:
        raise PermissionDenied(_("您的账号尚未关联居民信息，请联系社区。"))
    fields = ["updated_at"]
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError(_("请填写姓名。"), field="name")
        person.name = name
        person.name_pinyin, person.name_initials = pinyin_keys(name)
        fields += ["name", "name_pinyin", "name_initials"]
    if phone is not None:
        _apply_sealed(person, seal_numbers(phone=phone))
        fields += ["phone_sealed", "phone_hash", "phone_masked", "phone_last4"]
    person.save(update_fields=fields)
    return person


def person_reveal(
    *, actor: Any, person_id: int, field: str, request: HttpRequest | None = None
) -> str:
    """The full ID or phone number, for a role that may see it; every call is audited,
    refused ones too."""
    if field not in ("id_number", "phone"):
        raise ValidationError(_("只能查看身份证号码或电话。"), field="field")
    person = get_scoped_or_404(actor, Person, pk=person_id)
    if not can_reveal(actor):
        audit_record(
            action=AuditAction.REVEAL,
            outcome=AuditOutcome.DENIED,
            actor=actor,
            obj=person,
            request=request,
            detail={"field": field},
        )
        raise PermissionDenied(_("您的角色无权查看完整的个人信息。"))
    sealed = person.id_number_sealed if field == "id_number" else person.phone_sealed
    audit_record(
        action=AuditAction.REVEAL, actor=actor, obj=person, request=request, detail={"field": field}
    )
    return crypto.open_sealed(sealed) if sealed else ""


@transaction.atomic
def person_pseudonymize(
    *, actor: Any, person_id: int, request: HttpRequest | None = None
) -> Person:
    """Deletion on request: the person's identifying data is erased and the row stays,
    so that ledgers and case histories that point at it remain consistent."""
    person = get_scoped_or_404(actor, Person, pk=person_id)
    if not (can_reveal(actor) or person.user_id == getattr(actor, "pk", None)):
        raise PermissionDenied(_("您无权删除该人员信息。"))
    if person.pseudonymized_at is not None:
        raise Conflict(_("该人员信息已删除。"))
    # Stored data, not UI text: the same words whatever language the deleting user reads.
    person.name = f"已注销居民 #{person.pk}"
    person.name_pinyin = person.name_initials = ""
    person.id_number_sealed = person.id_number_hash = person.id_number_masked = person.id_last4 = ""
    person.phone_sealed = person.phone_hash = person.phone_masked = person.phone_last4 = ""
    person.birth_date = None
    person.gender = Gender.UNKNOWN
    person.user = None
    person.pseudonymized_at = timezone.now()
    person.save()
    person.tags.clear()
    audit_record(action=AuditAction.PSEUDONYMIZED, actor=actor, obj=person, request=request)
    return person


@transaction.atomic
def party_member_register(
    *, person: Person, party_org: PartyOrg, kind: str = "regular", joined_on: dt.date | None = None
) -> PartyMember:
    member = PartyMember(person=person, party_org=party_org, kind=kind, joined_on=joined_on)
    _clean(member)
    member.save()
    return member


@transaction.atomic
def mobile_register(
    *, person: Person, party_org: PartyOrg, registered_on: dt.date, origin_org: str
) -> MobileRegistration:
    """A mobile party member reports (报到) to a functional party organization."""
    if party_org.kind != "functional":
        raise ValidationError(_("流动党员应向站点的功能型党组织报到。"), field="party_org")
    registration = MobileRegistration(
        person=person,
        party_org=party_org,
        registered_on=registered_on,
        origin_org=origin_org.strip(),
    )
    _clean(registration)
    registration.save()
    return registration


@transaction.atomic
def mobile_leave(*, registration: MobileRegistration, left_on: dt.date) -> MobileRegistration:
    if registration.status != MobileStatus.ACTIVE:
        raise Conflict(_("该报到记录已关闭。"))
    if left_on < registration.registered_on:
        raise ValidationError(_("转出日期不能早于报到日期。"), field="left_on")
    registration.status, registration.left_on = MobileStatus.LEFT, left_on
    registration.save(update_fields=["status", "left_on", "updated_at"])
    return registration


@transaction.atomic
def person_link_account(*, person: Person, user: Any) -> Person:
    """Link a resident's account to their record, so they can see and correct it."""
    if Person.objects.filter(user=user).exclude(pk=person.pk).exists():
        raise Conflict(_("该账号已关联其他居民。"), field="user")
    person.user = user
    person.save(update_fields=["user", "updated_at"])
    return person


# --- Counter searches ---------------------------------------------------------------------

COUNTER_SEARCH_WINDOW_S = 600


def counter_search(
    *,
    actor: Any,
    counter: str,
    unit: Unit,
    q: str = "",
    person_ids: list[int] | None = None,
    among: QuerySet[Any] | None = None,
    limit: int | None = None,
    request: HttpRequest | None = None,
) -> list[CounterCandidate]:
    """A counter's search for a resident (``people.selectors.counter_candidates``),
    counted and audited. The caller has decided that ``actor`` serves the counter named
    ``counter`` (``points:outlet:<id>``, ``canteen:<id>``) in ``unit``.

    What a counter shows is masked, but a clerk typing every four-digit phone ending in
    turn would still walk off with a list of residents, their compounds and ages. So a
    user may search at most ``DOORSTEP_COUNTER_SEARCH_LIMIT`` times in ten minutes
    (beyond it: refused, and the refusal audited), and every search leaves an audit row
    with its kind (never the text typed: it may be a phone number) and the persons
    shown, so that an auditor can answer "who looked this resident up, and where".
    A scanned points code (``person_ids``) names its holder outright and is not
    counted, only audited."""
    from .selectors import COUNTER_CANDIDATES, counter_candidates, counter_match

    cap = COUNTER_CANDIDATES if limit is None else limit
    if person_ids is not None:
        kind = "qr"
        found = counter_candidates(unit=unit, person_ids=person_ids, among=among, limit=cap)
    else:
        kind, _match = counter_match(q)  # a vague query is refused before it counts
        user_key = getattr(actor, "pk", None) or "anonymous"
        if exceeded(f"counter-search:{user_key}", settings.DOORSTEP_COUNTER_SEARCH_LIMIT,
                    COUNTER_SEARCH_WINDOW_S):  # fmt: skip
            audit_record(
                action=AuditAction.COUNTER_SEARCH,
                outcome=AuditOutcome.DENIED,
                actor=actor,
                request=request,
                detail={"counter": counter, "kind": kind, "reason": "rate"},
            )
            raise TooManyRequests(
                _("查找过于频繁：每人每10分钟最多查找%(limit)d次，请稍后再试或扫描积分码。")
                % {"limit": settings.DOORSTEP_COUNTER_SEARCH_LIMIT},
                field="q",
            )
        found = counter_candidates(q=q, unit=unit, among=among, limit=cap)
    audit_record(
        action=AuditAction.COUNTER_SEARCH,
        actor=actor,
        object_type="people.person",
        request=request,
        detail={"counter": counter, "kind": kind, "shown": [c.person_id for c in found]},
    )
    return found
