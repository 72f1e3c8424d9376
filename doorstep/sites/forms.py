"""Forms of the site pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doorstep.core.inputs import MAX_KEY
from doorstep.orgs.models import PartyOrg, Unit
from doorstep.orgs.selectors import unit_trails

from .choices import (
    Datum,
    ManagerKind,
    PartnerKind,
    Pricing,
    ProgramKind,
    RequestMode,
    SiteLevel,
    StationSetting,
)
from .models import Amenity, Partner, Program, ServiceCategory, Site, StationType


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
    # Chosen when the page is shown: tapping twice, or sending again after a timeout,
    # is the same appointment (request_submit's idempotency key).
    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class EnrolForm(forms.Form):
    """A resident enrols themselves or a household member in a program (site page)."""

    program = forms.IntegerField(min_value=1, max_value=MAX_KEY, widget=forms.HiddenInput)
    person = forms.IntegerField(label=_("报名人"), min_value=1, max_value=MAX_KEY)


class ProxyForm(forms.Form):
    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    category = forms.CharField(label=_("服务类别"), max_length=40)
    matter = forms.CharField(label=_("要代办的事项"), max_length=100)
    documents = forms.CharField(
        label=_("需要准备的材料（每行一项）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def document_list(self) -> list[str]:
        return document_lines(self.cleaned_data["documents"])


def document_lines(text: str) -> list[str]:
    """A checklist typed one document a line, blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class DeskForm(forms.Form):
    """A matter a resident brings to the site's desk, registered by its staff: handled
    on receipt (done at once, one service record) or taken for proxy handling with a
    checklist of documents."""

    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    person = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_KEY, widget=forms.HiddenInput
    )
    mode = forms.ChoiceField(
        label=_("办理方式"),
        choices=[(m.value, m.label) for m in (RequestMode.ON_RECEIPT, RequestMode.PROXY)],
        initial=RequestMode.ON_RECEIPT,
        widget=forms.RadioSelect,
    )
    category = forms.ChoiceField(label=_("服务类别"))
    matter = forms.CharField(label=_("事项"), max_length=100)
    documents = forms.CharField(
        label=_("代办所需材料（每行一项）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    note = forms.CharField(
        label=_("备注"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, categories: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.label) for c in categories]  # type: ignore[attr-defined]

    def document_list(self) -> list[str]:
        return document_lines(self.cleaned_data["documents"])


class VoidForm(forms.Form):
    """Why a matter registered by mistake is taken back (written to its events)."""

    reason = forms.CharField(label=_("撤销原因"), max_length=200)


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


# --- Console forms: the network and its use -----------------------------------------------


def _vocabulary(model: Any) -> list[tuple[str, str]]:
    return [(row.code, row.label) for row in model.objects.filter(is_active=True)]


FILTER_HINT = _("输入名称筛选")


def _place_choices(field: Any, units: Any) -> None:
    """A unit field whose options read ``街道 / 社区 / 小区`` in tree order (a city has
    many a 1号小区), with a filter box above it once the list is long (select-filter.js)."""
    field.queryset = units.order_by("path")
    trails = unit_trails(field.queryset)
    field.label_from_instance = lambda unit: trails.get(unit.pk, unit.name)
    field.widget.attrs["data-filter"] = FILTER_HINT


def _site_choices(field: Any, sites: Any) -> None:
    """Parent sites named with the place they serve."""
    field.queryset = sites.select_related("unit")
    trails = unit_trails([s.unit for s in field.queryset], levels=2)
    field.label_from_instance = lambda site: f"{site.name} · {trails.get(site.unit_id, '')}"
    field.widget.attrs["data-filter"] = FILTER_HINT


class SiteForm(forms.Form):
    """A site's facts. Units, parent sites and party organizations are limited to the
    staff's scope by the view; the location may come in any of the three datums."""

    name = forms.CharField(label=_("名称"), max_length=100)
    level = forms.ChoiceField(label=_("层级"), choices=SiteLevel.choices)
    setting = forms.ChoiceField(label=_("所在场景"), choices=StationSetting.choices, required=False)
    unit = forms.ModelChoiceField(label=_("所属单元"), queryset=Unit.objects.none())
    parent = forms.ModelChoiceField(
        label=_("上级阵地"), queryset=Site.objects.none(), required=False
    )
    lat = forms.FloatField(label=_("纬度"))
    lng = forms.FloatField(label=_("经度"))
    datum = forms.ChoiceField(
        label=_("坐标来源"), choices=Datum.choices, initial=Datum.WGS84,
        help_text=_("从高德、腾讯地图取的坐标选 GCJ-02，从百度地图取的选 BD-09，系统会换算。"),
    )  # fmt: skip
    address = forms.CharField(label=_("地址"), max_length=200)
    phone = forms.CharField(label=_("服务电话"), max_length=30, required=False)
    manager_kind = forms.ChoiceField(label=_("管理主体类型"), choices=ManagerKind.choices)
    manager_name = forms.CharField(label=_("管理主体"), max_length=100)
    party_org = forms.ModelChoiceField(
        label=_("功能型党组织"), queryset=PartyOrg.objects.none(), required=False
    )
    categories = forms.MultipleChoiceField(
        label=_("服务类别"), required=False, widget=forms.CheckboxSelectMultiple
    )
    station_types = forms.MultipleChoiceField(
        label=_("站点类型"), required=False, widget=forms.CheckboxSelectMultiple
    )
    amenities = forms.MultipleChoiceField(
        label=_("便民设施"), required=False, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        label=_("简介"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, units: Any, parents: Any, party_orgs: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        _place_choices(fields["unit"], units)
        _site_choices(fields["parent"], parents)
        fields["party_org"].queryset = party_orgs
        fields["categories"].choices = _vocabulary(ServiceCategory)
        fields["station_types"].choices = _vocabulary(StationType)
        fields["amenities"].choices = _vocabulary(Amenity)


class SiteEditForm(SiteForm):
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class RoomForm(forms.Form):
    room = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("功能室名称"), max_length=50)
    capacity = forms.IntegerField(label=_("容纳人数"), min_value=1, max_value=10000)
    functions = forms.MultipleChoiceField(
        label=_("功能"), required=False, widget=forms.CheckboxSelectMultiple
    )
    bookable_by_residents = forms.BooleanField(label=_("居民可预订"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["functions"].choices = _vocabulary(ServiceCategory)  # type: ignore[attr-defined]


class SlotForm(forms.Form):
    category = forms.ChoiceField(label=_("服务类别"))
    service = forms.CharField(label=_("事项"), max_length=100)
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    starts = forms.TimeField(label=_("开始"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("结束"), widget=forms.TimeInput(attrs={"type": "time"}))
    capacity = forms.IntegerField(label=_("名额"), min_value=1, max_value=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _vocabulary(ServiceCategory)  # type: ignore[attr-defined]


class ProgramForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=ProgramKind.choices)
    name = forms.CharField(label=_("项目名称"), max_length=100)
    category = forms.ChoiceField(label=_("服务类别"))
    capacity = forms.IntegerField(label=_("名额"), min_value=1, max_value=10000)
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    partner = forms.ModelChoiceField(
        label=_("承办合伙人"), queryset=Partner.objects.none(), required=False
    )
    open_to_residents = forms.BooleanField(
        label=_("居民可在线报名"),
        required=False,
        help_text=_("需要先评估的项目（如日间照料）不要勾选，由工作人员在阵地报名。"),
    )

    def __init__(self, *args: Any, partners: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["category"].choices = _vocabulary(ServiceCategory)
        if partners is not None:
            fields["partner"].queryset = partners


class ProgramEditForm(ProgramForm):
    """The program form filled in with a program's facts, for editing it. What the
    program has now stays a choice even if no new program could take it (a partner
    stopped or out of the staff's scope since, a retired category), so that saving other
    changes does not force a new one."""

    def __init__(self, *args: Any, program: Program, partners: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {
            "kind": program.kind, "name": program.name, "category": program.category.code,
            "capacity": program.capacity, "starts_on": program.starts_on,
            "ends_on": program.ends_on, "partner": program.partner_id,
            "open_to_residents": program.open_to_residents,
        })  # fmt: skip
        if program.partner_id is not None:
            partners = Partner.objects.filter(
                Q(pk__in=partners.values("pk")) | Q(pk=program.partner_id)
            )
        super().__init__(*args, partners=partners, **kwargs)
        fields: Any = self.fields
        if program.category.code not in dict(fields["category"].choices):
            fields["category"].choices = [
                *fields["category"].choices,
                (program.category.code, program.category.label),
            ]


class PartnerForm(forms.Form):
    name = forms.CharField(label=_("合伙人名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=PartnerKind.choices)
    unit = forms.ModelChoiceField(label=_("所在社区"), queryset=Unit.objects.none())
    contact = forms.CharField(label=_("联系方式（单位）"), max_length=100, required=False)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _place_choices(self.fields["unit"], units)


class PartnerEditForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("合伙人"), queryset=Partner.objects.none())
    name = forms.CharField(label=_("合伙人名称"), max_length=100)
    contact = forms.CharField(label=_("联系方式（单位）"), max_length=100, required=False)
    is_active = forms.BooleanField(label=_("合作中"), required=False)

    def __init__(self, *args: Any, partners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]


class PartnerServiceForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("合伙人"), queryset=Partner.objects.none())
    site = forms.ModelChoiceField(label=_("阵地"), queryset=Site.objects.none())
    category = forms.ChoiceField(label=_("服务类别"))
    name = forms.CharField(label=_("服务名称"), max_length=100)
    pricing = forms.ChoiceField(label=_("收费方式"), choices=Pricing.choices)
    price_yuan = forms.DecimalField(
        label=_("单价（元）"), required=False, min_value=0, max_digits=9, decimal_places=2
    )

    def __init__(self, *args: Any, partners: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["partner"].queryset = partners
        fields["site"].queryset = sites
        fields["category"].choices = _vocabulary(ServiceCategory)


class AgreementForm(forms.Form):
    partner = forms.ModelChoiceField(label=_("合伙人"), queryset=Partner.objects.none())
    site = forms.ModelChoiceField(label=_("阵地"), queryset=Site.objects.none())
    partner_share_percent = forms.DecimalField(
        label=_("合伙人分成（%）"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    valid_from = forms.DateField(
        label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    terms = forms.CharField(
        label=_("条款"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, partners: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["partner"].queryset = partners
        fields["site"].queryset = sites


class ReportForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(
        label=_("分组"),
        choices=[("site", _("按阵地")), ("category", _("按服务类别")), ("level", _("按层级")),
                 ("month", _("按月"))],
    )  # fmt: skip
    level = forms.ChoiceField(
        label=_("层级"), choices=[("", _("全部")), *SiteLevel.choices], required=False
    )
    category = forms.ChoiceField(label=_("服务类别"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("全部")), *_vocabulary(ServiceCategory)]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("结束日期不能早于开始日期。"))
            elif (end - start).days > 3660:
                self.add_error("end", _("统计期间最长十年。"))
        return data
