"""The double-entry points ledger: accounts, the append-only journal of transfers,
earning rules, outlets with their goods, and redemptions.

Every movement of points is one :class:`Transfer` from a debit account to a credit
account, so the balances of all accounts always sum to zero. An account's ``balance``
is a cache of its journal, written only by ``services.transfer_*`` in the same
transaction as the transfer, and checked against the journal by ``manage.py
points_check`` (docs/adr/0009-points-ledger-double-entry.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.core.models import BaseModel
from doorstep.orgs.models import Unit
from doorstep.people.models import Person

from .choices import NON_NEGATIVE_KINDS, AccountKind, ActivityType, OutletKind, TransferKind


class AppendOnlyError(RuntimeError):
    pass


class Outlet(BaseModel):
    """A place where points are spent: a charity shop (爱心屋), a canteen or a fair-price
    grocery of a community. Its clerks hold the ``outlet_clerk`` role scoped to it."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("所属社区/村"), on_delete=models.PROTECT, related_name="outlets"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=OutletKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    address = models.CharField(_("地点"), max_length=120, blank=True)
    is_active = models.BooleanField(_("营业中"), default=True)

    class Meta:
        verbose_name = _("兑换点")
        verbose_name_plural = _("兑换点")
        ordering = ["unit__path", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                name="points_outlet_name_unique_in_unit",
                violation_error_message=_("该社区/村已有同名兑换点。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """A points account. Residents, outlets and the expiry account never go below zero;
    a community's issuing account is negative by the points it has put in circulation."""

    kind = models.CharField(_("类型"), max_length=12, choices=AccountKind.choices)
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属社区/村"), on_delete=models.PROTECT, related_name="point_accounts"
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("居民"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="point_accounts",
    )
    outlet = models.ForeignKey(
        Outlet,
        verbose_name=_("兑换点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    balance = models.BigIntegerField(_("余额"), default=0, editable=False)
    # What the resident's QR code holds; the clerk scans it at the counter.
    qr_token = models.CharField(
        _("积分码"), max_length=32, null=True, blank=True, unique=True, editable=False
    )
    created_at = models.DateTimeField(_("开户时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0) | ~Q(kind__in=NON_NEGATIVE_KINDS),
                name="points_account_balance_not_negative",
                violation_error_message=_("积分余额不能为负。"),
            ),
            models.CheckConstraint(
                condition=(Q(kind=AccountKind.RESIDENT) & Q(person__isnull=False))
                | (~Q(kind=AccountKind.RESIDENT) & Q(person__isnull=True)),
                name="points_account_person_iff_resident",
                violation_error_message=_("只有居民账户关联居民。"),
            ),
            models.CheckConstraint(
                condition=(Q(kind=AccountKind.OUTLET) & Q(outlet__isnull=False))
                | (~Q(kind=AccountKind.OUTLET) & Q(outlet__isnull=True)),
                name="points_account_outlet_iff_outlet",
                violation_error_message=_("只有兑换点账户关联兑换点。"),
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(kind=AccountKind.RESIDENT),
                name="points_account_one_per_resident",
                violation_error_message=_("该居民已有积分账户。"),
            ),
            models.UniqueConstraint(
                fields=["outlet"],
                condition=Q(kind=AccountKind.OUTLET),
                name="points_account_one_per_outlet",
                violation_error_message=_("该兑换点已有积分账户。"),
            ),
            models.UniqueConstraint(
                fields=["unit", "kind"],
                condition=Q(kind__in=[AccountKind.ISSUING, AccountKind.EXPIRY]),
                name="points_account_one_issuing_expiry_per_unit",
                violation_error_message=_("该社区/村已有此类账户。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Transfer(models.Model):
    """One movement of points from ``debit`` to ``credit``. Append-only: a mistake is
    corrected by a reversing transfer (``reverses``), never by editing or deleting."""

    # No single-column indexes on debit, credit and unit: the composite indexes in Meta
    # lead with them and serve every lookup, and each index is one more entry written
    # by every transfer (a redemption's hot path).
    debit = models.ForeignKey(
        Account,
        verbose_name=_("转出账户"),
        on_delete=models.PROTECT,
        related_name="debits",
        db_index=False,
    )
    credit = models.ForeignKey(
        Account,
        verbose_name=_("转入账户"),
        on_delete=models.PROTECT,
        related_name="credits",
        db_index=False,
    )
    amount = models.BigIntegerField(_("积分"))
    kind = models.CharField(_("类型"), max_length=10, choices=TransferKind.choices)
    reason = models.CharField(_("事由"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # The community whose books the transfer belongs to (reports and scope).
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所属社区/村"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=100, unique=True)
    body_hash = models.CharField(_("请求摘要"), max_length=64)
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("冲正的转账"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    # For earned points: what was done, when, and the confirmed record that paid it.
    activity_type = models.CharField(
        _("活动类型"), max_length=20, choices=ActivityType.choices, blank=True
    )
    occurred_on = models.DateField(_("参与日期"), null=True, blank=True)
    source_type = models.CharField(_("来源类型"), max_length=40, blank=True)
    source_id = models.CharField(_("来源编号"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("积分转账")
        verbose_name_plural = _("积分转账")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="points_transfer_amount_positive",
                violation_error_message=_("积分数必须为正整数。"),
            ),
            models.CheckConstraint(
                condition=~Q(debit=models.F("credit")),
                name="points_transfer_two_accounts",
                violation_error_message=_("转出与转入账户不能相同。"),
            ),
            models.UniqueConstraint(
                fields=["source_type", "source_id"],
                condition=Q(kind=TransferKind.EARN),
                name="points_transfer_one_earning_per_source",
                violation_error_message=_("该参与记录已发放过积分。"),
            ),
        ]
        indexes = [
            models.Index(fields=["debit", "id"], name="points_transfer_debit_id"),
            models.Index(fields=["credit", "id"], name="points_transfer_credit_id"),
            models.Index(
                fields=["credit", "activity_type", "occurred_on"], name="points_transfer_caps"
            ),
            models.Index(fields=["unit", "created_at"], name="points_transfer_unit_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("transfers are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("transfers are append-only")


class EarningRule(BaseModel):
    """How a community turns one confirmed participation of a type into points: a
    fixed number per time plus a number per hour, within daily and monthly caps. A
    community without its own rule uses the nearest rule above it (street, district …)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("适用单元"), on_delete=models.PROTECT, related_name="earning_rules"
    )
    activity_type = models.CharField(_("活动类型"), max_length=20, choices=ActivityType.choices)
    points_per_time = models.PositiveIntegerField(_("每次积分"), default=0)
    points_per_hour = models.PositiveIntegerField(_("每小时积分"), default=0)
    daily_cap = models.PositiveIntegerField(_("每日上限"), null=True, blank=True)
    monthly_cap = models.PositiveIntegerField(_("每月上限"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")
        ordering = ["unit__path", "activity_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "activity_type"],
                name="points_rule_one_per_type_and_unit",
                violation_error_message=_("该单元已有此活动类型的积分规则。"),
            ),
            models.CheckConstraint(
                condition=Q(points_per_time__gt=0) | Q(points_per_hour__gt=0),
                name="points_rule_earns_something",
                violation_error_message=_("每次积分与每小时积分不能都为零。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit.name}·{self.get_activity_type_display()}"


class Goods(BaseModel):
    """An item an outlet offers for points, with what it is worth in yuan (in fen)."""

    outlet = models.ForeignKey(
        Outlet, verbose_name=_("兑换点"), on_delete=models.PROTECT, related_name="goods"
    )
    name = models.CharField(_("名称"), max_length=60)
    points_price = models.PositiveIntegerField(_("所需积分"))
    value_fen = models.PositiveIntegerField(_("价值（分）"), default=0)
    stock = models.IntegerField(_("库存"), default=0)
    is_active = models.BooleanField(_("上架"), default=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["outlet", "points_price", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "name"],
                name="points_goods_name_unique_in_outlet",
                violation_error_message=_("该兑换点已有同名商品。"),
            ),
            models.CheckConstraint(
                condition=Q(stock__gte=0),
                name="points_goods_stock_not_negative",
                violation_error_message=_("库存不能为负。"),
            ),
            models.CheckConstraint(
                condition=Q(points_price__gt=0),
                name="points_goods_price_positive",
                violation_error_message=_("所需积分必须为正整数。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    """Goods taken at an outlet for points: the receipt. The points moved in
    ``transfer``; the stock went down in the same transaction. Append-only; a
    redemption is undone by :func:`services.redemption_reverse`."""

    outlet = models.ForeignKey(
        Outlet,
        verbose_name=_("兑换点"),
        on_delete=models.PROTECT,
        related_name="redemptions",
        db_index=False,  # points_redemption_outlet_time leads with it
    )
    account = models.ForeignKey(
        Account, verbose_name=_("居民账户"), on_delete=models.PROTECT, related_name="redemptions"
    )
    transfer = models.OneToOneField(
        Transfer, verbose_name=_("转账"), on_delete=models.PROTECT, related_name="redemption"
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    points = models.BigIntegerField(_("积分"))
    value_fen = models.BigIntegerField(_("价值（分）"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("积分兑换")
        verbose_name_plural = _("积分兑换")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["outlet", "created_at"], name="points_redemption_outlet_time")
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("redemptions are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("redemptions are append-only")

    @property
    def number(self) -> str:
        return f"R{self.pk:08d}"


class RedemptionLine(models.Model):
    """One kind of goods on a receipt, at the price and value of the day."""

    redemption = models.ForeignKey(
        Redemption, verbose_name=_("兑换"), on_delete=models.PROTECT, related_name="lines"
    )
    goods = models.ForeignKey(
        Goods, verbose_name=_("商品"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=60)
    quantity = models.PositiveIntegerField(_("数量"))
    points_price = models.PositiveIntegerField(_("所需积分"))
    value_fen = models.PositiveIntegerField(_("价值（分）"))

    class Meta:
        verbose_name = _("兑换明细")
        verbose_name_plural = _("兑换明细")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="points_line_quantity_positive",
                violation_error_message=_("数量必须为正整数。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"
