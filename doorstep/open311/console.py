"""The console page where a system administrator issues and revokes Open311 keys. A new
key is shown once, on the page that issued it; afterwards only its prefix is known."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import has_role
from doorstep.core.errors import DomainError
from doorstep.core.pages import render_page

from .models import ApiKey
from .services import api_key_create, api_key_revoke


def _admin_only(request: HttpRequest) -> None:
    if not has_role(request.user, Role.SYSTEM_ADMIN):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    new_key = ""
    error = ""
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                row = api_key_revoke(actor=request.user, name=request.POST.get("name", ""))
                messages.success(request, _("已吊销密钥：%(name)s") % {"name": row.name})
                return redirect("open311:keys")
            row, new_key = api_key_create(actor=request.user, name=request.POST.get("name", ""))
        except DomainError as problem:
            error, status = str(problem.message), 400
    rows = ApiKey.objects.select_related("created_by", "revoked_by").annotate(
        filed=Count("submissions")
    )
    return render_page(
        request,
        "open311/keys.html",
        {
            "rows": rows,
            "new_key": new_key,
            "error": error,
            "name": request.POST.get("name", ""),
            "endpoint": request.build_absolute_uri(reverse("open311:root")),
        },
        status=status,
    )
