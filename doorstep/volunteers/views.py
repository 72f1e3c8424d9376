"""Volunteer pages: the organizer's activities and teams, an activity's roster with
check-in, check-out and confirmation, the QR code posted at the place; the resident's
standing, activities to join and sign-ups; the page the place's QR code opens."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.rules import require_staff
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import timeutils
from doorstep.core.errors import DomainError
from doorstep.core.inputs import key_from_text
from doorstep.core.pages import render_page
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.selectors import own_person, person_search
from doorstep.points.choices import ActivityType
from doorstep.points.services import community_of

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


def _local_datetime(value: str, field: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        from doorstep.core.errors import ValidationError

        raise ValidationError(_("时间格式不正确。"), field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timeutils.LOCAL_TZ)
    return moment


def _units(request: HttpRequest) -> list[Unit]:
    return [
        u
        for u in scoped(request.user, Unit)
        .filter(kind__in=sorted(GRASSROOTS_KINDS))
        .order_by("path")[:300]
        if can_organize(request.user, u)
    ]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Activities and teams the user sees; forms to announce an activity and to found a
    team; party-member claims; the hours leaderboard and star thresholds of a community."""
    require_staff(request)
    unit = None
    if (unit_id := key_from_text(request.GET.get("unit", ""))) is not None:
        unit = get_scoped_or_404(request.user, Unit, pk=unit_id)
    error = ""
    if request.method == "POST":
        try:
            _index_post(request)
        except DomainError as exc:
            error = str(exc.message)
        else:
            return redirect(request.get_full_path())
    units = _units(request)
    community = unit if unit is not None and unit.kind in GRASSROOTS_KINDS else None
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
            "teams": team_list(actor=request.user, unit=unit)[:100],
            "claims": party_post_claims(actor=request.user, unit=unit)[:50],
            "activity_types": ActivityType.choices,
            "board": hours_leaderboard(unit=community) if community else [],
            "thresholds": star_hours(community) if community else None,
            "manages": community is not None and can_manage_teams(request.user, community),
            "error": error,
        },
        fragment="volunteers/_past_activities.html",
    )


def _index_post(request: HttpRequest) -> None:
    post = request.POST
    unit_id = key_from_text(post.get("unit", ""))
    if unit_id is None:
        from doorstep.core.errors import ValidationError

        raise ValidationError(_("请选择社区/村。"), field="unit")
    unit = get_scoped_or_404(request.user, Unit, pk=unit_id)
    action = post.get("action")
    if action == "activity":
        team = None
        if (team_id := key_from_text(post.get("team", ""))) is not None:
            team = get_scoped_or_404(request.user, Team, pk=team_id)
        activity_create(
            actor=request.user,
            unit=unit,
            title=post.get("title", ""),
            activity_type=post.get("activity_type", ""),
            place=post.get("place", ""),
            starts_at=_local_datetime(post.get("starts_at", ""), "starts_at"),
            ends_at=_local_datetime(post.get("ends_at", ""), "ends_at"),
            slots=post.get("slots", ""),
            team=team,
            is_party_post=post.get("is_party_post") == "on",
        )
        messages.success(request, _("志愿活动已发布。"))
    elif action == "team":
        team_create(actor=request.user, unit=unit, name=post.get("name", ""))
        messages.success(request, _("志愿服务队已成立。"))
    elif action == "stars":
        star_thresholds_set(
            actor=request.user, unit=unit, hours=[post.get(f"star{i}", "") for i in range(1, 6)]
        )
        messages.success(request, _("星级标准已保存。"))


@login_required
def activity_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The roster: sign a person up, check them in and out, confirm or reject hours."""
    require_staff(request)
    activity = get_scoped_or_404(
        request.user,
        Activity,
        queryset=Activity.objects.select_related("unit", "team", "points_rule"),
        pk=pk,
    )
    organizes = can_organize(request.user, activity.unit)
    if request.method == "POST":
        if not organizes:
            raise Http404
        try:
            _roster_post(request, activity)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("volunteers:activity", pk=pk)
    q = request.GET.get("q", "").strip()
    found: list[Person] = []
    if q and organizes:
        try:
            found = list(person_search(actor=request.user, q=q).select_related("unit")[:20])
        except DomainError as exc:
            messages.error(request, str(exc.message))
    scan_url = request.build_absolute_uri(reverse("volunteers:scan", args=[activity.checkin_token]))
    return render(
        request,
        "volunteers/activity.html",
        {
            "activity": activity,
            "signups": roster(actor=request.user, activity=activity),
            "organizes": organizes,
            "found": found,
            "q": q,
            "scan_url": scan_url,
            "qr": _qr_svg(scan_url) if organizes else "",
        },
    )


def _roster_post(request: HttpRequest, activity: Activity) -> None:
    post = request.POST
    action = post.get("action", "")
    if action == "signup":
        person = get_scoped_or_404(request.user, Person, pk=post.get("person") or 0)
        signup_create(actor=request.user, activity=activity, person=person)
        return
    signup = get_scoped_or_404(
        request.user,
        Signup,
        queryset=Signup.objects.select_related("activity__unit", "person"),
        pk=post.get("signup") or 0,
        activity=activity,
    )
    if action == "check_in":
        check_in(actor=request.user, signup=signup)
    elif action == "check_out":
        check_out(actor=request.user, signup=signup)
    elif action == "confirm":
        signup_confirm(actor=request.user, signup=signup, minutes=post.get("minutes", ""))
    elif action == "reject":
        signup_reject(actor=request.user, signup=signup, note=post.get("note", ""))
    elif action == "cancel":
        signup_cancel(actor=request.user, signup=signup)


def _qr_svg(text: str) -> str:
    import segno

    return segno.make(text, error="m").svg_inline(scale=5, dark="#111", light="#fff")


@login_required
def team_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff(request)
    team = get_scoped_or_404(
        request.user, Team, queryset=Team.objects.select_related("unit", "leader"), pk=pk
    )
    manages = can_manage_teams(request.user, team.unit)
    if request.method == "POST":
        if not manages:
            raise Http404
        try:
            person = get_scoped_or_404(request.user, Person, pk=request.POST.get("person") or 0)
            team_add_member(actor=request.user, team=team, person=person)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("volunteers:team", pk=pk)
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
        {"team": team, "members": members, "manages": manages, "found": found, "q": q},
    )


# --- Residents ----------------------------------------------------------------------------


@login_required
def my_volunteering(request: HttpRequest) -> HttpResponse:
    """My hours and star level, activities I can join, my sign-ups."""
    person = own_person(actor=request.user)
    if request.method == "POST" and person is not None:
        try:
            if request.POST.get("action") == "cancel":
                signup = get_scoped_or_404(
                    request.user,
                    Signup,
                    queryset=Signup.objects.select_related("activity__unit", "person"),
                    pk=request.POST.get("signup") or 0,
                )
                signup_cancel(actor=request.user, signup=signup)
                messages.success(request, _("已取消报名。"))
            else:
                activity = get_scoped_or_404(
                    request.user, Activity, pk=request.POST.get("activity") or 0
                )
                signup_create(actor=request.user, activity=activity, person=person)
                messages.success(request, _("报名成功。"))
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect("volunteers:mine")
    return render(
        request,
        "volunteers/mine.html",
        {
            "person": person,
            "community": community_of(person.unit) if person else None,
            "standing": standing(person) if person else None,
            "activities": activities_to_join(actor=request.user) if person else [],
            "signups": my_signups(actor=request.user)[:50] if person else [],
        },
    )


@login_required
def scan_page(request: HttpRequest, token: str) -> HttpResponse:
    """What the QR code at the place opens: check in, and later check out."""
    activity = Activity.objects.filter(checkin_token=token[:32]).only("title", "place").first()
    if activity is None:
        raise Http404
    if request.method == "POST":
        try:
            signup = scan(actor=request.user, token=token)
        except DomainError as exc:
            messages.error(request, str(exc.message))
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
    return render(request, "volunteers/scan.html", {"activity": activity})


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
