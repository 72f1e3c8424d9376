"""Forms of the registry pages: they clean input; the selectors and services decide."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Tag

AGE_GROUP_CHOICES = [("", _("全部年龄")), ("elderly", _("60岁及以上")), ("child", _("14岁以下"))]
PARTY_CHOICES = [("", _("不限")), ("yes", _("党员")), ("no", _("非党员"))]
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
