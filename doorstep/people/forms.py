"""Forms of the registry pages: they clean input; the selectors and services decide."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from doorstep.core.forms import ServiceForm

from .choices import CHILD_AGE, Gender, LeftReason, Relation
from .models import Tag

AGE_GROUP_CHOICES = [("", _("全部年龄")), ("elderly", _("60岁及以上")), ("child", _("14岁以下"))]
PARTY_CHOICES = [("", _("不限")), ("yes", _("党员")), ("no", _("非党员"))]
STATUS_CHOICES = [
    ("current", _("在册")),
    ("left", _("已迁出或去世")),
    ("all", _("全部")),
]
PAGE_SIZES = (20, 50, 100, 200)


class RegistrySearchForm(forms.Form):
    q = forms.CharField(
        label=_("姓名、拼音、证件或电话后四位"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    tag = forms.MultipleChoiceField(
        label=_("标签"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )
    age_group = forms.ChoiceField(label=_("年龄段"), required=False, choices=AGE_GROUP_CHOICES)
    party = forms.ChoiceField(label=_("政治面貌"), required=False, choices=PARTY_CHOICES)
    status = forms.ChoiceField(label=_("人员状态"), required=False, choices=STATUS_CHOICES)
    within = forms.TypedChoiceField(
        label=_("范围"), required=False, coerce=int, empty_value=None, choices=[]
    )
    page_size = forms.TypedChoiceField(
        label=_("每页"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[(n, n) for n in PAGE_SIZES],
    )

    def __init__(self, *args: Any, units: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tag_field = cast(forms.MultipleChoiceField, self.fields["tag"])
        tag_field.choices = [
            (tag.code, tag.label) for tag in Tag.objects.filter(is_active=True).order_by("code")
        ]
        within_field = cast(forms.TypedChoiceField, self.fields["within"])
        within_field.choices = [("", _("全部"))] + [(u.pk, u.name) for u in units or []]

    def party_filter(self) -> bool | None:
        value = self.cleaned_data.get("party")
        return {"yes": True, "no": False}.get(value or "")


class OwnRecordForm(forms.Form):
    """What a resident may correct themselves: name and phone."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(
        label=_("新的电话号码"),
        max_length=20,
        required=False,
        help_text=_("不修改请留空。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class DeletionConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我确认删除我的个人信息，此操作不能撤销。"),
        required=True,
        error_messages={"required": _("请勾选确认后再提交。")},
    )


class RevealForm(forms.Form):
    field = forms.ChoiceField(
        choices=[("id_number", _("身份证号码")), ("phone", _("电话"))],
        error_messages={"invalid_choice": _("只能查看身份证号码或电话。")},
    )


# --- Registry upkeep ----------------------------------------------------------------------


def _tag_choices(extra: list[Any] | None = None) -> list[tuple[str, Any]]:
    """The active tags, and any retired one the record still carries."""
    tags = {t.code: t.label for t in Tag.objects.filter(is_active=True).order_by("code")}
    for tag in extra or ():
        tags.setdefault(tag.code, tag.label)
    return list(tags.items())


class AddressFields(ServiceForm):
    """Where a person lives: a building, compound or natural village of the actor's
    area, with the entrance (单元) and room."""

    unit = forms.TypedChoiceField(label=_("楼栋/小区/自然村"), coerce=int, choices=[])
    entrance = forms.CharField(label=_("单元"), max_length=10, required=False)
    room = forms.CharField(label=_("门牌号/室号"), max_length=20, required=False)
    relation = forms.ChoiceField(
        label=_("与户主关系"), required=False, choices=[("", "—"), *Relation.choices]
    )

    def __init__(self, *args: Any, units: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["unit"]).choices = [("", "—"), *(units or [])]


class PersonFields(ServiceForm):
    """A record's own fields. The numbers are typed only to set them: the form never
    holds the stored ones (the page shows them masked)."""

    aliases: ClassVar[dict[str, str | None]] = {"guardian_id": "guardian", "unit_id": "unit"}

    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=18,
        required=False,
        help_text=_("填写后出生日期和性别由号码得出。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    gender = forms.ChoiceField(
        label=_("性别"), required=False, choices=[("", "—"), *Gender.choices]
    )
    birth_date = forms.DateField(
        label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    guardian = forms.TypedChoiceField(
        label=_("监护人"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[],
    )
    tags = forms.MultipleChoiceField(
        label=_("标签"), required=False, choices=[], widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        guardians: list[tuple[int, str]] | None = None,
        tags: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["guardian"].help_text = _("未满%(age)d周岁的人员必须登记监护人。") % {
            "age": CHILD_AGE
        }
        cast(forms.TypedChoiceField, self.fields["guardian"]).choices = [
            ("", "—"),
            *(guardians or []),
        ]
        cast(forms.MultipleChoiceField, self.fields["tags"]).choices = _tag_choices(tags)


class PersonRegisterForm(AddressFields, PersonFields):
    """A newcomer: the address first (the household there, or a new one), then the
    person."""

    field_order = ["unit", "entrance", "room", "relation", "name", "id_number", "phone",
                   "gender", "birth_date", "guardian", "tags"]  # fmt: skip


class PersonEditForm(PersonFields):
    """Corrections to a record; a number left blank keeps the stored one."""

    version = forms.CharField(widget=forms.HiddenInput, max_length=40)
    relation = forms.ChoiceField(
        label=_("与户主关系"), required=False, choices=[("", "—"), *Relation.choices]
    )

    field_order = ["name", "relation", "id_number", "phone", "gender", "birth_date",
                   "guardian", "tags", "version"]  # fmt: skip

    def __init__(self, *args: Any, has_id: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].label = _("新的身份证号码")
        self.fields["phone"].label = _("新的电话号码")
        self.fields["id_number"].help_text = _("不修改请留空；填写后出生日期和性别由号码得出。")
        self.fields["phone"].help_text = _("不修改请留空。")
        if has_id:
            # Both come from the number on file; a new number brings its own.
            self.fields["gender"].disabled = True
            self.fields["birth_date"].disabled = True


class PersonMoveForm(AddressFields):
    """Another address of the actor's area: the household there, or a new one."""

    version = forms.CharField(widget=forms.HiddenInput, max_length=40)


class PersonLeaveForm(ServiceForm):
    """Off the register: moved out of the area or deceased, as of a day."""

    reason = forms.ChoiceField(
        label=_("原因"), choices=LeftReason.choices, widget=forms.RadioSelect
    )
    on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=_("说明"),
        max_length=100,
        required=False,
        help_text=_("例如迁往何处；选填。"),
    )
    version = forms.CharField(widget=forms.HiddenInput, max_length=40)


class ReinstateForm(forms.Form):
    version = forms.CharField(widget=forms.HiddenInput, max_length=40)
