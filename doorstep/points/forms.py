"""Forms of the points console (the counter keeps its own page state). They carry what
was typed to the services, and back onto the page when a service refuses it.

A form checks only what its markup promises — a required field is filled, a text fits its
``maxlength``, a number is a whole number — each beside its field. The service judges the
rest (zero, negative, too large, a duplicate name, a balance too low);
:meth:`ServiceForm.refuse` puts its refusal beside the field it names, or in the summary
above the form when it names none of the form's fields. A value in yuan is turned into fen
by the view, which refuses one that is no amount of yuan beside its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from doorstep.core.forms import ServiceForm
from doorstep.orgs.models import Unit

from .choices import ActivityType, OutletKind


def _unit(label: Any) -> forms.CharField:
    # Not an id ("²") is refused by the view with the same message as none chosen.
    return forms.CharField(
        label=label, widget=forms.Select, error_messages={"required": _("请选择社区/村。")}
    )


def _whole(
    label: Any, *, required: bool = False, low: int = 0, **kwargs: Any
) -> forms.IntegerField:
    """A whole number (``low`` is what the markup suggests); whether it may be zero, and
    how large, is the service's to say."""
    return forms.IntegerField(
        label=label,
        required=required,
        widget=forms.NumberInput(attrs={"min": low}),
        error_messages={"invalid": _("请输入正整数。") if low > 0 else _("请输入整数。")},
        **kwargs,
    )


class OutletForm(ServiceForm):
    """A new outlet of a community (``outlet_create``)."""

    unit = _unit(_("社区/村"))
    kind = forms.CharField(label=_("类型"), widget=forms.Select(choices=OutletKind.choices))
    name = forms.CharField(label=_("名称"), max_length=60)
    address = forms.CharField(label=_("地点"), max_length=120, required=False)

    def __init__(self, *args: Any, units: Iterable[Unit] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "o-%s")
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [(u.pk, u.name) for u in units]


class RuleForm(ServiceForm):
    """The earning rule of one activity type in a unit (``earning_rule_set``)."""

    unit = _unit(_("适用单元"))
    activity_type = forms.CharField(
        label=_("活动类型"), widget=forms.Select(choices=ActivityType.choices)
    )
    points_per_time = _whole(_("每次积分"), initial=0)
    points_per_hour = _whole(_("每小时积分"), initial=0)
    daily_cap = _whole(_("每日上限"), low=1)
    monthly_cap = _whole(_("每月上限"), low=1)

    def __init__(self, *args: Any, units: Iterable[Unit] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "r-%s")
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [(u.pk, u.name) for u in units]


class GoodsForm(ServiceForm):
    """Add goods to an outlet (``goods_save``). The value is typed in yuan and the
    service speaks of fen."""

    aliases = {"value_fen": "value_yuan"}

    name = forms.CharField(label=_("名称"), max_length=60)
    points_price = _whole(_("所需积分"), required=True, low=1)
    value_yuan = forms.CharField(
        label=_("价值（元）"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    stock = _whole(_("库存"), initial=0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "g-%s")
        super().__init__(*args, **kwargs)


class RestockForm(ServiceForm):
    """Goods delivered to an outlet (``goods_restock``): one form in each goods' row."""

    goods = forms.CharField(widget=forms.HiddenInput)
    quantity = _whole(_("入库数量"), required=True, low=1)


class GrantForm(ServiceForm):
    """A manual grant to a resident (``points_grant``). The idempotency key is not the
    form's: each page shown gets a fresh one, so a refused grant sent again is a new
    request."""

    amount = _whole(_("积分"), required=True, low=1)
    reason = forms.CharField(label=_("事由"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)


class ReverseForm(ServiceForm):
    """Reverse a redemption, with the reason (``redemption_reverse``)."""

    reason = forms.CharField(label=_("撤销原因"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)
