"""Writes to the registry. Personal numbers are sealed here and nowhere else."""

from __future__ import annotations

import dataclasses
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
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import crypto
from doorstep.core.errors import (
    Conflict,
    PermissionDenied,
    TooManyRequests,
    ValidationError,
    full_clean,
)
from doorstep.core.inputs import is_key
from doorstep.core.ratelimit import exceeded
from doorstep.orgs.models import PartyOrg, Unit

from .choices import CHILD_AGE, Gender, LeftReason, MobileStatus, Relation
from .idnumber import mask_phone, normalize_phone, parse_id_number
from .models import ON_REGISTER, Household, MobileRegistration, PartyMember, Person, Tag
from .pinyin import pinyin_keys
from .rules import can_edit_registry, can_reveal
from .signals import person_left

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
def person_update_own(
    *,
    actor: Any,
    phone: str | None = None,
    name: str | None = None,
    request: HttpRequest | None = None,
) -> Person:
    """A resident corrects their own record: name and phone. Other fields need staff.
    A change is audited like a correction by staff (the record's history shows it)."""
    person = (
        Person.objects.select_for_update()
        .filter(user_id=actor.pk, pseudonymized_at__isnull=True)
        .first()
    )
    if person is None:
        raise PermissionDenied(_("您的账号尚未关联居民信息，请联系社区。"))
    fields = ["updated_at"]
    detail: dict[str, Any] = {"changed": [], "by": "self"}
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError(_("请填写姓名。"), field="name")
        if name != person.name:
            detail["changed"].append("name")
            detail["name"] = [person.name, name]
        person.name = name
        person.name_pinyin, person.name_initials = pinyin_keys(name)
        fields += ["name", "name_pinyin", "name_initials"]
    if phone is not None:
        sealed = seal_numbers(phone=phone)
        if sealed.phone_hash != person.phone_hash:
            detail["changed"].append("phone")
            detail["phone"] = [person.phone_masked, sealed.phone_masked]
        _apply_sealed(person, sealed)
        fields += ["phone_sealed", "phone_hash", "phone_masked", "phone_last4"]
    if not detail["changed"]:
        return person
    person.save(update_fields=fields)
    audit_record(
        action=AuditAction.PERSON_CHANGED, actor=actor, obj=person, request=request, detail=detail
    )
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


# --- Registry upkeep by staff -------------------------------------------------------------
# A community worker registers a newcomer, corrects a record and moves a resident to
# another address in the console. Every step goes through the scoping checkpoint twice:
# the rows read must be the actor's, and the record written must still be the actor's
# afterwards (a grid leader cannot register someone at an address outside their grid).
# Each write leaves an audit row naming what changed; ID and phone numbers appear there
# masked, never in full.

# What an audit row of a change calls each field of a record.
PERSON_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phone",
    "relation",
    "guardian",
    "tags",
)


def _require_editor(actor: Any) -> None:
    if not can_edit_registry(actor):
        raise PermissionDenied(_("您的角色不能登记或修改人员信息。"))


def _address_unit(actor: Any, unit_id: Any) -> Unit:
    if unit_id in (None, ""):
        raise ValidationError(_("请选择楼栋、小区或自然村。"), field="unit")
    unit = scoped(actor, Unit).filter(pk=unit_id if is_key(unit_id) else -1, is_active=True).first()
    if unit is None:
        raise ValidationError(_("该地址不存在或不在您的管辖范围内。"), field="unit")
    if unit.kind not in ADDRESS_KINDS:
        raise ValidationError(_("住户地址必须是楼栋、小区、自然村或村。"), field="unit")
    return unit


def _household_at(actor: Any, unit: Unit, entrance: str, room: str) -> tuple[Household, bool]:
    """The household at an address (the actor's), or a new one there; whether it is new.
    A household closed when its last members left opens again for whoever moves in:
    the address is the same flat, with no head until one is named."""
    entrance, room = (entrance or "").strip(), (room or "").strip()
    found = Household.objects.filter(unit=unit, entrance=entrance, room=room).first()
    if found is None:
        return household_create(unit=unit, entrance=entrance, room=room), True
    if not scoped(actor, Household).filter(pk=found.pk).exists():
        raise PermissionDenied(_("该住户不在您的管辖范围内。"))
    if not found.is_active:
        Household.objects.filter(pk=found.pk).update(is_active=True, head=None)
        found.is_active, found.head = True, None
        found.reopened = True  # type: ignore[attr-defined]
    return found, False


def current_members(household: Household) -> QuerySet[Person]:
    """Who is registered in a household now: not erased on request, not moved away or
    deceased."""
    return Person.objects.filter(ON_REGISTER, household=household)


@transaction.atomic
def household_close(
    *, actor: Any, household_id: Any, request: HttpRequest | None = None
) -> Household:
    """Deregister a household nobody lives in any more (注销住户): its grid member no
    longer lists it for visits, and grid counts leave it out. A household with members
    is refused (move them first). The row stays, with its cases and visits; registering
    someone at the address opens it again. Audited."""
    _require_editor(actor)
    seen = get_scoped_or_404(actor, Household, pk=household_id)
    # Locked by key: the scope's query may be DISTINCT, which FOR UPDATE refuses.
    household = Household.objects.select_for_update().get(pk=seen.pk)
    if not household.is_active:
        raise Conflict(_("该住户已注销。"))
    members = current_members(household).count()
    if members:
        raise Conflict(
            _("该户还有%(n)d名在册成员，请先将他们迁往新地址或登记迁出、去世。") % {"n": members},
            field="household",
        )
    Household.objects.filter(pk=household.pk).update(is_active=False, head=None)
    household.is_active, household.head = False, None
    audit_record(
        action=AuditAction.HOUSEHOLD_CLOSED,
        actor=actor,
        obj=household,
        request=request,
        detail={"address": household.address},
    )
    return household


def _other_head(household: Household, person_pk: int | None) -> Person | None:
    if household.head_id is None or household.head_id == person_pk:
        return None
    return Person.objects.filter(pk=household.head_id).only("id", "name").first()


def _refuse_second_head(household: Household, person_pk: int | None) -> None:
    head = _other_head(household, person_pk)
    if head is not None:
        raise Conflict(
            _("该户户主是%(name)s；请先修改其与户主的关系，再登记新的户主。") % {"name": head.name},
            field="relation",
        )


def _guardian(actor: Any, guardian_id: Any, person_pk: int | None = None) -> Person | None:
    if guardian_id in (None, ""):
        return None
    guardian = (
        scoped(actor, Person)
        .filter(ON_REGISTER, pk=guardian_id if is_key(guardian_id) else -1)
        .first()
    )
    if guardian is None or guardian.pk == person_pk:
        raise ValidationError(_("监护人不存在或不在您的管辖范围内。"), field="guardian")
    return guardian


def _must_stay_visible(actor: Any, person: Person) -> None:
    if not scoped(actor, Person).filter(pk=person.pk).exists():
        raise PermissionDenied(_("该地址不在您的管辖范围内，不能在此登记人员。"))


@transaction.atomic
def person_register(
    *,
    actor: Any,
    unit_id: Any,
    name: str,
    entrance: str = "",
    room: str = "",
    relation: str = "",
    gender: str = "",
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
    guardian_id: Any = None,
    tags: list[str] | None = None,
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> Person:
    """Register a person at an address in the actor's area: in the household there, or
    in a new one when none is registered at it. A household has one head: naming a
    second one is refused with the first one's name. Audited."""
    _require_editor(actor)
    if relation and relation not in Relation.values:
        raise ValidationError(_("未知的与户主关系。"), field="relation")
    if gender and gender not in Gender.values:
        raise ValidationError(_("未知的性别。"), field="gender")
    unit = _address_unit(actor, unit_id)
    guardian = _guardian(actor, guardian_id)
    household, created = _household_at(actor, unit, entrance, room)
    if relation == Relation.HEAD:
        _refuse_second_head(household, None)
    # A form sent twice (a double click, a retry) must not register one person twice;
    # two members of one household never share a name.
    clean_name = (name or "").strip()
    if clean_name and current_members(household).filter(name=clean_name).exists():
        raise Conflict(_("该户已登记名为%(name)s的成员。") % {"name": clean_name}, field="name")
    person = person_create(
        name=name,
        household=household,
        relation=relation,
        id_number=id_number,
        phone=phone,
        gender=gender,
        birth_date=birth_date,
        guardian=guardian,
        tags=tags,
        today=today,
    )
    if relation == Relation.HEAD:
        household.head = person  # person_create set it on the row
    _must_stay_visible(actor, person)
    audit_record(
        action=AuditAction.PERSON_REGISTERED,
        actor=actor,
        obj=person,
        request=request,
        detail={
            "household": household.pk,
            "address": household.address,
            "household_created": created,
            "household_reopened": getattr(household, "reopened", False),
            "fields": [f for f in PERSON_FIELDS if _filled(person, f)],
        },
    )
    return person


def _snapshot(person: Person) -> dict[str, Any]:
    """A record's fields as a correction compares and audits them (numbers masked)."""
    return {
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "id_number": person.id_number_masked,
        "phone": person.phone_masked,
        "relation": person.relation,
        "guardian": person.guardian_id,
    }


def _filled(person: Person, field: str) -> bool:
    if field == "tags":
        return person.tags.exists()
    return _snapshot(person)[field] not in ("", None, Gender.UNKNOWN)


def person_version(person: Person) -> str:
    """What a page or a client sends back to say which state of the record it edited."""
    return person.updated_at.isoformat()


def _editable_person(actor: Any, person_id: Any, version: str, *, left: bool = False) -> Person:
    """The record to change, read through the scoping checkpoint, in the state the page
    showed. ``left``: the record must be off the register (to reinstate it); otherwise
    it must be on it (a record of someone who moved away or died is not corrected or
    moved, only reinstated)."""
    _require_editor(actor)
    person = get_scoped_or_404(
        actor, Person, queryset=Person.objects.select_related("household__unit"), pk=person_id
    )
    if person.pseudonymized_at is not None:
        raise Conflict(_("该人员信息已删除，不能再修改。"))
    if left and person.left_on is None:
        raise Conflict(_("该人员在册，无需恢复。"))
    if not left and person.left_on is not None:
        raise Conflict(
            _("该人员已于%(date)s%(reason)s，不在册；如登记有误，请先恢复在册。")
            % {"date": person.left_on.isoformat(), "reason": person.get_left_reason_display()}
        )
    if version != person_version(person):
        raise Conflict(_("该人员信息已被他人修改，请刷新页面后再改。"), field="version")
    return person


def _save_if_unchanged(person: Person, version_at: dt.datetime, fields: list[str]) -> None:
    """Write ``fields`` only if no one wrote the row since it was read (a conditional
    update: on SQLite too, where ``SELECT … FOR UPDATE`` does nothing)."""
    now = timezone.now()
    values = {f: getattr(person, f) for f in fields}
    written = Person.objects.filter(pk=person.pk, updated_at=version_at).update(
        **values, updated_at=now
    )
    if written != 1:
        raise Conflict(_("该人员信息已被他人修改，请刷新页面后再改。"), field="version")
    person.updated_at = now


@transaction.atomic
def person_update(
    *,
    actor: Any,
    person_id: Any,
    version: str,
    name: str,
    gender: str = "",
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
    relation: str = "",
    guardian_id: Any = None,
    tags: list[str] | None = None,
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> tuple[Person, list[str]]:
    """Correct a record: name, gender and birth date (both from the ID number when there
    is one), a new ID or phone number (blank keeps the old one), the relation to the
    head, the guardian and the tags. ``version`` is the one the page showed: a record
    changed since is refused, not overwritten. Returns the person and the names of the
    fields that changed (none: nothing written, nothing audited)."""
    person = _editable_person(actor, person_id, version)
    today = today or timezone.localdate()
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写姓名。"), field="name")
    if relation and relation not in Relation.values:
        raise ValidationError(_("未知的与户主关系。"), field="relation")
    if gender and gender not in Gender.values:
        raise ValidationError(_("未知的性别。"), field="gender")
    sealed = seal_numbers((id_number or "").strip(), (phone or "").strip(), today=today)
    if sealed.id_hash and sealed.id_hash != person.id_number_hash:
        clash = Person.objects.exclude(id_number_hash="").filter(id_number_hash=sealed.id_hash)
        if clash.exclude(pk=person.pk).exists():
            raise Conflict(_("该身份证号码已登记。"), field="id_number")
    # The guardian already on the record stays, even one living outside the actor's area.
    keep = guardian_id not in (None, "") and guardian_id == person.guardian_id
    guardian = person.guardian if keep else _guardian(actor, guardian_id, person.pk)
    before = _snapshot(person)
    old_hashes = (person.id_number_hash, person.phone_hash)
    has_id = bool(sealed.id_hash or person.id_number_hash)
    if has_id:
        derived_birth = sealed.birth_date if sealed.id_hash else person.birth_date
        derived_gender = sealed.gender if sealed.id_hash else person.gender
        # What the record held before a new number (a form sends it back as it was
        # shown) gives way to the number; only a value typed against it is refused.
        kept_birth = {derived_birth, person.birth_date}
        kept_gender = {derived_gender, person.gender, Gender.UNKNOWN}
        if birth_date is not None and birth_date not in kept_birth:
            raise ValidationError(_("出生日期与身份证号码不一致。"), field="birth_date")
        if gender and gender not in kept_gender:
            raise ValidationError(_("性别与身份证号码不一致。"), field="gender")
        birth_date, gender = derived_birth, derived_gender or Gender.UNKNOWN
    else:
        if birth_date is not None and birth_date > today:
            raise ValidationError(_("出生日期不能晚于今天。"), field="birth_date")
        gender = gender or Gender.UNKNOWN
    person.name, person.gender, person.birth_date = name, gender, birth_date
    person.relation, person.guardian = relation, guardian
    _apply_sealed(person, sealed)
    if person.is_child(today) and guardian is None:
        raise ValidationError(
            _("未满%(age)d周岁的人员必须登记监护人。") % {"age": CHILD_AGE}, field="guardian"
        )
    household = person.household
    if household is not None and relation == Relation.HEAD:
        _refuse_second_head(household, person.pk)
    after = _snapshot(person)
    changed = [
        f for f in ("name", "gender", "birth_date", "relation", "guardian") if before[f] != after[f]
    ]
    # Numbers compare by their keyed hash: a number typed again unchanged is no change
    # (though its ciphertext would be new), and two numbers may share a mask.
    if sealed.id_hash and sealed.id_hash != old_hashes[0]:
        changed.append("id_number")
    if sealed.phone_hash and sealed.phone_hash != old_hashes[1]:
        changed.append("phone")
    old_tags = set(person.tags.values_list("code", flat=True))
    new_tags = set(tags or ())
    tag_rows = None
    if new_tags != old_tags:
        # A tag the record keeps may since have been retired; one added must be active.
        kept = list(Tag.objects.filter(code__in=new_tags & old_tags))
        tag_rows = kept + (_tags(sorted(new_tags - old_tags)) if new_tags - old_tags else [])
    if tag_rows is not None:
        changed.append("tags")
    if not changed:
        return person, []
    fields = ["name", "gender", "birth_date", "relation", "guardian"]
    if "name" in changed:
        person.name_pinyin, person.name_initials = pinyin_keys(name)
        fields += ["name_pinyin", "name_initials"]
    if "id_number" in changed:
        fields += ["id_number_sealed", "id_number_hash", "id_number_masked", "id_last4"]
    if "phone" in changed:
        fields += ["phone_sealed", "phone_hash", "phone_masked", "phone_last4"]
    _save_if_unchanged(person, dt.datetime.fromisoformat(version), fields)
    if tag_rows is not None:
        person.tags.set(tag_rows)
    if household is not None:
        if relation == Relation.HEAD and household.head_id != person.pk:
            Household.objects.filter(pk=household.pk).update(head=person)
        elif relation != Relation.HEAD and household.head_id == person.pk:
            Household.objects.filter(pk=household.pk).update(head=None)
    detail: dict[str, Any] = {"changed": changed}
    for field in ("name", "gender", "relation", "id_number", "phone"):
        if field in changed:
            detail[field] = [before[field], after[field]]
    if "birth_date" in changed:
        detail["birth_date"] = [str(before["birth_date"] or ""), str(after["birth_date"] or "")]
    if "guardian" in changed:
        detail["guardian"] = [before["guardian"], after["guardian"]]
    if tag_rows is not None:
        detail["tags"] = {
            "added": sorted(new_tags - old_tags),
            "removed": sorted(old_tags - new_tags),
        }
    audit_record(
        action=AuditAction.PERSON_CHANGED, actor=actor, obj=person, request=request, detail=detail
    )
    return person, changed


@transaction.atomic
def person_move(
    *,
    actor: Any,
    person_id: Any,
    version: str,
    unit_id: Any,
    entrance: str = "",
    room: str = "",
    relation: str = "",
    request: HttpRequest | None = None,
) -> Person:
    """Move a resident to another address in the actor's area (人户迁移): into the
    household registered there, or a new one. A head who leaves leaves the household
    without a head; the relation given is the one to the new household's head. The
    cases, visits and points of the person stay where they happened. Audited with both
    addresses."""
    person = _editable_person(actor, person_id, version)
    if relation and relation not in Relation.values:
        raise ValidationError(_("未知的与户主关系。"), field="relation")
    unit = _address_unit(actor, unit_id)
    old, old_relation = person.household, person.relation
    old_address = old.address if old is not None else person.unit.name
    household, created = _household_at(actor, unit, entrance, room)
    if old is not None and household.pk == old.pk:
        raise ValidationError(_("该人员已是这一住户的成员。"), field="room")
    if relation == Relation.HEAD:
        _refuse_second_head(household, person.pk)
    if current_members(household).filter(name=person.name).exists():
        raise Conflict(_("该户已登记名为%(name)s的成员。") % {"name": person.name}, field="room")
    person.household, person.unit, person.relation = household, household.unit, relation
    _save_if_unchanged(
        person, dt.datetime.fromisoformat(version), ["household", "unit", "relation"]
    )
    if old is not None and old.head_id == person.pk:
        Household.objects.filter(pk=old.pk).update(head=None)
    if relation == Relation.HEAD:
        Household.objects.filter(pk=household.pk).update(head=person)
        household.head = person
    _must_stay_visible(actor, person)
    audit_record(
        action=AuditAction.PERSON_MOVED,
        actor=actor,
        obj=person,
        request=request,
        detail={
            "from": old_address,
            "from_household": old.pk if old is not None else None,
            "to": household.address,
            "to_household": household.pk,
            "household_created": created,
            "household_reopened": getattr(household, "reopened", False),
            "relation": [old_relation, relation],
        },
    )
    return person


LEFT_NOTE_MAX = 100


@dataclass(frozen=True)
class Leaving:
    """What taking a person off the register left for the staff to do."""

    person: Person
    household_empty: bool  # nobody on the register lives there now: the household may close
    wards: list[Person]  # children on the register whose guardian they were
    # What the other apps did in turn (a program's seat given back …), in words.
    followups: list[str] = dataclasses.field(default_factory=list)


@transaction.atomic
def person_leave(
    *,
    actor: Any,
    person_id: Any,
    version: str,
    reason: str,
    on: dt.date | None,
    note: str = "",
    request: HttpRequest | None = None,
    today: dt.date | None = None,
) -> Leaving:
    """Take a person off the register as of a day: moved out of the area (迁出本辖区,
    ``note`` may say where to) or deceased (去世). The record stays, with its history,
    cases, visits, points and party membership, and the family still follows what was
    asked for them; it is no longer counted, listed among the household's members,
    offered as a guardian or found at a counter. A head who leaves leaves the household
    without a head; the household stays open until the staff close it. Audited; a mark
    made in error is undone by :func:`person_reinstate`."""
    person = _editable_person(actor, person_id, version)
    today = today or timezone.localdate()
    if reason not in LeftReason.values:
        raise ValidationError(_("请选择迁出本辖区或去世。"), field="reason")
    if on is None:
        raise ValidationError(_("请填写日期。"), field="on")
    if on > today:
        raise ValidationError(_("日期不能晚于今天。"), field="on")
    if person.birth_date is not None and on < person.birth_date:
        raise ValidationError(_("日期不能早于出生日期。"), field="on")
    note = (note or "").strip()
    if len(note) > LEFT_NOTE_MAX:
        raise ValidationError(_("说明不能超过%(n)d个字。") % {"n": LEFT_NOTE_MAX}, field="note")
    person.left_on, person.left_reason, person.left_note = on, reason, note
    _save_if_unchanged(
        person, dt.datetime.fromisoformat(version), ["left_on", "left_reason", "left_note"]
    )
    household = person.household
    was_head = household is not None and household.head_id == person.pk
    if household is not None and was_head:
        Household.objects.filter(pk=household.pk).update(head=None)
        household.head = None
    household_empty = household is not None and not current_members(household).exists()
    # A mobile party member who left is no longer reporting to the site's organization.
    closed = []
    for registration in MobileRegistration.objects.filter(
        person=person, status=MobileStatus.ACTIVE
    ):
        mobile_leave(registration=registration, left_on=max(on, registration.registered_on))
        closed.append(registration.pk)
    followups = [
        str(said)
        for _receiver, said in person_left.send(
            sender=Person, person=person, actor=actor, reason=reason, on=on
        )
        if said
    ]
    if closed:
        followups.insert(0, _("流动党员报到已转出。"))
    # Named to the staff: only the wards they may see.
    wards = [
        ward
        for ward in scoped(actor, Person)
        .filter(ON_REGISTER, guardian=person)
        .order_by("name_pinyin", "pk")
        if ward.is_child(today)
    ]
    audit_record(
        action=AuditAction.PERSON_LEFT,
        actor=actor,
        obj=person,
        request=request,
        detail={
            "reason": reason,
            "on": on.isoformat(),
            "note": note,
            "address": household.address if household is not None else person.unit.name,
            "household": household.pk if household is not None else None,
            "was_head": was_head,
            **({"mobile_registrations_closed": closed} if closed else {}),
        },
    )
    return Leaving(person=person, household_empty=household_empty, wards=wards, followups=followups)


@transaction.atomic
def person_reinstate(
    *, actor: Any, person_id: Any, version: str, request: HttpRequest | None = None
) -> Person:
    """Put a person marked as moved away or deceased back on the register: a mark made
    in error, or a resident who came back to the same address (one who came back to
    another address is reinstated, then moved). A closed household opens again; a head
    is head again unless the household has another one by now (then the relation is
    left blank, and the audit row says so). Audited with what was undone."""
    person = _editable_person(actor, person_id, version, left=True)
    detail: dict[str, Any] = {
        "reason": person.left_reason,
        "on": person.left_on.isoformat() if person.left_on else None,
        "note": person.left_note,
    }
    fields = ["left_on", "left_reason", "left_note"]
    household = person.household
    if household is not None:
        household = Household.objects.select_for_update().get(pk=household.pk)
        if current_members(household).filter(name=person.name).exists():
            raise Conflict(
                _("该户已登记名为%(name)s的成员。") % {"name": person.name}, field="household"
            )
        if person.relation == Relation.HEAD and household.head_id not in (None, person.pk):
            person.relation = ""
            fields.append("relation")
            detail["relation"] = [Relation.HEAD, ""]
        detail["household_reopened"] = not household.is_active
    person.left_on, person.left_reason, person.left_note = None, "", ""
    _save_if_unchanged(person, dt.datetime.fromisoformat(version), fields)
    if household is not None:
        becomes_head = person.relation == Relation.HEAD and household.head_id is None
        Household.objects.filter(pk=household.pk).update(
            is_active=True, **({"head": person} if becomes_head else {})
        )
        household.is_active = True
        if becomes_head:
            household.head = person
        person.household = household
    audit_record(
        action=AuditAction.PERSON_REINSTATED,
        actor=actor,
        obj=person,
        request=request,
        detail=detail,
    )
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
