"""Grid pages: a community's grids, a grid, the balancing preview, the grid map, and
the grid member's phone view with the visit form. Views call selectors and services
only; every row comes through the scoping checkpoint, and a row out of scope is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from doorstep.accounts.roles import Role
from doorstep.accounts.rules import require_staff
from doorstep.accounts.scoping import get_scoped_or_404, has_role
from doorstep.core.errors import Conflict, DomainError, ValidationError
from doorstep.core.pages import render_page
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit
from doorstep.people.selectors import household_detail

from .forms import AssignForm, BalanceForm, VisitForm
from .models import Grid, GridHousehold
from .rules import can_manage_grids
from .selectors import (
    UNGRIDDED_SHOWN,
    assign_choices,
    balance_plan,
    grid_households,
    grid_map_data,
    grid_member_ids,
    grid_rows,
    household_community,
    household_visits,
    household_wishes,
    households_without_grid,
    managed_grassroots_units,
    my_households,
    overdue_days,
)
from .services import grid_balance_apply, household_assign, visit_log

MOVES_SHOWN = 200


def _managed_community(request: HttpRequest, pk: int) -> Unit:
    """A community or village the user may see and whose grids they run (else 404)."""
    require_staff(request)
    unit = get_scoped_or_404(request.user, Unit, pk=pk, kind__in=sorted(GRASSROOTS_KINDS))
    if not can_manage_grids(request.user, unit):
        raise Http404
    return unit


@login_required
def grid_index(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    units = Paginator(managed_grassroots_units(request.user), 100).get_page(request.GET.get("page"))
    return render(request, "grids/index.html", {"page": units, "filters": request.GET})


@login_required
def grid_list(request: HttpRequest, unit_pk: int) -> HttpResponse:
    unit = _managed_community(request, unit_pk)
    rows = grid_rows(actor=request.user, unit=unit)
    ungridded = households_without_grid(actor=request.user, unit=unit)
    return render(
        request,
        "grids/grid_list.html",
        {
            "unit": unit,
            "rows": rows,
            "total": sum(r.households for r in rows),
            "ungridded": list(ungridded[:UNGRIDDED_SHOWN]),
            "ungridded_count": ungridded.count(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def household_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Put one household in a grid of its community and link it to a member; for those
    who run the community's grids (anyone else: 404)."""
    require_staff(request)
    household = household_detail(actor=request.user, household_id=pk).household
    choices = assign_choices(household=household)
    community = household_community(household)
    if community is None or not can_manage_grids(request.user, community):
        raise Http404
    current = choices.current
    form = AssignForm(
        initial={"grid": current.grid_id, "member": current.member_id} if current else {},
        grids=choices.grids,
        members=choices.members,
    )
    status = 200
    if request.method == "POST":
        form = AssignForm(request.POST, grids=choices.grids, members=choices.members)
        status = 400
        if form.is_valid():
            try:
                household_assign(
                    actor=request.user,
                    household_id=household.pk,
                    grid_id=form.cleaned_data["grid"],
                    member_id=form.cleaned_data["member"],
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("已调整该住户的网格。"))
                return redirect("grids:grid-list", community.pk)
    return render(
        request,
        "grids/household_assign.html",
        {"household": household, "community": community, "current": current, "form": form},
        status=status,
    )


@login_required
def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff(request)
    grid = get_scoped_or_404(request.user, Grid, pk=pk)
    links = grid_households(actor=request.user, grid=grid, today=timezone.localdate())
    page = Paginator(links, 50).get_page(request.GET.get("page"))
    return render_page(
        request,
        "grids/grid_detail.html",
        {
            "grid": grid,
            "page": page,
            "filters": request.GET,
            "members": grid_member_ids([grid.pk]).get(grid.pk, []),
            "leaders": grid_member_ids([grid.pk], Role.GRID_LEADER).get(grid.pk, []),
            "manages": can_manage_grids(request.user, grid.unit),
            "overdue_days": overdue_days(),
        },
        fragment="grids/_household_rows.html",
    )


@login_required
def balance(request: HttpRequest, unit_pk: int) -> HttpResponse:
    """GET: the plan, reported. POST: apply it, if the community has not changed since
    the plan that was shown (its fingerprint comes back in a hidden field)."""
    unit = _managed_community(request, unit_pk)
    error = ""
    if request.method == "POST":
        form = BalanceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            plan = balance_plan(unit=unit, max_size=data["max_size"], per_member=data["per_member"])
            try:
                if plan.fingerprint != data["fingerprint"]:
                    raise Conflict(
                        _("预览之后住户、网格或网格员已有变动，请重新预览后再应用。"),
                        field="fingerprint",
                    )
                result = grid_balance_apply(plan=plan, actor=request.user, request=request)
            except DomainError as exc:
                error = str(exc.message)
            else:
                messages.success(
                    request,
                    _("已应用网格划分：新建 %(created)d 个网格，调整 %(moved)d 户。")
                    % {"created": len(result.created), "moved": result.moved},
                )
                return redirect("grids:grid-list", unit_pk=unit.pk)
    else:
        form = BalanceForm(request.GET if request.GET else None)
    params = form.cleaned_data if form.is_bound and form.is_valid() else {}
    plan = balance_plan(
        unit=unit,
        max_size=params.get("max_size") or BalanceForm.base_fields["max_size"].initial,
        per_member=params.get("per_member") or BalanceForm.base_fields["per_member"].initial,
    )
    status = 409 if error else 200
    return render(
        request,
        "grids/balance.html",
        {
            "unit": unit,
            "form": form,
            "plan": plan,
            "moves": plan.moves[:MOVES_SHOWN],
            "more_moves": max(0, len(plan.moves) - MOVES_SHOWN),
            "error": error,
        },
        status=status,
    )


@login_required
def grid_map(request: HttpRequest, unit_pk: int) -> HttpResponse:
    unit = _managed_community(request, unit_pk)
    return render(
        request,
        "grids/map.html",
        {"unit": unit, "map_data": grid_map_data(actor=request.user, unit=unit)},
    )


@login_required
def my_grid(request: HttpRequest) -> HttpResponse:
    """The grid member's phone view: my households, overdue for a visit first."""
    require_staff(request)
    today = timezone.localdate()
    links = my_households(actor=request.user, today=today)
    page = Paginator(links, 100).get_page(request.GET.get("page"))
    return render_page(
        request,
        "grids/my_grid.html",
        {
            "page": page,
            "filters": request.GET,
            "overdue_days": overdue_days(),
            "has_grid": has_role(request.user, Role.GRID_MEMBER, Role.GRID_LEADER),
        },
        fragment="grids/_my_rows.html",
    )


@login_required
def my_household(request: HttpRequest, pk: int) -> HttpResponse:
    """One household: who lives there (as far as the user may see), the visit form, its
    visit history and its wish list."""
    require_staff(request)
    link = get_scoped_or_404(
        request.user,
        GridHousehold,
        GridHousehold.objects.select_related("household__unit", "household__head", "grid"),
        household_id=pk,
    )
    household = link.household
    if request.method == "POST":
        form = VisitForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit_log(
                    actor=request.user,
                    household=household,
                    visited_on=data["visited_on"],
                    notes=data["notes"],
                    needs=data["needs"],
                    wishes=form.wish_list(),
                )
            except ValidationError as exc:
                for field, errors in exc.errors.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, str(message))
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("走访已登记。"))
                return redirect("grids:my-household", pk=household.pk)
    else:
        form = VisitForm(initial={"visited_on": timezone.localdate()})
    today = timezone.localdate()
    detail = household_detail(actor=request.user, household_id=household.pk)
    members = detail.members
    for person in members:
        person.display_age = person.age_on(today)  # type: ignore[attr-defined]
    return render(
        request,
        "grids/my_household.html",
        {
            "link": link,
            "household": household,
            "members": members,
            "former": detail.former,
            "form": form,
            "visits": household_visits(actor=request.user, household=household)[:50],
            "wishes": household_wishes(actor=request.user, household=household)[:100],
        },
        status=400 if form.is_bound and form.errors else 200,
    )
