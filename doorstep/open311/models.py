"""Open311's own rows: the keys of integrating systems. Service requests are appeal
cases; nothing here stores a second copy of them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ApiKey(models.Model):
    """A key issued to one integrating system (a hotline, a FixMyStreet-style app). The
    key itself is shown once when issued; only its keyed hash is stored. A revoked key
    stays, so that every case filed with it still says which system filed it."""

    name = models.CharField(_("名称"), max_length=80, unique=True)
    prefix = models.CharField(_("前缀"), max_length=12, help_text=_("用于识别，不能用来调用"))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("吊销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Datatype(models.TextChoices):
    STRING = "string", _("单行文字")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文字")
    SINGLEVALUELIST = "singlevaluelist", _("单选")
    MULTIVALUELIST = "multivaluelist", _("多选")


LIST_DATATYPES = frozenset({Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST})


class ServiceAttribute(models.Model):
    """One extra question of a service (an appeal category) in its Open311 service
    definition. A category with attributes is announced with ``metadata: true``."""

    category = models.ForeignKey(
        "appeals.Category",
        verbose_name=pgettext_lazy("singular", "诉求类别"),
        on_delete=models.CASCADE,
        related_name="open311_attributes",
    )
    code = models.SlugField(_("代码"), max_length=40)
    variable = models.BooleanField(_("需要填写"), default=True)
    datatype = models.CharField(_("数据类型"), max_length=20, choices=Datatype.choices)
    required = models.BooleanField(_("必填"), default=False)
    datatype_description = models.CharField(_("填写说明"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=1)
    description = models.CharField(pgettext_lazy("attribute", "问题"), max_length=300)
    # [{"key": "...", "name": "..."}] for the two list datatypes.
    values = models.JSONField(_("选项"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Open311 服务属性")
        verbose_name_plural = _("Open311 服务属性")
        ordering = ["category", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "code"],
                name="open311_attribute_code_unique",
                violation_error_message=_("同一类别下属性代码不能重复。"),
            ),
            models.UniqueConstraint(
                fields=["category", "order"],
                name="open311_attribute_order_unique",
                violation_error_message=_("同一类别下属性顺序不能重复。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id}:{self.code}"

    def value_keys(self) -> list[str]:
        return [str(item.get("key")) for item in self.values or [] if isinstance(item, dict)]


class ServiceType(models.TextChoices):
    REALTIME = "realtime", _("实时：立即返回编号")
    BATCH = "batch", _("批量：返回令牌，受理后可查编号")
    BLACKBOX = "blackbox", _("黑箱：不返回编号")


class ServiceOption(models.Model):
    """How a category is offered over Open311. A category without a row is a realtime
    service whose keywords are its own and its parent's names."""

    category = models.OneToOneField(
        "appeals.Category",
        verbose_name=pgettext_lazy("singular", "诉求类别"),
        on_delete=models.CASCADE,
        related_name="open311_option",
    )
    type = models.CharField(
        _("类型"), max_length=10, choices=ServiceType.choices, default=ServiceType.REALTIME
    )
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Open311 服务设置")
        verbose_name_plural = _("Open311 服务设置")

    def __str__(self) -> str:
        return f"{self.category_id}:{self.type}"


class Submission(models.Model):
    """What an Open311 client sent with a case beyond the case itself: which key filed
    it, the batch token, the answers to the service's attributes, and the submitter's
    contact details (sealed, never shown in public reads)."""

    case = models.OneToOneField(
        "appeals.Case",
        verbose_name=pgettext_lazy("singular", "诉求"),
        on_delete=models.PROTECT,
        related_name="open311_submission",
    )
    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("接入密钥"), on_delete=models.PROTECT, related_name="submissions"
    )
    token = models.CharField(_("批量令牌"), max_length=32, unique=True, null=True, blank=True)
    attributes = models.JSONField(_("属性"), default=dict, blank=True)
    device_id = models.CharField(_("设备号"), max_length=100, blank=True)
    account_id = models.CharField(_("账号"), max_length=100, blank=True)
    contact_sealed = models.TextField(_("联系方式（加密）"), blank=True)
    address_string = models.CharField(_("地址描述"), max_length=300, blank=True)
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 提交")
        verbose_name_plural = _("Open311 提交")

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.case_id}"


class UpdateReceipt(models.Model):
    """An update a client posted to ``servicerequestupdates``, kept so that the same
    update sent twice (same key, same external id) is answered with the first result."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+")
    external_id = models.CharField(max_length=100)
    case = models.ForeignKey("appeals.Case", on_delete=models.PROTECT, related_name="+")
    event_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "external_id"], name="open311_update_receipt_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.external_id}"
