"""Persons, households, tags, party members and mobile party member registrations.

ID and phone numbers are never stored in the clear: each is sealed (AES-GCM, see
:mod:`doorstep.core.crypto`), found by a keyed hash, and shown through a masked copy
that holds no more than the mask shows (``5105**********1234``).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from doorstep.core.models import BaseModel
from doorstep.orgs.models import PartyOrg, Unit

from .choices import (
    CHILD_AGE,
    ELDERLY_AGE,
    Gender,
    LeftReason,
    MobileStatus,
    PartyMemberKind,
    Relation,
)

# The tags every deployment starts with (migration 0002), in the reader's language.
BUILTIN_TAG_NAMES = {
    "disability": ("残疾人", _("残疾人")),
    "veteran": ("退役军人", _("退役军人")),
    "courier": ("快递员", _("快递员")),
    "rider": ("外卖骑手", _("外卖骑手")),
    "ride_hailing": ("网约车司机", _("网约车司机")),
    "low_income": ("低收入", _("低收入")),
    "living_alone": ("独居", _("独居")),
}


class Tag(BaseModel):
    """A label on a person: disability, veteran, new-employment group, low income …"""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("人员标签")
        verbose_name_plural = _("人员标签")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name shown on pages: a built-in tag still under its first name in the
        reader's language; a tag added or renamed in the admin as it was written. Files
        (exports, import templates) keep ``name``, which the importer reads back."""
        builtin = BUILTIN_TAG_NAMES.get(self.code)
        if builtin is not None and builtin[0] == self.name:
            return str(builtin[1])
        return self.name


class Household(BaseModel):
    """A household at an address: a unit of the tree (a building, a natural village or a
    compound) plus the entrance (单元) and room numbers."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("地址单元"), on_delete=models.PROTECT, related_name="households"
    )
    entrance = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("门牌号/室号"), max_length=20, blank=True)
    head = models.ForeignKey(
        "Person",
        verbose_name=_("户主"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("在册"), default=True)

    class Meta:
        verbose_name = _("住户")
        verbose_name_plural = pgettext_lazy("plural", "住户")
        ordering = ["unit__path", "entrance", "room"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "entrance", "room"],
                name="people_household_address_unique",
                violation_error_message=_("该地址已登记住户。"),
            )
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        parts = [self.unit.name]
        if self.entrance:
            parts.append(f"{self.entrance}单元")
        if self.room:
            parts.append(self.room)
        return "".join(parts)


# Who is on the register now: not erased on request, not moved away or deceased.
ON_REGISTER = Q(pseudonymized_at__isnull=True, left_on__isnull=True)


class Person(BaseModel):
    """A resident known to the registry. ``unit`` is where the person lives (the
    household's unit when there is one) and decides who may see the record."""

    name = models.CharField(_("姓名"), max_length=50)
    # Indexed in Meta.indexes: plain B-trees, no PostgreSQL LIKE copies (migration 0005).
    name_pinyin = models.CharField(_("姓名拼音"), max_length=200, editable=False)
    name_initials = models.CharField(_("拼音首字母"), max_length=50, editable=False)
    gender = models.CharField(
        _("性别"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birth_date = models.DateField(_("出生日期"), null=True, blank=True, db_index=True)
    id_number_sealed = models.TextField(_("身份证号（密文）"), blank=True, editable=False)
    id_number_hash = models.CharField(
        _("身份证号（检索哈希）"), max_length=64, blank=True, editable=False
    )
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True, editable=False)
    # The last four characters, as the mask shows them, indexed for suffix search.
    id_last4 = models.CharField(_("身份证号后四位"), max_length=4, blank=True, editable=False)
    phone_sealed = models.TextField(_("电话（密文）"), blank=True, editable=False)
    phone_hash = models.CharField(_("电话（检索哈希）"), max_length=64, blank=True, editable=False)
    phone_masked = models.CharField(_("电话"), max_length=15, blank=True, editable=False)
    phone_last4 = models.CharField(_("电话后四位"), max_length=4, blank=True, editable=False)
    unit = models.ForeignKey(
        Unit, verbose_name=_("居住单元"), on_delete=models.PROTECT, related_name="persons"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("住户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    relation = models.CharField(
        _("与户主关系"), max_length=20, choices=Relation.choices, blank=True
    )
    guardian = models.ForeignKey(
        "self",
        verbose_name=_("监护人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wards",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("标签"), blank=True, related_name="persons")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
    )
    pseudonymized_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True, editable=False)
    # Off the register (moved out of the area, or died): see people.services.person_leave.
    left_on = models.DateField(_("离开日期"), null=True, blank=True, editable=False)
    left_reason = models.CharField(
        _("离开原因"),
        max_length=20,
        choices=LeftReason.choices,
        blank=True,
        editable=False,
        default="",
        db_default="",  # the bulk loaders name only the columns they fill
    )
    left_note = models.CharField(
        _("离开说明"), max_length=100, blank=True, editable=False, default="", db_default=""
    )

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["name_pinyin", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=~Q(id_number_hash=""),
                name="people_person_id_number_unique",
                violation_error_message=_("该身份证号码已登记。"),
            )
        ]
        indexes = [
            models.Index(fields=["unit", "birth_date"], name="people_person_unit_birth"),
            # Searched by equality or by ranges, never by LIKE: plain B-trees only.
            models.Index(fields=["name_pinyin"], name="people_person_pinyin_idx"),
            models.Index(fields=["name_initials"], name="people_person_initials_idx"),
            models.Index(fields=["id_last4"], name="people_person_id_last4_idx"),
            models.Index(fields=["phone_hash"], name="people_person_phone_hash_idx"),
            models.Index(fields=["phone_last4"], name="people_person_phone_last4_idx"),
            # The few who moved away or died, listed apart from a registry of many.
            models.Index(
                fields=["left_on"],
                name="people_person_left_idx",
                condition=Q(left_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def age_on(self, day: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def age_shown(self, today: dt.date) -> int | None:
        """The age a page shows: today's, or the age at death for someone deceased."""
        if self.left_on is not None and self.left_reason == LeftReason.DECEASED:
            return self.age_on(min(self.left_on, today))
        return self.age_on(today)

    def is_elderly(self, day: dt.date) -> bool:
        age = self.age_on(day)
        return age is not None and age >= ELDERLY_AGE

    def is_child(self, day: dt.date) -> bool:
        age = self.age_on(day)
        return age is not None and age < CHILD_AGE


class PartyMember(BaseModel):
    """A party member of a party organization (their 组织关系)."""

    person = models.OneToOneField(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="party_member"
    )
    party_org = models.ForeignKey(
        PartyOrg, verbose_name=_("所在党组织"), on_delete=models.PROTECT, related_name="members"
    )
    kind = models.CharField(
        _("类别"), max_length=20, choices=PartyMemberKind.choices, default=PartyMemberKind.REGULAR
    )
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "党员")
        verbose_name_plural = _("党员")

    def __str__(self) -> str:
        return str(self.person)


class MobileRegistration(BaseModel):
    """A mobile party member's registration (流动党员报到备案) with a functional party
    organization at a service site; closed, not deleted, when the member leaves."""

    person = models.ForeignKey(
        Person,
        verbose_name=_("人员"),
        on_delete=models.PROTECT,
        related_name="mobile_registrations",
    )
    party_org = models.ForeignKey(
        PartyOrg,
        verbose_name=_("报到党组织"),
        on_delete=models.PROTECT,
        related_name="mobile_registrations",
    )
    registered_on = models.DateField(_("报到日期"))
    origin_org = models.CharField(_("原所在党组织"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=10, choices=MobileStatus.choices, default=MobileStatus.ACTIVE
    )
    left_on = models.DateField(_("转出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("流动党员报到")
        verbose_name_plural = _("流动党员报到")
        ordering = ["-registered_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "party_org"],
                condition=Q(status="active"),
                name="people_mobile_one_active_per_org",
                violation_error_message=_("该党员已在此党组织报到。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.party_org}"


__all__ = ["Gender", "Household", "MobileRegistration", "PartyMember", "Person", "Relation", "Tag"]
