"""Choices of the canteen: meals, dish kinds, the groups a price rule is for, order states."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The default price of a set lunch or dinner for residents aged 60 and over, in fen.
ELDERLY_SET_MEAL_FEN = 1000
# How many discounted portions one person may buy for one meal, unless a canteen says.
DISCOUNTED_PER_MEAL = 1


class Meal(models.TextChoices):
    BREAKFAST = "breakfast", _("早餐")
    LUNCH = "lunch", _("午餐")
    DINNER = "dinner", _("晚餐")


class DishKind(models.TextChoices):
    SET_MEAL = "set_meal", _("套餐")
    A_LA_CARTE = "a_la_carte", _("单点")


class DinerGroup(models.TextChoices):
    """Who a price rule is for: an age computed from the registry's birth date on the
    meal date, or a registry tag (the tag's code is the value)."""

    AGE_60 = "age_60", _("60岁以上")
    AGE_80 = "age_80", _("80岁以上")
    DISABILITY = "disability", _("残疾人")
    LIVING_ALONE = "living_alone", _("独居")
    LOW_INCOME = "low_income", _("低收入")
    ALL = "all", _("所有就餐者")


# Minimum age of the age groups.
GROUP_AGE = {DinerGroup.AGE_60: 60, DinerGroup.AGE_80: 80}
# Groups that are a registry tag (people.Tag.code).
GROUP_TAG = {
    DinerGroup.DISABILITY: "disability",
    DinerGroup.LIVING_ALONE: "living_alone",
    DinerGroup.LOW_INCOME: "low_income",
}


class RuleTarget(models.TextChoices):
    SET_MEALS = "set_meals", _("所有套餐")
    DISH = "dish", _("指定菜品")


class OrderState(models.TextChoices):
    PAID = "paid", _("已付款")
    REFUNDED = "refunded", _("已退款")


class EventKind(models.TextChoices):
    CANTEEN_CREATED = "canteen_created", _("设立食堂")
    DISH_SAVED = "dish_saved", _("保存菜品")
    MENU_PUBLISHED = "menu_published", _("发布菜单")
    RULE_SET = "rule_set", _("设置价格规则")
    ORDER_PAID = "order_paid", _("就餐付款")
    ORDER_REFUNDED = "order_refunded", _("就餐退款")
