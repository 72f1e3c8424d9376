"""Users, their role assignments, and the append-only audit log."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doorstep.core.models import BaseModel

from .roles import SEPARATED_ADMIN_ROLES, Role


class User(AbstractUser):
    """An account. Personal records (ID number, phone, household) live in ``people``;
    an account only knows how to log in and what its roles are."""

    display_name = models.CharField(_("显示名称"), max_length=50, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    elder_mode = models.BooleanField(_("适老化模式"), default=False)
    preferred_language = models.CharField(_("界面语言"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()


class RoleAssignment(BaseModel):
    """A role held by a user over a scope. Revoked, never deleted: who held which power
    when is something an auditor may ask about."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=30, choices=Role.choices)
    scope_kind = models.CharField(_("范围类型"), max_length=20, editable=False)
    scope_id = models.BigIntegerField(_("范围对象"), null=True, blank=True)
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("授予人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "scope_id"],
                condition=Q(revoked_at__isnull=True) & Q(scope_id__isnull=False),
                name="accounts_roleassignment_active_unique",
                violation_error_message=_("该用户已拥有此角色和范围。"),
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=Q(revoked_at__isnull=True) & Q(scope_id__isnull=True),
                name="accounts_roleassignment_active_unscoped_unique",
                violation_error_message=_("该用户已拥有此角色。"),
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True) & Q(role__in=sorted(SEPARATED_ADMIN_ROLES)),
                name="accounts_roleassignment_one_separated_admin_role",
                violation_error_message=_(
                    "系统管理员、安全管理员、审计员三种角色不能由同一账号兼任。"
                ),
            ),
            models.CheckConstraint(
                condition=(Q(scope_kind__in=["self", "system"]) & Q(scope_id__isnull=True))
                | (~Q(scope_kind__in=["self", "system"]) & Q(scope_id__isnull=False)),
                name="accounts_roleassignment_scope_matches_kind",
                violation_error_message=_("角色范围与角色类型不符。"),
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="accounts_ra_user_active")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditAction(models.TextChoices):
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGIN_LOCKED = "login_locked", _("账号锁定")
    LOGOUT = "logout", _("退出")
    SESSION_EXPIRED = "session_expired", _("会话超时")
    PASSWORD_CHANGED = "password_changed", _("修改密码")
    TOKEN_ISSUED = "token_issued", _("签发令牌")
    TOKEN_REVOKED = "token_revoked", _("吊销令牌")
    ROLE_GRANTED = "role_granted", _("授予角色")
    ROLE_REVOKED = "role_revoked", _("撤销角色")
    ROLE_GRANT_REFUSED = "role_grant_refused", _("授予角色被拒绝")
    EXPORT = "export", _("导出")
    REVEAL = "reveal", _("查看完整个人信息")
    PSEUDONYMIZED = "pseudonymized", _("删除个人信息（匿名化）")
    IMPORT = "import", _("导入")
    GRIDS_BALANCED = "grids_balanced", _("调整网格划分")
    POINTS_ADJUSTED = "points_adjusted", _("积分人工调整")
    CANTEEN_REFUNDED = "canteen_refunded", _("食堂退款")
    COUNTER_SEARCH = "counter_search", _("柜台查找居民")
    ACCESS_DENIED = "access_denied", _("越权访问")
    REQUEST_VOIDED = "request_voided", _("撤销办事登记")
    UNIT_MOVED = "unit_moved", _("调整组织单元隶属")
    PERSON_REGISTERED = "person_registered", _("登记人员信息")
    PERSON_CHANGED = "person_changed", _("修改人员信息")
    PERSON_MOVED = "person_moved", _("人员迁移")
    HOUSEHOLD_CLOSED = "household_closed", _("注销住户")
    PERSON_LEFT = "person_left", _("登记迁出或去世")
    PERSON_REINSTATED = "person_reinstated", _("恢复在册")


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILURE = "failure", _("失败")
    DENIED = "denied", _("拒绝")


class AppendOnlyError(RuntimeError):
    pass


class AuditEvent(models.Model):
    """One audited event. Append-only: the model refuses updates and deletes, and so do
    database triggers (migration 0002), so not even raw SQL can rewrite history."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_username = models.CharField(_("用户名"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=30, choices=AuditAction.choices)
    outcome = models.CharField(_("结果"), max_length=10, choices=AuditOutcome.choices)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("来源IP"), null=True, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["action", "at"], name="accounts_audit_action_at"),
            models.Index(fields=["actor_username", "at"], name="accounts_audit_username_at"),
            models.Index(
                fields=["object_type", "object_id", "at"], name="accounts_audit_object_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("audit events are append-only")

    @property
    def detail_items(self) -> list[tuple[str, str]]:
        """The detail as (key, value) pairs for a page; a list or a mapping as JSON."""
        if not isinstance(self.detail, dict):
            return [("", json.dumps(self.detail, ensure_ascii=False))] if self.detail else []
        return [
            (str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for key, value in self.detail.items()
        ]
