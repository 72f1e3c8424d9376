"""Forms of the site pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Datum, SiteLevel


class NearForm(forms.Form):
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)
    datum = forms.ChoiceField(choices=Datum.choices, required=False, widget=forms.HiddenInput)
    category = forms.CharField(label=_("服务类别"), required=False, max_length=40)
    level = forms.ChoiceField(
        label=_("层级"), choices=[("", _("全部")), *SiteLevel.choices], required=False
    )
    open_now = forms.BooleanField(label=_("只看此刻开放"), required=False)
    home = forms.BooleanField(required=False, widget=forms.HiddenInput)


class BookingForm(forms.Form):
    room = forms.IntegerField(widget=forms.HiddenInput)
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    starts = forms.TimeField(label=_("开始"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("结束"), widget=forms.TimeInput(attrs={"type": "time"}))
    purpose = forms.CharField(label=_("用途"), max_length=100)
    attendees = forms.IntegerField(label=_("人数"), min_value=1, max_value=10000, initial=1)


class AppointmentForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput)


class ProxyForm(forms.Form):
    category = forms.CharField(label=_("服务类别"), max_length=40)
    matter = forms.CharField(label=_("要代办的事项"), max_length=100)
    documents = forms.CharField(
        label=_("需要准备的材料（每行一项）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def document_list(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["documents"].splitlines() if line.strip()
        ]


class HoursForm(forms.Form):
    schedule = forms.CharField(
        label=_("每周开放时间"),
        help_text=_(
            "每行一段：星期（1–7，节假日填 8） 开门 关门 [延时]，如 “1 09:00 12:00” 或 “1 18:00 21:00 延时”。"
        ),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=4000,
    )


class ClosureForm(forms.Form):
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    opens = forms.TimeField(
        label=_("当日开门（闭馆则留空）"), required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )  # fmt: skip
    closes = forms.TimeField(
        label=_("当日关门"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    reason = forms.CharField(label=_("原因"), max_length=100)


class CalendarForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    file = forms.FileField(label=_("日历文件（CSV 或 JSON）"))


class NetworkForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    file = forms.FileField(label=_("路网文件（.pbf 或 .geojson）"))


class CircleForm(forms.Form):
    walking_speed_m_per_min = forms.FloatField(label=_("步行速度（米/分钟）"))
    detour_factor = forms.FloatField(label=_("绕行系数"))
    minutes = forms.IntegerField(label=_("分钟数"))


class SettlementForm(forms.Form):
    agreement = forms.IntegerField(widget=forms.HiddenInput)
    period_start = forms.DateField(
        label=_("期间开始"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("期间结束"), widget=forms.DateInput(attrs={"type": "date"})
    )
