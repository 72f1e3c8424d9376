from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")
    UNKNOWN = "unknown", _("未知")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")
    TENANT = "tenant", _("租户")


class LeftReason(models.TextChoices):
    """Why a person is no longer on the register (迁出、去世): the record stays, with its
    history, cases, visits and points."""

    MOVED_AWAY = "moved_away", _("迁出本辖区")
    DECEASED = "deceased", _("去世")


class PartyMemberKind(models.TextChoices):
    REGULAR = "regular", _("正式党员")
    PROBATIONARY = "probationary", _("预备党员")


class MobileStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    LEFT = "left", _("已转出")


# Age-based groups are computed from the birth date on each read, never stored.
ELDERLY_AGE = 60
CHILD_AGE = 14

# Tags of the new-employment group (新就业群体); all tags are rows of people.Tag,
# seeded by migration 0002.
NEW_EMPLOYMENT_TAGS = {"courier", "rider", "ride_hailing"}
