"""The canteen (幸福食堂): canteens at service sites, their dishes and daily menus, price
rules by diner group, and meal orders paid in cash, points or both.

A canteen is a points outlet of kind ``canteen``: points paid for a meal move from the
resident's account to the outlet's through the ledger (``points.services``), so the
books stay balanced. An order line keeps the price and the rule applied on the day, so
a later change of rules never rewrites what a diner paid
(docs/adr/0013-canteen-pricing-and-payment.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.core.models import BaseModel
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.points.models import Account, Outlet, Transfer
from doorstep.sites.models import Site

from .choices import (
    DISCOUNTED_PER_MEAL,
    DinerGroup,
    DishKind,
    EventKind,
    Meal,
    OrderState,
    RuleTarget,
)


class AppendOnlyError(RuntimeError):
    pass


class Canteen(BaseModel):
    """A community canteen at a service site, billed through its points outlet. Its
    clerks are the outlet's clerks (role ``outlet_clerk`` scoped to ``outlet``)."""

    site = models.ForeignKey(
        Site, verbose_name=_("所在阵地"), on_delete=models.PROTECT, related_name="canteens"
    )
    outlet = models.OneToOneField(
        Outlet, verbose_name=_("兑换点"), on_delete=models.PROTECT, related_name="canteen"
    )
    # The community or village whose books the canteen keeps (the outlet's unit).
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属社区/村"), on_delete=models.PROTECT, related_name="canteens"
    )
    name = models.CharField(_("名称"), max_length=60)
    breakfast_from = models.TimeField(_("早餐开始"), null=True, blank=True)
    breakfast_until = models.TimeField(_("早餐结束"), null=True, blank=True)
    lunch_from = models.TimeField(_("午餐开始"))
    lunch_until = models.TimeField(_("午餐结束"))
    dinner_from = models.TimeField(_("晚餐开始"))
    dinner_until = models.TimeField(_("晚餐结束"))
    discounted_per_meal = models.PositiveSmallIntegerField(
        _("每人每餐优惠份数"), default=DISCOUNTED_PER_MEAL
    )
    # What one point pays, in fen (one point is worth one yuan by default).
    fen_per_point = models.PositiveIntegerField(_("每积分抵扣（分）"), default=100)
    is_active = models.BooleanField(_("营业中"), default=True)

    class Meta:
        verbose_name = _("幸福食堂")
        verbose_name_plural = _("幸福食堂")
        ordering = ["unit__path", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lunch_from__lt=F("lunch_until")) & Q(dinner_from__lt=F("dinner_until")),
                name="canteen_meal_windows_ordered",
                violation_error_message=_("用餐时段的开始时间须早于结束时间。"),
            ),
            models.CheckConstraint(
                condition=Q(fen_per_point__gt=0),
                name="canteen_fen_per_point_positive",
                violation_error_message=_("积分抵扣金额必须为正。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def window(self, meal: str) -> tuple[Any, Any]:
        return getattr(self, f"{meal}_from"), getattr(self, f"{meal}_until")


class Dish(BaseModel):
    """A set meal or an à-la-carte dish at its list price (what a diner without a rule
    pays)."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.PROTECT, related_name="dishes"
    )
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类型"), max_length=12, choices=DishKind.choices)
    price_fen = models.PositiveIntegerField(_("价格（分）"))
    is_active = models.BooleanField(_("供应中"), default=True)

    class Meta:
        verbose_name = _("菜品")
        verbose_name_plural = _("菜品")
        ordering = ["canteen", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "name"],
                name="canteen_dish_name_unique",
                violation_error_message=_("该食堂已有同名菜品。"),
            ),
            models.CheckConstraint(
                condition=Q(price_fen__gt=0),
                name="canteen_dish_price_positive",
                violation_error_message=_("价格必须为正。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Menu(BaseModel):
    """What a canteen serves at one meal of one day."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.PROTECT, related_name="menus"
    )
    date = models.DateField(_("日期"))
    meal = models.CharField(_("餐次"), max_length=10, choices=Meal.choices)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("菜单")
        verbose_name_plural = _("菜单")
        ordering = ["canteen", "-date", "meal"]
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "date", "meal"],
                name="canteen_menu_one_per_meal",
                violation_error_message=_("该餐次已有菜单。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.canteen.name} {self.date} {self.get_meal_display()}"


class MenuItem(models.Model):
    """A dish on a menu with the portions prepared (None: as many as asked) and sold."""

    menu = models.ForeignKey(
        Menu, verbose_name=_("菜单"), on_delete=models.PROTECT, related_name="items"
    )
    dish = models.ForeignKey(
        Dish, verbose_name=_("菜品"), on_delete=models.PROTECT, related_name="menu_items"
    )
    portions = models.PositiveIntegerField(_("供应份数"), null=True, blank=True)
    sold = models.PositiveIntegerField(_("已售份数"), default=0, editable=False)

    class Meta:
        verbose_name = _("菜单菜品")
        verbose_name_plural = _("菜单菜品")
        ordering = ["menu", "dish__kind", "dish__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["menu", "dish"],
                name="canteen_menu_item_once",
                violation_error_message=_("菜单中已有该菜品。"),
            ),
            models.CheckConstraint(
                condition=Q(portions__isnull=True) | Q(sold__lte=F("portions")),
                name="canteen_menu_item_not_oversold",
                violation_error_message=_("已售份数不能超过供应份数。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dish.name}"

    @property
    def left(self) -> int | None:
        return None if self.portions is None else self.portions - self.sold


class PriceRule(models.Model):
    """What a group of diners pays for the set meals or one dish of a canteen (or of
    every canteen under a unit), from a date, until a date.

    Rows are never edited: a change is a new version that ``supersedes`` the old one,
    and ending a rule is a version with ``is_active`` False. The rules in force are the
    active versions nobody superseded."""

    canteen = models.ForeignKey(
        Canteen,
        verbose_name=_("食堂"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="price_rules",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("适用单元"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="canteen_price_rules",
    )
    group = models.CharField(_("适用人群"), max_length=16, choices=DinerGroup.choices)
    target = models.CharField(_("适用菜品"), max_length=12, choices=RuleTarget.choices)
    dish = models.ForeignKey(
        Dish,
        verbose_name=_("菜品"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="price_rules",
    )
    meal = models.CharField(_("餐次"), max_length=10, choices=Meal.choices, blank=True)
    price_fen = models.PositiveIntegerField(_("价格（分）"))
    priority = models.SmallIntegerField(_("优先级"), default=0)
    valid_from = models.DateField(_("起始日期"))
    valid_until = models.DateField(_("截止日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("替代的规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("设置人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("设置时间"), default=timezone.now)

    class Meta:
        verbose_name = _("价格规则")
        verbose_name_plural = _("价格规则")
        ordering = ["-priority", "price_fen", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(canteen__isnull=False) & Q(unit__isnull=True))
                | (Q(canteen__isnull=True) & Q(unit__isnull=False)),
                name="canteen_rule_canteen_xor_unit",
                violation_error_message=_("价格规则须属于一个食堂或一个单元。"),
            ),
            models.CheckConstraint(
                condition=(Q(target=RuleTarget.DISH) & Q(dish__isnull=False))
                | (~Q(target=RuleTarget.DISH) & Q(dish__isnull=True)),
                name="canteen_rule_dish_iff_dish_target",
                violation_error_message=_("指定菜品的规则须选择菜品。"),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="canteen_rule_dates_ordered",
                violation_error_message=_("截止日期不能早于起始日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("price rules are versioned, never edited")
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        """What the counter shows, e.g. ``60岁以上 ¥10``."""
        return f"{DinerGroup(self.group).label} ¥{self.price_fen / 100:g}"


class MealOrder(models.Model):
    """A diner's bill for one meal: lines at the prices of the day, paid in cash, in
    points (``transfer``) or both. A registry person is optional (a walk-in pays list
    prices). Refunded by :func:`services.order_refund`, never deleted."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.PROTECT, related_name="orders"
    )
    date = models.DateField(_("就餐日期"))
    meal = models.CharField(_("餐次"), max_length=10, choices=Meal.choices)
    person = models.ForeignKey(
        Person,
        verbose_name=_("就餐者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meal_orders",
    )
    total_fen = models.PositiveIntegerField(_("应付（分）"))
    cash_fen = models.PositiveIntegerField(_("现金（分）"))
    points = models.PositiveIntegerField(_("积分"), default=0)
    points_fen = models.PositiveIntegerField(_("积分抵扣（分）"), default=0)
    account = models.ForeignKey(
        Account,
        verbose_name=_("积分账户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meal_orders",
    )
    transfer = models.OneToOneField(
        Transfer,
        verbose_name=_("积分转账"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meal_order",
    )
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=OrderState.choices, default=OrderState.PAID
    )
    refund_transfer = models.OneToOneField(
        Transfer,
        verbose_name=_("退款冲正"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meal_refund",
    )
    cash_refunded_fen = models.PositiveIntegerField(_("退还现金（分）"), default=0)
    idempotency_key = models.CharField(_("幂等键"), max_length=100, unique=True)
    body_hash = models.CharField(_("请求摘要"), max_length=64)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("就餐订单")
        verbose_name_plural = _("就餐订单")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_fen=F("cash_fen") + F("points_fen")),
                name="canteen_order_paid_in_full",
                violation_error_message=_("现金与积分抵扣之和须等于应付金额。"),
            ),
            models.CheckConstraint(
                condition=Q(points=0) | Q(transfer__isnull=False),
                name="canteen_order_points_have_transfer",
                violation_error_message=_("积分付款须有积分转账。"),
            ),
        ]
        indexes = [
            models.Index(fields=["canteen", "date", "meal"], name="canteen_order_day_meal"),
            models.Index(fields=["person", "date", "meal"], name="canteen_order_person_meal"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"M{self.pk:08d}"


class MealOrderLine(models.Model):
    """One dish on a bill: list price, the price applied and the rule that set it, as
    they were when the bill was paid."""

    order = models.ForeignKey(
        MealOrder, verbose_name=_("订单"), on_delete=models.PROTECT, related_name="lines"
    )
    dish = models.ForeignKey(
        Dish, verbose_name=_("菜品"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=60)
    quantity = models.PositiveIntegerField(_("数量"))
    list_price_fen = models.PositiveIntegerField(_("原价（分）"))
    unit_price_fen = models.PositiveIntegerField(_("单价（分）"))
    rule = models.ForeignKey(
        PriceRule,
        verbose_name=_("适用规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rule_label = models.CharField(_("规则说明"), max_length=60, blank=True)
    total_fen = models.PositiveIntegerField(_("小计（分）"))

    class Meta:
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="canteen_line_quantity_positive",
                violation_error_message=_("数量必须为正整数。"),
            ),
            models.CheckConstraint(
                condition=Q(total_fen=F("quantity") * F("unit_price_fen")),
                name="canteen_line_total",
                violation_error_message=_("小计须等于数量乘单价。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"

    @property
    def shown_rule_label(self) -> str:
        """The rule as a page shows it, in the reader's language. ``rule_label`` keeps
        the words of the day it was billed (in Chinese); a rule is never edited, only
        superseded, so its group and price still say the same."""
        if self.rule_id is not None and "rule" in self._state.fields_cache:
            return self.rule.label if self.rule is not None else self.rule_label
        return self.rule_label


class MealDiscount(models.Model):
    """One discounted portion a person took at a meal: the database keeps the number of
    discounted portions per person and meal within the canteen's limit (one slot per
    portion, unique while not released by a refund)."""

    line = models.ForeignKey(
        MealOrderLine, verbose_name=_("订单明细"), on_delete=models.PROTECT, related_name="+"
    )
    canteen = models.ForeignKey(Canteen, verbose_name=_("食堂"), on_delete=models.PROTECT)
    person = models.ForeignKey(Person, verbose_name=_("就餐者"), on_delete=models.PROTECT)
    date = models.DateField(_("就餐日期"))
    meal = models.CharField(_("餐次"), max_length=10, choices=Meal.choices)
    slot = models.PositiveSmallIntegerField(_("序号"))
    released = models.BooleanField(_("已退还"), default=False)

    class Meta:
        verbose_name = _("优惠份额")
        verbose_name_plural = _("优惠份额")
        constraints = [
            models.UniqueConstraint(
                fields=["canteen", "person", "date", "meal", "slot"],
                condition=Q(released=False),
                name="canteen_discount_slot_once",
                violation_error_message=_("该就餐者本餐的优惠份数已用完。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.date} {self.meal} #{self.slot}"


class CanteenEvent(models.Model):
    """Append-only history of a canteen: who created it, saved a dish, published a menu,
    set a price rule, billed or refunded an order, and when."""

    canteen = models.ForeignKey(
        Canteen, verbose_name=_("食堂"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=20, choices=EventKind.choices)
    order = models.ForeignKey(
        MealOrder,
        verbose_name=_("订单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("食堂事件")
        verbose_name_plural = _("食堂事件")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("events are append-only")
