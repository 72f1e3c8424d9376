"""Forms of the grid pages: the balancing parameters, a visit, a household's grid."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from doorstep.core.forms import ServiceForm

from .balancing import DEFAULT_MAX_SIZE, DEFAULT_PER_MEMBER


class BalanceForm(forms.Form):
    max_size = forms.IntegerField(
        label=_("每个网格最多住户数"), min_value=1, max_value=1000, initial=DEFAULT_MAX_SIZE
    )
    per_member = forms.IntegerField(
        label=_("每名网格员联系住户数"), min_value=1, max_value=200, initial=DEFAULT_PER_MEMBER
    )
    fingerprint = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)


class VisitForm(forms.Form):
    visited_on = forms.DateField(
        label=_("走访日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("走访记录"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    needs = forms.CharField(
        label=_("发现的需求"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    wishes = forms.CharField(
        label=_("心愿（每行一条）"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def wish_list(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data.get("wishes", "").splitlines()
            if line.strip()
        ]


class AssignForm(ServiceForm):
    """A household's grid and the member who links it."""

    grid = forms.TypedChoiceField(label=_("网格"), coerce=int, choices=[])
    member = forms.TypedChoiceField(
        label=_("联系网格员"), required=False, coerce=int, empty_value=None, choices=[]
    )

    def __init__(
        self,
        *args: Any,
        grids: list[tuple[int, str]] | None = None,
        members: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["grid"]).choices = [("", "—"), *(grids or [])]
        cast(forms.TypedChoiceField, self.fields["member"]).choices = [
            ("", _("暂不指定")),
            *(members or []),
        ]
