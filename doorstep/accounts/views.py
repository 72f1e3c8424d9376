"""Login, logout, password change, and the two separated-administrator consoles:
role management (security admin) and the audit log (auditor)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.core.errors import DomainError
from doorstep.core.pages import render_page
from doorstep.core.timeutils import LOCAL_TZ, plausible_day

from .audit import audit_record
from .forms import LoginForm, RoleGrantForm
from .models import AuditAction, AuditOutcome, User
from .roles import Role
from .rules import can_manage_roles, can_read_audit_log
from .selectors import audit_event_list, role_assignment_list, scope_labels, scope_options
from .services import role_grant, role_revoke


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("web:after-login")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(
            action=AuditAction.PASSWORD_CHANGED,
            actor=self.request.user,
            obj=self.request.user,
            request=self.request,
        )
        messages.success(self.request, _("密码已修改。"))
        return response


def lockout_response(
    request: HttpRequest, credentials: dict | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """What django-axes answers while a username is locked out; the attempt is audited."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    audit_record(
        action=AuditAction.LOGIN_LOCKED,
        outcome=AuditOutcome.DENIED,
        username=username,
        request=request,
    )
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _("登录失败次数过多，该账号已锁定%(minutes)d分钟，请稍后再试。") % {
        "minutes": minutes
    }
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {"errors": [{"field": "username", "code": "locked_out", "message": message}]},
            status=429,
        )
    return render(request, "accounts/locked.html", {"message": message}, status=429)


# --- Security admin: roles ------------------------------------------------------------------


def _require(predicate: Any, request: HttpRequest) -> None:
    if not predicate(request.user):
        # Pages of another administrator's domain do not exist for this user.
        raise Http404


@login_required
def role_list(request: HttpRequest) -> HttpResponse:
    _require(can_manage_roles, request)
    query = request.GET.get("q", "").strip()
    assignments = role_assignment_list(actor=request.user, username=query)
    page = Paginator(assignments, 50).get_page(request.GET.get("page"))
    labels = scope_labels(list(page.object_list))
    form = RoleGrantForm()
    return render_page(
        request,
        "accounts/role_list.html",
        {"page": page, "labels": labels, "form": form, "q": query},
        fragment="accounts/_role_rows.html",
    )


@login_required
def role_scope_options(request: HttpRequest) -> HttpResponse:
    _require(can_manage_roles, request)
    role = request.GET.get("role", "")
    options = (
        scope_options(role=role, query=request.GET.get("scope_q", ""))
        if role in Role.values
        else []
    )
    return render(request, "accounts/_scope_options.html", {"options": options, "role": role})


@login_required
@require_POST
def role_grant_view(request: HttpRequest) -> HttpResponse:
    _require(can_manage_roles, request)
    form = RoleGrantForm(request.POST)
    if form.is_valid():
        user = User.objects.filter(username__iexact=form.cleaned_data["username"].strip()).first()
        if user is None:
            form.add_error("username", _("找不到该用户。"))
        else:
            try:
                role_grant(
                    actor=request.user,
                    user=user,
                    role=form.cleaned_data["role"],
                    scope=form.cleaned_data["scope"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("已授予角色。"))
                return redirect("accounts:roles")
    assignments = role_assignment_list(actor=request.user)
    page = Paginator(assignments, 50).get_page(1)
    return render(
        request,
        "accounts/role_list.html",
        {"page": page, "labels": scope_labels(list(page.object_list)), "form": form, "q": ""},
        status=400,
    )


@login_required
@require_POST
def role_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(can_manage_roles, request)
    try:
        role_revoke(
            actor=request.user,
            assignment_id=pk,
            reason=request.POST.get("reason", "")[:1000],
            request=request,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已撤销角色。"))
    return redirect("accounts:roles")


# --- Auditor: audit log -------------------------------------------------------------------


OBJECT_TYPE = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


def _audit_filters(request: HttpRequest) -> dict[str, Any]:
    def day(name: str) -> dt.datetime | None:
        # A malformed or impossible date (2026-13-01, 9999-12-31) filters nothing rather
        # than failing.
        try:
            value = parse_date(request.GET.get(name, ""))
        except ValueError:
            value = None
        if value is None or not plausible_day(value):
            return None
        return dt.datetime(value.year, value.month, value.day, tzinfo=LOCAL_TZ)

    until = day("until")
    object_type = request.GET.get("object_type", "")
    object_id = request.GET.get("object_id", "")
    return {
        # "app_label.model"; anything else filters nothing.
        "object_type": object_type if OBJECT_TYPE.fullmatch(object_type) else "",
        "object_id": object_id if len(object_id) <= 64 and object_type else "",
        "action": request.GET.get("action", "")
        if request.GET.get("action") in AuditAction.values
        else "",
        "outcome": request.GET.get("outcome", "")
        if request.GET.get("outcome") in AuditOutcome.values
        else "",
        "username": request.GET.get("username", ""),
        "since": day("since"),
        "until": until + dt.timedelta(days=1) if until else None,
    }


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    _require(can_read_audit_log, request)
    filters = _audit_filters(request)
    events = audit_event_list(actor=request.user, **filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render_page(
        request,
        "accounts/audit_log.html",
        {
            "page": page,
            "actions": AuditAction.choices,
            "outcomes": AuditOutcome.choices,
            "filters": request.GET,
            "object_filter": _object_filter(events, filters),
        },
        fragment="accounts/_audit_rows.html",
    )


def _object_filter(events: Any, filters: dict[str, Any]) -> dict[str, str] | None:
    """The one object the log is narrowed to, named as its newest event names it."""
    if not filters["object_type"]:
        return None
    newest = events.exclude(object_repr="").values_list("object_repr", flat=True).first()
    return {
        "type": filters["object_type"],
        "id": filters["object_id"],
        "name": newest or f"{filters['object_type']} {filters['object_id']}".strip(),
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def audit_log_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV of the filtered audit log. The export itself is an audited event."""
    _require(can_read_audit_log, request)
    filters = _audit_filters(request)
    events = audit_event_list(actor=request.user, **filters)
    audit_record(
        action=AuditAction.EXPORT,
        actor=request.user,
        object_type="accounts.auditevent",
        request=request,
        detail={"filters": {k: str(v) for k, v in filters.items() if v}, "rows": events.count()},
    )
    writer = csv.writer(_Echo())
    header = [
        _("时间"),
        _("用户名"),
        _("操作"),
        _("结果"),
        _("对象类型"),
        _("对象编号"),
        _("对象"),
        _("来源IP"),
        _("详情"),
    ]

    def rows() -> Any:
        yield "\ufeff" + writer.writerow(header)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    event.at.astimezone(LOCAL_TZ).isoformat(),
                    event.actor_username,
                    event.action,
                    event.outcome,
                    event.object_type,
                    event.object_id,
                    event.object_repr,
                    event.ip or "",
                    json.dumps(event.detail, ensure_ascii=False, sort_keys=True)
                    if event.detail
                    else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


__all__ = ["LoginView", "PasswordChangeView", "lockout_response"]
