"""Volunteer pages: the organizer's activities and teams, an activity's roster with
check-in, check-out and confirmation, the QR code posted at the place; the resident's
standing, activities to join and sign-ups; the page the place's QR code opens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.rules import require_staff
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core.errors import DomainError, ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.core.pages import render_page
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.selectors import own_person, person_search
from doorstep.points.services import community_of

from .choices import SignupStatus
from .forms import (
    ActivityForm,
    ConfirmForm,
    RejectForm,
    RowForm,
    ServiceForm,
    StarsForm,
    TeamForm,
)
from .models import Activity, Signup, Team
from .rules import can_manage_teams, can_organize
from .selectors import (
    activities_ahead,
    activities_to_join,
    activity_list,
    hours_leaderboard,
    my_signups,
    party_post_claims,
    roster,
    standing,
    star_hours,
    team_list,
)
from .services import (
    activity_create,
    check_in,
    check_out,
    scan,
    signup_cancel,
    signup_confirm,
    signup_create,
    signup_reject,
    star_thresholds_set,
    team_add_member,
    team_create,
)

# Activities under way or to come are listed in full (up to this many); ended ones are
# paged, newest first, so that a community's history does not bury what is next.
AHEAD_LIMIT = 100
PAST_PAGE = 20


def _units(request: HttpRequest) -> list[Unit]:
    return [
        u
        for u in scoped(request.user, Unit)
        .filter(kind__in=sorted(GRASSROOTS_KINDS))
        .order_by("path")[:300]
        if can_organize(request.user, u)
    ]


def _posted_unit(request: HttpRequest, raw: str) -> Unit:
    """The community a form names: not an id is refused beside the field, an id out of
    the user's scope is 404."""
    unit_id = key_from_text(raw)
    if unit_id is None:
        raise ValidationError(_("请选择社区/村。"), field="unit")
    return get_scoped_or_404(request.user, Unit, pk=unit_id)


def _announce(request: HttpRequest, form: ActivityForm) -> None:
    data = form.cleaned_data
    team = None
    if (team_id := key_from_text(data["team"])) is not None:
        team = get_scoped_or_404(request.user, Team, pk=team_id)
    activity_create(
        actor=request.user,
        unit=_posted_unit(request, data["unit"]),
        title=data["title"],
        activity_type=data["activity_type"],
        place=data["place"],
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        slots=data["slots"],
        team=team,
        is_party_post=data["is_party_post"],
    )
    messages.success(request, _("志愿活动已发布。"))


def _found_team(request: HttpRequest, form: TeamForm) -> None:
    data = form.cleaned_data
    team_create(actor=request.user, unit=_posted_unit(request, data["unit"]), name=data["name"])
    messages.success(request, _("志愿服务队已成立。"))


def _set_stars(request: HttpRequest, form: StarsForm) -> None:
    unit = _posted_unit(request, form.cleaned_data["unit"])
    star_thresholds_set(actor=request.user, unit=unit, hours=form.hours())
    messages.success(request, _("星级标准已保存。"))


# The forms of the overview, by the ``action`` each posts: the form and what it does.
INDEX_FORMS: dict[str, tuple[type[ServiceForm], Callable[[HttpRequest, Any], None]]] = {
    "activity": (ActivityForm, _announce),
    "team": (TeamForm, _found_team),
    "stars": (StarsForm, _set_stars),
}


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Activities and teams the user sees; forms to announce an activity and to found a
    team; party-member claims; the hours leaderboard and star thresholds of a community.
    A refused form comes back with its messages and what was typed (the other forms
    empty); an accepted one redirects."""
    require_staff(request)
    unit = None
    if (unit_id := key_from_text(request.GET.get("unit", ""))) is not None:
        unit = get_scoped_or_404(request.user, Unit, pk=unit_id)
    units = _units(request)
    community = unit if unit is not None and unit.kind in GRASSROOTS_KINDS else None
    teams = list(team_list(actor=request.user, unit=unit)[:100])
    thresholds = star_hours(community) if community else None
    choices: dict[str, dict[str, Any]] = {
        "activity": {"units": units, "teams": teams},
        "team": {"units": units},
        "stars": {},
    }
    initial: dict[str, dict[str, Any]] = {
        "activity": {"unit": unit.pk if unit else None},
        "team": {},
        "stars": {"unit": unit.pk if unit else None}
        | {f"star{n}": h for n, h in enumerate(thresholds or (), start=1)},
    }
    forms_ = {
        action: form_class(initial=initial[action], **choices[action])
        for action, (form_class, _do) in INDEX_FORMS.items()
    }
    bound: ServiceForm | None = None
    error = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in INDEX_FORMS:
            error, status = _("未知的操作。"), 400
        else:
            form_class, do = INDEX_FORMS[action]
            bound = forms_[action] = form_class(request.POST, **choices[action])
            status = 400
            if bound.is_valid():
                try:
                    do(request, bound)
                except DomainError as exc:
                    status = bound.refuse(exc)
                else:
                    return redirect(request.get_full_path())
    past = Paginator(activity_list(actor=request.user, unit=unit, past=True), PAST_PAGE)
    return render_page(
        request,
        "volunteers/index.html",
        {
            "unit": unit,
            "units": units,
            "activities": activities_ahead(actor=request.user, unit=unit)[:AHEAD_LIMIT],
            "past": past.get_page(request.GET.get("page")),
            "filters": request.GET,
            "teams": teams,
            "claims": party_post_claims(actor=request.user, unit=unit)[:50],
            "board": hours_leaderboard(unit=community) if community else [],
            "thresholds": thresholds,
            "manages": community is not None and can_manage_teams(request.user, community),
            "activity_form": forms_["activity"],
            "team_form": forms_["team"],
            "stars_form": forms_["stars"],
            "bound": bound,
            "error": error,
        },
        fragment="volunteers/_past_activities.html",
        status=status,
    )


# The roster's forms that type something, by the ``action`` each posts; the other
# actions are buttons only.
ROSTER_FORMS: dict[str, type[ServiceForm]] = {"confirm": ConfirmForm, "reject": RejectForm}


@dataclass(frozen=True)
class RosterRow:
    """A sign-up with the forms of its row: the refused one as it was sent (``refused``,
    whose messages about the row as a whole stand beside its buttons), the others as
    new."""

    signup: Signup
    confirm: ServiceForm | None = None
    reject: ServiceForm | None = None
    refused: ServiceForm | None = None


def _roster_row(
    s: Signup, bound: ServiceForm | None, bound_row: tuple[str, int | None]
) -> RosterRow:
    refused = bound if bound is not None and bound_row == ("signup", s.pk) else None
    if s.status != SignupStatus.CHECKED_OUT:
        return RosterRow(s, refused=refused)
    confirm: ServiceForm = ConfirmForm(initial={"minutes": s.minutes}, auto_id=f"confirm-{s.pk}-%s")
    reject: ServiceForm = RejectForm(auto_id=f"reject-{s.pk}-%s")
    if isinstance(refused, ConfirmForm):
        confirm = refused
    elif isinstance(refused, RejectForm):
        reject = refused
    return RosterRow(s, confirm, reject, refused)


@login_required
def activity_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The roster: sign a person up, check them in and out, confirm or reject hours. A
    refused action comes back with its message beside the row (and what was typed
    there); an accepted one redirects."""
    require_staff(request)
    activity = get_scoped_or_404(
        request.user,
        Activity,
        queryset=Activity.objects.select_related("unit", "team", "points_rule"),
        pk=pk,
    )
    organizes = can_organize(request.user, activity.unit)
    bound: ServiceForm | None = None
    bound_row: tuple[str, int | None] = ("", None)
    status = 200
    if request.method == "POST":
        if not organizes:
            raise Http404
        action = request.POST.get("action", "")
        # Sign-up is a row of the search results (a person), the others of the roster.
        kind = "person" if action == "signup" else "signup"
        bound_row = (kind, key_from_text(request.POST.get(kind, "")))
        form_class = ROSTER_FORMS.get(action, RowForm)
        bound = form_class(request.POST, auto_id=f"{action}-{bound_row[1]}-%s")
        status = 400
        if bound.is_valid():
            try:
                _roster_post(request, activity, action, bound.cleaned_data)
            except DomainError as exc:
                status = bound.refuse(exc)
            else:
                return redirect(request.get_full_path())
    q = request.GET.get("q", "").strip()
    found: list[Person] = []
    if q and organizes:
        try:
            found = list(person_search(actor=request.user, q=q).select_related("unit")[:20])
        except DomainError as exc:
            messages.error(request, str(exc.message))
    signups = list(roster(actor=request.user, activity=activity))
    scan_url = request.build_absolute_uri(reverse("volunteers:scan", args=[activity.checkin_token]))
    return render(
        request,
        "volunteers/activity.html",
        {
            "activity": activity,
            "rows": [
                _roster_row(s, bound, bound_row) if organizes else RosterRow(s) for s in signups
            ],
            "organizes": organizes,
            "found": [(p, bound if bound_row == ("person", p.pk) else None) for p in found],
            "bound": bound,
            "q": q,
            "scan_url": scan_url,
            "qr": _qr_svg(scan_url) if organizes else "",
        },
        status=status,
    )


def _roster_post(
    request: HttpRequest, activity: Activity, action: str, data: dict[str, Any]
) -> None:
    post = request.POST
    if action == "signup":
        person = get_scoped_or_404(
            request.user, Person, pk=key_from_text(post.get("person", "")) or 0
        )
        signup_create(actor=request.user, activity=activity, person=person)
        return
    signup = get_scoped_or_404(
        request.user,
        Signup,
        queryset=Signup.objects.select_related("activity__unit", "person"),
        pk=key_from_text(post.get("signup", "")) or 0,
        activity=activity,
    )
    if action == "check_in":
        check_in(actor=request.user, signup=signup)
    elif action == "check_out":
        check_out(actor=request.user, signup=signup)
    elif action == "confirm":
        signup_confirm(actor=request.user, signup=signup, minutes=data["minutes"])
    elif action == "reject":
        signup_reject(actor=request.user, signup=signup, note=data["note"])
    elif action == "cancel":
        signup_cancel(actor=request.user, signup=signup)
    else:
        raise ValidationError(_("未知的操作。"), field="action")


def _qr_svg(text: str) -> str:
    import segno

    return segno.make(text, error="m").svg_inline(scale=5, dark="#111", light="#fff")


@login_required
def team_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A team's members; a found resident is added with a button, and a refusal is told
    beside that button."""
    require_staff(request)
    team = get_scoped_or_404(
        request.user, Team, queryset=Team.objects.select_related("unit", "leader"), pk=pk
    )
    manages = can_manage_teams(request.user, team.unit)
    bound: RowForm | None = None
    bound_person = None
    status = 200
    if request.method == "POST":
        if not manages:
            raise Http404
        bound_person = key_from_text(request.POST.get("person", ""))
        person = get_scoped_or_404(request.user, Person, pk=bound_person or 0)
        bound = RowForm(request.POST)
        try:
            team_add_member(actor=request.user, team=team, person=person)
        except DomainError as exc:
            status = bound.refuse(exc)
        else:
            return redirect(request.get_full_path())
    q = request.GET.get("q", "").strip()
    found: list[Person] = []
    if q and manages:
        try:
            found = list(person_search(actor=request.user, q=q).select_related("unit")[:20])
        except DomainError as exc:
            messages.error(request, str(exc.message))
    members = (
        team.members.filter(left_on__isnull=True)
        .select_related("person__unit")
        .order_by("joined_on")
    )
    return render(
        request,
        "volunteers/team.html",
        {
            "team": team,
            "members": members,
            "manages": manages,
            "found": [(p, bound if p.pk == bound_person else None) for p in found],
            "bound": bound,
            "q": q,
        },
        status=status,
    )


# --- Residents ----------------------------------------------------------------------------


@login_required
def my_volunteering(request: HttpRequest) -> HttpResponse:
    """My hours and star level, activities I can join, my sign-ups. A refused sign-up or
    cancellation is told on the page, beside its button."""
    person = own_person(actor=request.user)
    bound: RowForm | None = None
    bound_row: tuple[str, int | None] = ("", None)
    status = 200
    if request.method == "POST" and person is not None:
        cancelling = request.POST.get("action") == "cancel"
        kind = "signup" if cancelling else "activity"
        bound_row = (kind, key_from_text(request.POST.get(kind, "")))
        bound = RowForm(request.POST)
        try:
            if cancelling:
                signup = get_scoped_or_404(
                    request.user,
                    Signup,
                    queryset=Signup.objects.select_related("activity__unit", "person"),
                    pk=bound_row[1] or 0,
                )
                signup_cancel(actor=request.user, signup=signup)
                messages.success(request, _("已取消报名。"))
            else:
                activity = get_scoped_or_404(request.user, Activity, pk=bound_row[1] or 0)
                signup_create(actor=request.user, activity=activity, person=person)
                messages.success(request, _("报名成功。"))
        except DomainError as exc:
            status = bound.refuse(exc)
        else:
            return redirect("volunteers:mine")
    activities = activities_to_join(actor=request.user) if person else []
    signups = my_signups(actor=request.user)[:50] if person else []
    return render(
        request,
        "volunteers/mine.html",
        {
            "person": person,
            "community": community_of(person.unit) if person else None,
            "standing": standing(person) if person else None,
            "activities": [
                (a, bound if bound_row == ("activity", a.pk) else None) for a in activities
            ],
            "signups": [(s, bound if bound_row == ("signup", s.pk) else None) for s in signups],
            "bound": bound,
        },
        status=status,
    )


@login_required
def scan_page(request: HttpRequest, token: str) -> HttpResponse:
    """What the QR code at the place opens: check in, and later check out. A refused scan
    is told on the page."""
    activity = Activity.objects.filter(checkin_token=token[:32]).only("title", "place").first()
    if activity is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            signup = scan(actor=request.user, token=token)
        except DomainError as exc:
            error = str(exc.message)
        else:
            if signup.checked_out_at:
                messages.success(
                    request,
                    _("签退成功，本次服务 %(minutes)d 分钟，待组织者确认。")
                    % {"minutes": signup.minutes},
                )
            else:
                messages.success(request, _("签到成功。"))
            return redirect("volunteers:scan", token=token)
    return render(
        request,
        "volunteers/scan.html",
        {"activity": activity, "error": error},
        status=400 if error else 200,
    )


def public_leaderboard(request: HttpRequest, unit_pk: int) -> HttpResponse:
    """A community's volunteers by confirmed hours with their star level, open to all:
    masked names, hours and stars only."""
    unit = get_object_or_404(Unit, pk=unit_pk, kind__in=sorted(GRASSROOTS_KINDS))
    return render(
        request,
        "volunteers/leaderboard.html",
        {
            "unit": unit,
            "board": hours_leaderboard(unit=unit, limit=20),
            "thresholds": star_hours(unit),
        },
    )
