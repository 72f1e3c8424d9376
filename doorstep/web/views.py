"""The resident home, the console shell and its org-tree pages, preferences, health."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.accounts.roles import Role
from doorstep.accounts.rules import is_staff_user, require_staff
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import get_scoped_or_404, grants, roles_of, rule_for, scoped
from doorstep.accounts.selectors import my_grants_display
from doorstep.accounts.services import user_set_preferences
from doorstep.core import timeutils
from doorstep.core.pages import render_page
from doorstep.core.todo import mine_for, todos_for
from doorstep.orgs.choices import DepartmentKind, PartyOrgKind, UnitKind
from doorstep.orgs.models import Department, PartyOrg, Unit
from doorstep.orgs.selectors import kind_counts, public_grassroots_directory, unit_ancestors
from doorstep.people.models import Household, Person
from doorstep.people.selectors import registry_summary
from doorstep.web.nav import PUBLIC_LINKS, RESIDENT_LINKS

from .middleware import ELDER_COOKIE


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/home.html",
        {
            "directory": public_grassroots_directory(),
            "mine": mine_for(request.user, timeutils.now()),
            "my_roles": my_grants_display(request.user),
            "public_links": PUBLIC_LINKS,
            "resident_links": RESIDENT_LINKS,
        },
    )


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    return redirect("web:console" if is_staff_user(request.user) else "web:home")


@login_required
def console(request: HttpRequest) -> HttpResponse:
    if not is_staff_user(request.user):
        return redirect("web:home")
    places = []
    seen: set[int] = set()
    # Whether any of the user's staff roles sees persons (then local places count them).
    sees_people = any(rule_for(Person, role) for role in roles_of(request.user) - {Role.RESIDENT})
    for grant in grants(request.user):
        unit = anchor_unit(grant)
        if unit is None or unit.pk in seen:
            continue
        seen.add(unit.pk)
        counts = kind_counts(unit)
        places.append(
            {
                "grant": grant,
                "unit": unit,
                "counts": [
                    (UnitKind(kind).label, counts[kind])
                    for kind in UnitKind.values
                    if counts.get(kind)
                ],
                "people": _place_people(request.user, unit) if sees_people else None,
            }
        )
    if len(places) > 1:  # the registry link narrows to the place where it can
        for place in places:
            if place["people"] and place["unit"].kind in REGISTRY_WITHIN_KINDS:
                place["people"]["within"] = place["unit"].pk
    return render(
        request,
        "web/console.html",
        {
            "todos": todos_for(request.user, timeutils.now()),
            "places": places,
            "my_roles": my_grants_display(request.user),
        },
    )


# Places small enough for their residents to be counted on the console's home: a
# community or village and what lies below it.
LOCAL_KINDS = frozenset({"community", "village", "compound", "natural_village", "building"})
# The places the registry's "within" filter offers.
REGISTRY_WITHIN_KINDS = frozenset({"community", "village", "compound", "natural_village"})


def _place_people(user: Any, unit: Unit) -> dict[str, Any] | None:
    """Households and residents of a local place that the user may see in the registry
    (None for wider places): how many, how many aged 60 and over and under 14, and the
    most frequent tags."""
    if unit.kind not in LOCAL_KINDS:
        return None
    summary = registry_summary(actor=user, within=unit.pk)
    households = (
        scoped(user, Household).filter(unit.subtree_q(field="unit__path"), is_active=True).count()
    )
    return {
        "households": households,
        "summary": summary,
        "tags": sorted(((tag, n) for tag, n in summary.tags if n), key=lambda t: -t[1])[:4],
        "within": None,
    }


@login_required
def units(request: HttpRequest) -> HttpResponse:
    """Top of the org tree as far as the user may see: the anchors of their grants, or
    the roots for administrators who see everything."""
    require_staff(request)
    visible = scoped(request.user, Unit)
    query = request.GET.get("q", "").strip()
    if query:
        results = visible.filter(Q(name__icontains=query) | Q(code__startswith=query)).order_by(
            "path"
        )[:100]
        return render_page(
            request,
            "web/units.html",
            {"results": results, "q": query},
            fragment="web/_unit_results.html",
        )
    anchors = {
        unit.pk: unit for grant in grants(request.user) if (unit := anchor_unit(grant)) is not None
    }
    tops = list(anchors.values()) or list(visible.filter(parent__isnull=True).order_by("name"))
    return render(request, "web/units.html", {"tops": tops, "q": query})


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff(request)
    unit = get_scoped_or_404(request.user, Unit, pk=pk)
    children = scoped(request.user, Unit).filter(parent=unit).order_by("kind", "name")
    ancestors = list(unit_ancestors(unit))
    # Ancestors above the user's scope are shown by name but not linked.
    visible_paths = set(
        scoped(request.user, Unit)
        .filter(path__in=[a.path for a in ancestors])
        .values_list("path", flat=True)
    )
    crumbs = [(a, a.path in visible_paths) for a in ancestors]
    context = {
        "unit": unit,
        "children": Paginator(children, 100).get_page(request.GET.get("page")),
        "crumbs": crumbs,
        "party_orgs": scoped(request.user, PartyOrg).filter(unit=unit).order_by("path"),
        "departments": scoped(request.user, Department).filter(unit=unit).order_by("name"),
        "counts": [(UnitKind(k).label, n) for k, n in kind_counts(unit).items()],
    }
    return render_page(request, "web/unit_detail.html", context, fragment="web/_unit_children.html")


@login_required
def party_orgs(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    qs = scoped(request.user, PartyOrg).select_related("unit", "parent").order_by("path")
    kind = request.GET.get("kind", "")
    if kind in PartyOrgKind.values:
        qs = qs.filter(kind=kind)
    if query := request.GET.get("q", "").strip():
        qs = qs.filter(name__icontains=query)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render_page(
        request,
        "web/party_orgs.html",
        {"page": page, "kinds": PartyOrgKind.choices, "filters": request.GET},
        fragment="web/_party_org_rows.html",
    )


@login_required
def departments(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    qs = scoped(request.user, Department).select_related("unit").order_by("unit__path", "name")
    kind = request.GET.get("kind", "")
    if kind in DepartmentKind.values:
        qs = qs.filter(kind=kind)
    if query := request.GET.get("q", "").strip():
        qs = qs.filter(name__icontains=query)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render_page(
        request,
        "web/departments.html",
        {"page": page, "kinds": DepartmentKind.choices, "filters": request.GET},
        fragment="web/_department_rows.html",
    )


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return target


@require_POST
def elder_mode(request: HttpRequest) -> HttpResponse:
    """Switch the elder-friendly mode on or off; remembered on this phone and account."""
    value = request.POST.get("on") == "1"
    response = HttpResponseRedirect(_back(request))
    response.set_cookie(
        ELDER_COOKIE, "1" if value else "0", max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax"
    )
    if request.user.is_authenticated:
        user_set_preferences(user=request.user, elder_mode=value)
    return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers the choice on the account."""
    from django.views.i18n import set_language as django_set_language

    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_preferences(user=request.user, language=language)
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon."""
    return redirect(static("img/favicon.svg"), permanent=True)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for the load balancer: answers 503 when the database does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": "error"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"code": 404, "message": _("页面不存在，或您无权查看。")},
        status=404,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request refused before any view ran (``django.core.exceptions.BadRequest``): in
    the API's error format under ``/api/``, else the error page; the message names what
    is wrong where the exception says."""
    message = str(exception) if exception is not None and str(exception) else ""
    message = message or _("请求无效。")
    if request.path.startswith("/api/"):
        field = getattr(exception, "field", None)
        error = {"field": field, "code": "invalid", "message": message}
        return JsonResponse({"errors": [error]}, status=400)
    return render(request, "web/error.html", {"code": 400, "message": message}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"code": 500, "message": _("服务器出错了，请稍后再试。")},
        status=500,
    )
