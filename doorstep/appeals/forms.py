"""Forms of the appeals pages. They only parse input; the services validate and decide."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from doorstep.orgs.models import Unit

from .choices import CaseKind, Channel, Color
from .models import TEXT_MAX
from .selectors import leaf_categories

RESIDENT_KINDS = [
    (CaseKind.PROBLEM, CaseKind.PROBLEM.label),
    (CaseKind.COMPLAINT, CaseKind.COMPLAINT.label),
    (CaseKind.WISH, CaseKind.WISH.label),
    (CaseKind.SUGGESTION, CaseKind.SUGGESTION.label),
    (CaseKind.DISPUTE, CaseKind.DISPUTE.label),
    (CaseKind.CONSULTATION, CaseKind.CONSULTATION.label),
]


def _category_choices() -> list[tuple[str, Any]]:
    return [("", "—")] + [
        (c.code, f"{c.parent.name} · {c.name}" if c.parent else c.name) for c in leaf_categories()
    ]


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=RESIDENT_KINDS, initial=CaseKind.PROBLEM)
    category = forms.ChoiceField(label=_("类别"), choices=())
    unit = forms.IntegerField(label=_("小区/村"), required=False, widget=forms.Select)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    # Longer than allowed on purpose: the service names the field and the limit.
    text = forms.CharField(
        label=_("描述"),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": TEXT_MAX}),
        max_length=TEXT_MAX * 20,
        strip=False,
    )
    photo = forms.FileField(label=_("照片（可选）"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, places: list[Unit] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()  # type: ignore[attr-defined]
        self.fields["unit"].widget.choices = [("", _("在地图上选择或选择小区"))] + [
            (u.pk, u.name) for u in places or []
        ]


class ProxyForm(ReportForm):
    channel = forms.ChoiceField(
        label=_("渠道"),
        choices=[
            (Channel.HOTLINE, Channel.HOTLINE.label),
            (Channel.VISIT, Channel.VISIT.label),
            (Channel.SUGGESTION_BOX, Channel.SUGGESTION_BOX.label),
            (Channel.WECHAT_GROUP, Channel.WECHAT_GROUP.label),
        ],
    )


class TransitionForm(forms.Form):
    action = forms.CharField(max_length=20)
    version = forms.IntegerField()
    note = forms.CharField(required=False, max_length=TEXT_MAX * 20, strip=False)
    result = forms.CharField(required=False, max_length=TEXT_MAX * 20, strip=False)
    assignee = forms.IntegerField(required=False)
    target = forms.CharField(required=False, max_length=20)


class RateForm(forms.Form):
    version = forms.IntegerField()
    score = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("评价"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class BoardFilterForm(forms.Form):
    color = forms.ChoiceField(
        label=_("颜色"), required=False, choices=[("", _("全部")), *Color.choices]
    )
    state = forms.ChoiceField(required=False, label=_("状态"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .choices import CaseState

        super().__init__(*args, **kwargs)
        choices = [("", _("全部")), ("open", _("未办结")), *CaseState.choices]
        self.fields["state"].choices = choices  # type: ignore[attr-defined]
