"""Forms of the appeals pages. They only parse input; the services validate and decide."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from doorstep.core import timeutils
from doorstep.core.inputs import MAX_KEY
from doorstep.orgs.models import Unit

from .choices import CaseKind, Channel, Color, Level, MediationOutcome
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


class Form(forms.Form):
    """A form whose labels have no suffix: the pages put each label above its field,
    written without a colon, as the other apps' hand-written labels are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class Textarea(forms.Textarea):
    """A textarea without Django's fixed ``cols=40``, which is wider than a phone; the
    stylesheet gives it the width of its form."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.attrs.pop("cols", None)


def _category_choices() -> list[tuple[str, Any]]:
    return [("", "—")] + [
        (c.code, f"{c.parent.label} · {c.label}" if c.parent else c.label)
        for c in leaf_categories()
    ]


class ReportForm(Form):
    kind = forms.ChoiceField(label=_("类型"), choices=RESIDENT_KINDS, initial=CaseKind.PROBLEM)
    category = forms.ChoiceField(label=_("类别"), choices=())
    unit = forms.IntegerField(label=_("小区/村"), required=False, widget=forms.Select)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    # Longer than allowed on purpose: the service names the field and the limit.
    text = forms.CharField(
        label=_("描述"),
        widget=Textarea(attrs={"rows": 5, "maxlength": TEXT_MAX}),
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
        self.fields["unit"].widget.choices = [
            ("", _("在地图上选择或选择小区")),
            *place_groups(places),
        ]


def place_groups(places: list[Unit] | None) -> list[tuple[str, list[tuple[int, str]]]]:
    """Places grouped under the unit above them (a compound under its community, a
    building under its compound), in the order given, so that a resident finds theirs
    and two places of the same name in different communities can be told apart."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for unit in places or []:
        parent = unit.parent.name if unit.parent_id and unit.parent else ""
        groups.setdefault(parent, []).append((unit.pk, unit.name))
    return list(groups.items())


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

    reporter_phone = forms.CharField(
        label=_("居民电话（可选，居民凭回执码和电话后四位评价）"),
        required=False,
        max_length=30,
    )
    # A household the case is for (from a grid member's household page): its place and
    # its head as the reporter.
    household = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_KEY, widget=forms.HiddenInput
    )


class TransitionForm(Form):
    action = forms.CharField(max_length=20)
    version = forms.IntegerField()
    note = forms.CharField(required=False, max_length=TEXT_MAX * 20, strip=False)
    result = forms.CharField(required=False, max_length=TEXT_MAX * 20, strip=False)
    assignee = forms.IntegerField(required=False)
    target = forms.CharField(required=False, max_length=20)


class RateForm(Form):
    version = forms.IntegerField()
    score = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("评价"), required=False, max_length=2000, widget=Textarea(attrs={"rows": 2})
    )


class BoardFilterForm(Form):
    color = forms.ChoiceField(
        label=_("颜色"), required=False, choices=[("", _("全部")), *Color.choices]
    )
    state = forms.ChoiceField(required=False, label=_("状态"), choices=())

    def __init__(self, *args: Any, open_first: bool = False, **kwargs: Any) -> None:
        """``open_first``: the staff's board, which shows the open cases unless told
        otherwise, so "open" comes first and "all" has a value of its own."""
        from .choices import CaseState

        super().__init__(*args, **kwargs)
        first = (
            [("open", _("未办结")), ("all", _("全部"))]
            if open_first
            else [("", _("全部")), ("open", _("未办结"))]
        )
        self.fields["state"].choices = [*first, *CaseState.choices]  # type: ignore[attr-defined]


class ReceiptRateForm(Form):
    """Rating with the receipt code and the last four digits of the intake phone."""

    code = forms.CharField(widget=forms.HiddenInput, max_length=12)
    phone_last4 = forms.CharField(
        label=_("登记电话后四位"),
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    score = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("评价"), required=False, max_length=2000, widget=Textarea(attrs={"rows": 2})
    )


class PeriodForm(Form):
    """A period of local dates, both ends included; the default is this year so far."""

    start = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("start", "end"):
            day = data.get(name)
            if day and not timeutils.plausible_day(day):
                self.add_error(name, timeutils.day_range_message())
                data.pop(name, None)
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("结束日期不能早于开始日期。"))
        if start and end and (end - start).days > 366 * 10:
            self.add_error("start", _("时间段不能超过十年。"))
        return data


class MediatorForm(Form):
    mediator = forms.TypedChoiceField(
        label=_("调解员（和事佬）"), coerce=int, required=False, choices=()
    )
    mediator_username = forms.CharField(label=_("或输入调解员账号"), required=False, max_length=150)
    mediator_person = forms.CharField(
        label=_("或没有账号的居民调解员：姓名或手机号"),
        required=False,
        max_length=40,
        help_text=_("例如社区里德高望重的老党员。他（她）的调解会和结果由工作人员代为登记。"),
    )
    parties = forms.CharField(label=_("当事各方"), max_length=3000, strip=False)

    def __init__(self, *args: Any, mediators: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mediator"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (u.pk, str(u)) for u in mediators or []
        ]


class SessionForm(Form):
    held_at = forms.DateTimeField(
        label=_("调解时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("地点"), required=False, max_length=1000)
    attendees = forms.CharField(label=_("参加人"), required=False, max_length=3000)
    notes = forms.CharField(
        label=_("记录"),
        required=False,
        max_length=TEXT_MAX * 20,
        strip=False,
        widget=Textarea(attrs={"rows": 3}),
    )


class ConcludeForm(Form):
    outcome = forms.ChoiceField(
        label=_("调解结果"),
        choices=[
            (MediationOutcome.AGREEMENT, MediationOutcome.AGREEMENT.label),
            (MediationOutcome.NO_AGREEMENT, MediationOutcome.NO_AGREEMENT.label),
        ],
        widget=forms.RadioSelect,
    )
    agreement = forms.CharField(
        label=_("协议内容"),
        required=False,
        max_length=TEXT_MAX * 20,
        strip=False,
        widget=Textarea(attrs={"rows": 4}),
    )


class SuggestionMarkForm(Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    adopted = forms.TypedChoiceField(
        label=_("是否采纳"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("采纳")), ("no", _("不采纳"))],
        widget=forms.RadioSelect,
    )
    problem_solved = forms.BooleanField(label=_("解决了问题"), required=False)
    note = forms.CharField(label=_("解决了什么问题 / 说明"), required=False, max_length=5000)


class CategoryForm(Form):
    """Fields of a category; the service validates and decides."""

    code = forms.CharField(label=_("代码"), max_length=200, required=False)
    name = forms.CharField(label=_("名称"), max_length=1000)
    parent = forms.TypedChoiceField(label=_("上级类别"), coerce=int, required=False, choices=())
    description = forms.CharField(label=_("说明"), required=False, max_length=3000)
    default_color = forms.ChoiceField(label=_("默认颜色"), choices=Color.choices)
    default_level = forms.ChoiceField(label=_("默认责任层级"), choices=Level.choices)
    deadline_hours = forms.CharField(
        label=_("办理时限（小时，空为按颜色）"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    lead_department_kind = forms.ChoiceField(
        label=_("红色案件牵头部门类型"), required=False, choices=()
    )
    order = forms.CharField(label=_("排序"), required=False, max_length=20)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, parents: list[Any] | None = None, **kwargs: Any) -> None:
        from doorstep.orgs.choices import DepartmentKind

        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("（大类）"))] + [  # type: ignore[attr-defined]
            (p.pk, p.name) for p in parents or []
        ]
        self.fields["lead_department_kind"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *DepartmentKind.choices,
        ]
