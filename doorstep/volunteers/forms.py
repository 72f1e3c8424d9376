"""Forms of the volunteer pages. They carry what was typed to the services, and back onto
the page when a service refuses it.

A form checks only what its markup promises — a required field is filled, a text fits its
``maxlength``, a number is a whole number, a time is a time — each beside its field. The
service judges the rest; :meth:`ServiceForm.refuse` puts its refusal beside the field it
names, or in the summary above the form when it names none of the form's fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from doorstep.core.forms import ServiceForm
from doorstep.orgs.models import Unit
from doorstep.points.choices import ActivityType

from .models import Team


class RowForm(ServiceForm):
    """The buttons of one row (sign this person up, check in, add to the team): nothing is
    typed, so a refusal is told beside the row's buttons and in the summary."""

    summary_title = _("未能完成：")


def _unit_choices(units: Iterable[Unit]) -> list[tuple[Any, str]]:
    return [(u.pk, u.name) for u in units]


class ActivityForm(ServiceForm):
    """Announce an activity (``activity_create``)."""

    unit = forms.CharField(
        label=_("社区/村"), widget=forms.Select, error_messages={"required": _("请选择社区/村。")}
    )
    title = forms.CharField(label=_("名称"), max_length=80)
    activity_type = forms.CharField(
        label=_("活动类型"), widget=forms.Select(choices=ActivityType.choices)
    )
    place = forms.CharField(label=_("地点"), max_length=120)
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("时间格式不正确。")},
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("时间格式不正确。")},
    )
    slots = forms.IntegerField(
        label=_("名额"),
        initial=10,
        widget=forms.NumberInput(attrs={"min": 1, "max": 1000}),
        error_messages={"invalid": _("名额须为正整数。")},
    )
    # Not an id (a word, "²") is no team, as the service takes None for no team.
    team = forms.CharField(label=_("志愿服务队"), required=False, widget=forms.Select)
    is_party_post = forms.BooleanField(label=_("党员认领岗位"), required=False)

    def __init__(
        self, *args: Any, units: Iterable[Unit] = (), teams: Iterable[Team] = (), **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", "a-%s")
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = _unit_choices(units)
        self.fields["team"].widget.choices = [("", "—"), *((t.pk, t.name) for t in teams)]


class TeamForm(ServiceForm):
    """Found a team (``team_create``)."""

    unit = forms.CharField(
        label=_("社区/村"), widget=forms.Select, error_messages={"required": _("请选择社区/村。")}
    )
    name = forms.CharField(label=_("名称"), max_length=60)

    def __init__(self, *args: Any, units: Iterable[Unit] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "t-%s")
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = _unit_choices(units)


def _star() -> forms.IntegerField:
    return forms.IntegerField(
        widget=forms.NumberInput(attrs={"min": 1}),
        error_messages={"invalid": _("星级时长须为整数小时。")},
    )


class StarsForm(ServiceForm):
    """A community's star thresholds (``star_thresholds_set``): the hours for one to five
    stars. The service judges the five together (``hours``), so its refusal stands beside
    the five inputs as a whole."""

    aliases = {"hours": None}

    unit = forms.CharField(
        label=_("社区/村"),
        widget=forms.HiddenInput,
        error_messages={"required": _("请选择社区/村。")},
    )
    star1 = _star()
    star2 = _star()
    star3 = _star()
    star4 = _star()
    star5 = _star()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "s-%s")
        super().__init__(*args, **kwargs)
        for n in range(1, 6):
            self.fields[f"star{n}"].label = gettext("%(n)s星") % {"n": n}

    def hours(self) -> list[int]:
        return [self.cleaned_data[f"star{n}"] for n in range(1, 6)]

    def star_fields(self) -> list[forms.BoundField]:
        return [self[f"star{n}"] for n in range(1, 6)]


class ConfirmForm(ServiceForm):
    """Confirm the minutes a volunteer served (``signup_confirm``); empty keeps those
    counted from check-in to check-out."""

    minutes = forms.IntegerField(
        label=_("确认时长（分钟）"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0}),
        error_messages={"invalid": _("服务时长须为整数分钟。")},
    )


class RejectForm(ServiceForm):
    """Reject the minutes, with the reason (``signup_reject``)."""

    note = forms.CharField(
        label=_("不予确认的原因"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("原因")}),
    )
