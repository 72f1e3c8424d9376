"""Forms of the canteen console (the counter keeps its own page state). They carry what
was typed to the services, and back onto the page when a service refuses it.

A form checks only what its markup promises — a required field is filled, a text fits its
``maxlength``, a price is a number of yuan, a date is a date, a time is a time — each beside
its field. The service judges the rest; :meth:`ServiceForm.refuse` puts its refusal beside
the field it names, or in the summary above the form when it names none of the form's
fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from doorstep.core.forms import ServiceForm as BaseServiceForm
from doorstep.sites.models import Site

from .choices import DinerGroup, DishKind, Meal, RuleTarget
from .models import Dish, MenuItem, PriceRule
from .services import MAX_PORTIONS


class ServiceForm(BaseServiceForm):
    """Prices are typed in yuan, and the services speak of fen."""

    aliases: ClassVar[dict[str, str | None]] = {"price_fen": "price_yuan"}


def fen(yuan: Decimal | None) -> int | None:
    """A price typed in yuan (two decimals at most, the form has checked) in fen."""
    return None if yuan is None else int(yuan * 100)


def _yuan() -> forms.DecimalField:
    """A price in yuan: a number with at most two decimals; how much is the service's."""
    return forms.DecimalField(
        label=_("价格（元）"),
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


def _time(label: Any, *, aria: bool = False) -> forms.TimeField:
    attrs = {"type": "time", "aria-label": label} if aria else {"type": "time"}
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(attrs=attrs, format="%H:%M"),
        error_messages={"invalid": _("时间格式应为 HH:MM。")},
    )


def _date(label: Any, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("日期格式应为 YYYY-MM-DD。")},
        **kwargs,
    )


class CanteenForm(ServiceForm):
    """A new canteen at a site (``canteen_create``)."""

    site = forms.CharField(label=_("所在阵地"), widget=forms.Select)
    name = forms.CharField(label=_("名称"), max_length=60)
    lunch_from = _time(_("午餐"))
    lunch_until = _time(_("午餐结束"), aria=True)
    dinner_from = _time(_("晚餐"))
    dinner_until = _time(_("晚餐结束"), aria=True)

    def __init__(self, *args: Any, sites: Iterable[Site] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "c-%s")
        kwargs.setdefault(
            "initial",
            {"lunch_from": dt.time(11), "lunch_until": dt.time(13),
             "dinner_from": dt.time(17), "dinner_until": dt.time(19)},
        )  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["site"].widget.choices = [(s.pk, f"{s.unit.name}·{s.name}") for s in sites]


_ACTIVE = [("1", _("供应中")), ("0", _("已停售"))]
_RULE_ACTIVE = [("1", _("启用")), ("0", _("停用（结束该规则）"))]


class DishForm(ServiceForm):
    """Add a dish, or change one (``dish_save``)."""

    dish = forms.CharField(label=_("修改"), required=False, widget=forms.Select)
    name = forms.CharField(label=_("名称"), max_length=60)
    kind = forms.CharField(label=_("类型"), widget=forms.Select(choices=DishKind.choices))
    price_yuan = _yuan()
    is_active = forms.CharField(
        label=_("状态"), required=False, initial="1", widget=forms.Select(choices=_ACTIVE)
    )

    def __init__(self, *args: Any, dishes: Iterable[Dish] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "d-%s")
        super().__init__(*args, **kwargs)
        self.fields["dish"].widget.choices = [("", _("新菜品")), *((d.pk, d.name) for d in dishes)]


class RuleForm(ServiceForm):
    """A new price rule, or a new version of one (``price_rule_set``)."""

    supersedes = forms.CharField(label=_("修改规则"), required=False, widget=forms.Select)
    group = forms.CharField(label=_("适用人群"), widget=forms.Select(choices=DinerGroup.choices))
    target = forms.CharField(label=_("适用菜品"), widget=forms.Select(choices=RuleTarget.choices))
    dish = forms.CharField(label=_("菜品"), required=False, widget=forms.Select)
    meal = forms.CharField(
        label=_("餐次"),
        required=False,
        widget=forms.Select(choices=[("", _("全部")), *Meal.choices]),
    )
    price_yuan = _yuan()
    priority = forms.IntegerField(
        label=_("优先级"),
        required=False,
        initial=0,
        widget=forms.NumberInput(attrs={"min": -100, "max": 100}),
        error_messages={"invalid": _("请输入整数。")},
    )
    valid_from = _date(_("起始日期"))
    valid_until = _date(_("截止日期"))
    is_active = forms.CharField(
        label=_("状态"), required=False, initial="1", widget=forms.Select(choices=_RULE_ACTIVE)
    )

    def __init__(
        self,
        *args: Any,
        dishes: Iterable[Dish] = (),
        rules: Iterable[PriceRule] = (),
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "r-%s")
        kwargs.setdefault("initial", {"valid_from": today})
        super().__init__(*args, **kwargs)
        # Only the canteen's own rules are changed here; a unit's rule is the unit's.
        self.fields["supersedes"].widget.choices = [
            ("", _("新规则")),
            *((r.pk, f"#{r.pk} {r.label}") for r in rules if not r.unit_id),
        ]
        self.fields["dish"].widget.choices = [("", "—"), *((d.pk, d.name) for d in dishes)]


class MenuForm(ServiceForm):
    """One meal's menu (``menu_publish``): for each dish whether it is served and the
    portions prepared. The service reports a bad portion against the menu as a whole, so
    each portion is checked here too, to be told beside its dish."""

    def __init__(
        self,
        *args: Any,
        dishes: Iterable[Dish] = (),
        current: dict[int, MenuItem] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)
        current = current or {}
        self.dishes = list(dishes)
        for d in self.dishes:
            item = current.get(d.pk)
            self.fields[f"on_{d.pk}"] = forms.BooleanField(
                label=d.name, required=False, initial=item is not None
            )
            portions = gettext("%(dish)s的供应份数") % {"dish": d.name}
            self.fields[f"portions_{d.pk}"] = forms.IntegerField(
                label=portions,
                required=False,
                min_value=0,
                max_value=MAX_PORTIONS,
                initial=item.portions if item is not None else None,
                widget=forms.NumberInput(attrs={"aria-label": portions}),
                error_messages={"invalid": _("请输入整数。")},
            )

    def rows(self) -> list[tuple[Dish, forms.BoundField, forms.BoundField]]:
        return [(d, self[f"on_{d.pk}"], self[f"portions_{d.pk}"]) for d in self.dishes]

    def wanted(self) -> list[tuple[int, int | None]]:
        """The dishes ticked, with their portions (None: as many as asked)."""
        data = self.cleaned_data
        return [(d.pk, data[f"portions_{d.pk}"]) for d in self.dishes if data[f"on_{d.pk}"]]


class RefundForm(ServiceForm):
    """Refund a bill (``order_refund``)."""

    reason = forms.CharField(label=_("退款原因"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)
