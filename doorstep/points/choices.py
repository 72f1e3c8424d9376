"""Choices of the points ledger."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    # A community's issuing account: every earned or granted point leaves it, so its
    # balance is minus the points in circulation. The only kind that may go negative.
    ISSUING = "issuing", _("社区发放账户")
    RESIDENT = "resident", _("居民积分账户")
    OUTLET = "outlet", _("兑换点账户")
    EXPIRY = "expiry", _("积分过期账户")


# Kinds whose balance may never be negative (a database check constraint).
NON_NEGATIVE_KINDS = (AccountKind.RESIDENT, AccountKind.OUTLET, AccountKind.EXPIRY)


class TransferKind(models.TextChoices):
    EARN = "earn", _("参与获得")
    GRANT = "grant", _("人工发放")
    REDEEM = "redeem", _("兑换")
    PAYMENT = "payment", _("消费抵扣")
    EXPIRE = "expire", _("过期")
    REVERSAL = "reversal", _("冲正")


class ActivityType(models.TextChoices):
    """Kinds of public work that earn points (the activity types of the earning rules)."""

    SANITATION = "sanitation", _("环境卫生")
    CLUTTER = "clutter", _("清理杂物")
    PATROL = "patrol", _("治安巡逻")
    ELDERLY_HELP = "elderly_help", _("助老服务")
    MEDIATION = "mediation", _("矛盾调解")
    TUTORING = "tutoring", _("儿童课业辅导")
    RESETTLEMENT = "resettlement", _("征地拆迁协助")
    OTHER = "other", _("其他公益服务")


class OutletKind(models.TextChoices):
    CHARITY_SHOP = "charity_shop", _("爱心屋")
    CANTEEN = "canteen", _("幸福食堂")
    GROCERY = "grocery", _("平价副食品店")
