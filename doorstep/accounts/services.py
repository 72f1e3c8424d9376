"""Writes in accounts: users and role assignments. One transaction each, audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError

from .audit import audit_record
from .models import AuditAction, AuditOutcome, RoleAssignment, User
from .roles import (
    ROLE_SCOPE_KIND,
    SEPARATED_ADMIN_ROLES,
    UNIT_ROLE_KINDS,
    Role,
    role_available,
    scope_kind,
)
from .rules import can_manage_roles
from .scoping import forget_grants


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    display_name: str = "",
    validate: bool = True,
) -> User:
    """Create an account. ``password=None`` creates one that cannot log in until a
    password is set."""
    username = (username or "").strip()
    if not username:
        raise ValidationError(_("请填写用户名。"), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(_("用户名已被使用。"), field="username")
    user = User(username=username, display_name=display_name.strip())
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                raise ValidationError(errors={"password": list(exc.messages)}) from None
        user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except DjangoValidationError as exc:
        raise ValidationError(errors={k: list(v) for k, v in exc.message_dict.items()}) from None
    user.save()
    return user


def _resolve_scope(role: str, scope: Any) -> int | None:
    kind_name = ROLE_SCOPE_KIND[role]
    if kind_name in ("self", "system"):
        if scope is not None:
            raise ValidationError(_("该角色不需要指定范围。"), field="scope")
        return None
    kind = scope_kind(kind_name)
    model = kind.model if kind else None
    if model is None:
        raise ValidationError(_("该角色所需的模块尚未启用。"), field="role")
    if scope is None:
        raise ValidationError(_("该角色必须指定范围。"), field="scope")
    if not isinstance(scope, model):
        try:
            scope = model._default_manager.get(pk=int(scope))
        except (model.DoesNotExist, TypeError, ValueError):  # type: ignore[attr-defined]
            raise ValidationError(_("找不到所选的范围。"), field="scope") from None
    allowed_kinds = UNIT_ROLE_KINDS.get(role)
    if allowed_kinds is not None and scope.kind not in allowed_kinds:
        raise ValidationError(_("该角色不能授予在这一级单元上。"), field="scope")
    return int(scope.pk)


def role_grant(
    *,
    actor: User | Any | None,
    user: User,
    role: str,
    scope: Any = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> RoleAssignment:
    """Grant ``role`` over ``scope`` to ``user``. Only a security admin may grant (``actor``
    is None only for set-up commands run from the shell), never to themselves. A refused
    attempt by someone else is itself audited, outside the refused transaction."""
    if actor is not None and not can_manage_roles(actor):
        audit_record(
            action=AuditAction.ROLE_GRANT_REFUSED,
            outcome=AuditOutcome.DENIED,
            actor=actor,
            obj=user,
            request=request,
            detail={"role": role},
        )
        raise PermissionDenied(_("只有安全管理员可以授予角色。"))
    return _role_grant(actor=actor, user=user, role=role, scope=scope, note=note, request=request)


@transaction.atomic
def _role_grant(
    *,
    actor: User | Any | None,
    user: User,
    role: str,
    scope: Any,
    note: str,
    request: HttpRequest | None,
) -> RoleAssignment:
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied(_("不能给自己授予角色。"), field="user")
    if role not in Role.values:
        raise ValidationError(_("未知的角色。"), field="role")
    if not role_available(role):
        raise ValidationError(_("该角色所需的模块尚未启用。"), field="role")
    scope_id = _resolve_scope(role, scope)
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialize grants per user
    active = RoleAssignment.objects.filter(user=user, revoked_at__isnull=True)
    if role in SEPARATED_ADMIN_ROLES and active.filter(role__in=SEPARATED_ADMIN_ROLES).exists():
        raise ValidationError(
            _("系统管理员、安全管理员、审计员三种角色不能由同一账号兼任。"), field="role"
        )
    if active.filter(role=role, scope_id=scope_id).exists():
        raise Conflict(_("该用户已拥有此角色和范围。"), field="role")
    assignment = RoleAssignment(
        user=user,
        role=role,
        scope_kind=ROLE_SCOPE_KIND[role],
        scope_id=scope_id,
        granted_by=actor,
        note=note,
    )
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise Conflict(_("该角色授予与现有授权冲突。"), field="role") from None
    audit_record(
        action=AuditAction.ROLE_GRANTED,
        actor=actor,
        username="system",
        obj=assignment,
        request=request,
        detail={
            "user": user.username,
            "role": role,
            "scope_kind": assignment.scope_kind,
            "scope_id": scope_id,
        },
    )
    forget_grants(user)
    return assignment


@transaction.atomic
def role_revoke(
    *,
    actor: User | Any | None,
    assignment_id: int,
    reason: str = "",
    request: HttpRequest | None = None,
) -> RoleAssignment:
    """End a role assignment. A person revoking says why (kept on the assignment and in
    the audit row, for the auditor who later asks); the system (``actor=None``: a
    command, a deletion) may not."""
    if actor is not None and not can_manage_roles(actor):
        raise PermissionDenied(_("只有安全管理员可以撤销角色。"))
    reason = (reason or "").strip()
    if actor is not None and not reason:
        raise ValidationError(_("撤销角色须说明原因。"), field="reason")
    if len(reason) > 200:
        raise ValidationError(_("原因不能超过 200 字。"), field="reason")
    assignment = RoleAssignment.objects.select_for_update().filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound(_("未找到该角色授权。"))
    if assignment.revoked_at is not None:
        raise Conflict(_("该角色授权已被撤销。"))
    if actor is not None and assignment.user_id == actor.pk:
        raise PermissionDenied(_("不能撤销自己的角色。"))
    assignment.revoked_at = timezone.now()
    assignment.revoked_by = actor
    assignment.revoke_reason = reason
    assignment.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    audit_record(
        action=AuditAction.ROLE_REVOKED,
        actor=actor,
        username="system",
        obj=assignment,
        request=request,
        detail={
            "user": assignment.user.username,
            "role": assignment.role,
            "scope_id": assignment.scope_id,
            "reason": reason,
        },
    )
    forget_grants(assignment.user)
    return assignment


@transaction.atomic
def user_set_preferences(
    *, user: User, elder_mode: bool | None = None, language: str | None = None
) -> User:
    fields = []
    if elder_mode is not None:
        user.elder_mode = elder_mode
        fields.append("elder_mode")
    if language is not None:
        user.preferred_language = language
        fields.append("preferred_language")
    if fields:
        user.save(update_fields=fields)
    return user
