"""Site pages. Resident (phone): sites near me on a map and as a list, a site with its
hours, services and amenities, booking a room or an appointment, asking for proxy
service, my bookings and requests. Staff (console): the site directory, a site's hours
and calendar, rooms and bookings, requests queue, programs and attendance, partners and
settlements, the coverage map with planning mode, and the circle's settings.

Views call selectors and services only; protected rows come through the scoping
checkpoint, and a row out of scope is 404.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.accounts.rules import is_staff_user
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import timeutils
from doorstep.core.errors import DomainError, ValidationError
from doorstep.core.pages import render_page
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.models import Unit
from doorstep.people.models import Person

from . import hours
from .choices import DAY_NAMES, OPEN_STATUSES, TRANSITIONS, RequestMode, RequestStatus, SiteLevel
from .forms import (
    AppointmentForm,
    BookingForm,
    CalendarForm,
    CircleForm,
    ClosureForm,
    HoursForm,
    NearForm,
    NetworkForm,
    ProxyForm,
    SettlementForm,
)
from .models import (
    AppointmentSlot,
    Booking,
    CircleSettings,
    Enrolment,
    HolidayDay,
    Partner,
    Program,
    RevenueShare,
    RoadNetwork,
    ServiceCategory,
    ServiceRequest,
    Settlement,
    Site,
)
from .rules import can_configure_sites, can_manage_site, is_site_manager
from .selectors import (
    Candidate,
    circle_report,
    person_times,
    public_site,
    site_list,
    sites_near,
)
from .services import (
    attendance_mark,
    booking_cancel,
    booking_create,
    circle_settings_update,
    holiday_calendar_load,
    program_enrol,
    program_withdraw,
    request_documents_mark,
    request_submit,
    request_transition,
    road_network_load,
    settlement_issue,
    site_closure_add,
    site_hours_set,
)


def tile_url() -> str:
    return str(
        getattr(settings, "DOORSTEP_MAP_TILE_URL", "")
        or getattr(settings, "DOORSTEP", {}).get("MAP_TILE_URL", "")
    )


def _error(request: HttpRequest, exc: DomainError) -> None:
    if isinstance(exc, ValidationError):
        for messages_ in exc.errors.values():
            for message in messages_:
                messages.error(request, str(message))
    else:
        messages.error(request, str(exc.message))


def home_point(user: Any) -> tuple[float, float] | None:
    """The resident's compound (or the nearest unit above it with coordinates)."""
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    household = getattr(person, "household", None) if person is not None else None
    if household is None:
        return None
    from doorstep.core.tree import ancestor_paths

    for lat, lng in (
        Unit.objects.filter(path__in=ancestor_paths(household.unit.path))
        .order_by("-path")
        .values_list("lat", "lng")
    ):
        if lat is not None and lng is not None:
            return lat, lng
    return None


# --- Resident pages ----------------------------------------------------------------------


def near(request: HttpRequest) -> HttpResponse:
    form = NearForm(request.GET or None)
    point: tuple[float, float] | None = None
    error = ""
    rows: list[Any] = []
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if data.get("lat") is not None and data.get("lng") is not None:
        from .services import location_from_input

        try:
            point = location_from_input(data["lat"], data["lng"], data.get("datum") or "wgs84")
        except ValidationError as exc:
            error = str(exc.message)
    elif data.get("home") or not request.GET:
        point = home_point(request.user)
    if point is not None:
        rows = sites_near(
            lat=point[0], lng=point[1], level=data.get("level", ""),
            category=data.get("category", ""), open_now=bool(data.get("open_now")),
        )  # fmt: skip
    map_data = {
        "tileUrl": tile_url(),
        "center": list(point) if point else None,
        "sites": [
            {"id": r.site.pk, "name": r.site.name, "lat": r.site.lat, "lng": r.site.lng,
             "open": r.state.is_open, "url": f"/sites/{r.site.pk}/"}
            for r in rows
        ],
    }  # fmt: skip
    return render(
        request,
        "sites/near.html",
        {
            "form": form,
            "rows": rows,
            "point": point,
            "error": error,
            "map_data": map_data,
            "categories": ServiceCategory.objects.filter(is_active=True),
            "has_home": home_point(request.user) is not None,
        },
        status=400 if error else 200,
    )


def site_page(request: HttpRequest, pk: int) -> HttpResponse:
    site = public_site(pk)
    if site is None:
        raise Http404
    moment = timeutils.now()
    state = hours.site_state(site, moment)
    forms_: dict[str, Any] = {
        "booking": BookingForm(prefix="b"),
        "proxy": ProxyForm(prefix="p"),
    }
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{settings.LOGIN_URL}?next=/sites/{pk}/")
        action = request.POST.get("action", "")
        try:
            if action == "book":
                form = forms_["booking"] = BookingForm(request.POST, prefix="b")
                if form.is_valid():
                    d = form.cleaned_data
                    booking_create(
                        actor=request.user, room_id=d["room"],
                        starts_at=dt.datetime.combine(d["date"], d["starts"], tzinfo=LOCAL_TZ),
                        ends_at=dt.datetime.combine(d["date"], d["ends"], tzinfo=LOCAL_TZ),
                        purpose=d["purpose"], attendees=d["attendees"],
                    )  # fmt: skip
                    messages.success(request, _("预订成功。"))
                    return redirect("sites:mine")
            elif action == "appoint":
                appoint = AppointmentForm(request.POST)
                if appoint.is_valid():
                    slot = AppointmentSlot.objects.filter(
                        pk=appoint.cleaned_data["slot"], site=site
                    ).first()
                    if slot is None:
                        raise ValidationError(_("该阵地没有这个预约时段。"), field="slot")
                    request_submit(
                        actor=request.user, site_id=site.pk, category=slot.category.code,
                        mode=RequestMode.APPOINTMENT, matter=slot.service, slot_id=slot.pk,
                    )  # fmt: skip
                    messages.success(request, _("预约成功。"))
                    return redirect("sites:mine")
            elif action == "proxy":
                proxy = forms_["proxy"] = ProxyForm(request.POST, prefix="p")
                if proxy.is_valid():
                    d = proxy.cleaned_data
                    request_submit(
                        actor=request.user, site_id=site.pk, category=d["category"],
                        mode=RequestMode.PROXY, matter=d["matter"], documents=proxy.document_list(),
                    )  # fmt: skip
                    messages.success(request, _("代办申请已提交。"))
                    return redirect("sites:mine")
        except DomainError as exc:
            _error(request, exc)
    slots = AppointmentSlot.objects.filter(site=site, starts_at__gt=moment).order_by("starts_at")[
        :30
    ]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "sites/site.html",
        {
            "site": site,
            "state": state,
            "week": _week(site),
            "rooms": site.rooms.filter(is_active=True, bookable_by_residents=True).prefetch_related(
                "functions"
            ),
            "slots": slots,
            "services": site.partner_services.filter(is_active=True).select_related(
                "partner", "category"
            ),
            "forms": forms_,
            "categories": site.categories.all() or ServiceCategory.objects.filter(is_active=True),
            "map_data": {
                "tileUrl": tile_url(),
                "center": [site.lat, site.lng],
                "sites": [
                    {
                        "id": site.pk,
                        "name": site.name,
                        "lat": site.lat,
                        "lng": site.lng,
                        "open": state.is_open,
                        "url": "",
                    }
                ],
            },
        },
        status=status,
    )


def _week(site: Site) -> list[dict[str, Any]]:
    rows = []
    for day in range(8):
        spans = [h for h in site.hours.all() if h.day == day]
        rows.append({"label": DAY_NAMES[day], "spans": spans})
    return rows


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    bookings = (
        scoped(request.user, Booking)
        .filter(booked_by_id=request.user.pk)
        .select_related("room__site")
        .order_by("-starts_at")[:100]
    )
    requests_ = (
        scoped(request.user, ServiceRequest)
        .filter(requester_id=request.user.pk)
        .select_related("site", "category", "slot")
        .order_by("-created_at")[:100]
    )
    return render(
        request,
        "sites/mine.html",
        {"bookings": bookings, "requests": requests_, "now": timeutils.now()},
    )


@login_required
@require_POST
def mine_cancel(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    try:
        if kind == "booking":
            if (
                not scoped(request.user, Booking)
                .filter(pk=pk, booked_by_id=request.user.pk)
                .exists()
            ):
                raise Http404
            booking_cancel(actor=request.user, booking_id=pk)
        else:
            if (
                not scoped(request.user, ServiceRequest)
                .filter(pk=pk, requester_id=request.user.pk)
                .exists()
            ):
                raise Http404
            request_transition(actor=request.user, request_id=pk, to_status=RequestStatus.CANCELLED)
        messages.success(request, _("已取消。"))
    except DomainError as exc:
        _error(request, exc)
    return redirect("sites:mine")


# --- Console pages -------------------------------------------------------------------------


def _staff(request: HttpRequest) -> None:
    if not is_staff_user(request.user):
        raise Http404


@login_required
def console_index(request: HttpRequest) -> HttpResponse:
    _staff(request)
    level = request.GET.get("level", "")
    qs = site_list(actor=request.user, level=level if level in SiteLevel.values else "")
    if q := request.GET.get("q", "").strip():
        qs = qs.filter(Q(name__contains=q) | Q(address__contains=q))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    units = (
        scoped(request.user, Unit)
        .filter(kind__in=["street", "town", "community", "village", "district", "county", "city"])
        .order_by("path")[:50]
    )
    return render_page(
        request,
        "sites/console_index.html",
        {
            "page": page,
            "filters": request.GET,
            "levels": SiteLevel.choices,
            "units": units,
            "configure": can_configure_sites(request.user),
        },
        fragment="sites/_site_rows.html",
    )


def _managed_site(request: HttpRequest, pk: int) -> tuple[Site, bool]:
    _staff(request)
    site = get_scoped_or_404(
        request.user, Site, Site.objects.select_related("unit", "parent"), pk=pk
    )
    return site, can_manage_site(request.user, site)


@login_required
def console_site(request: HttpRequest, pk: int) -> HttpResponse:
    site, manages = _managed_site(request, pk)
    hours_form = HoursForm(
        initial={"schedule": "\n".join(
            f"{h.day + 1} {h.opens:%H:%M} {h.closes:%H:%M}" + (" 延时" if h.extended else "")
            for h in site.hours.all()
        )}
    )  # fmt: skip
    closure_form = ClosureForm()
    if request.method == "POST":
        if not manages:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "hours":
                hours_form = HoursForm(request.POST)
                if hours_form.is_valid():
                    site_hours_set(
                        actor=request.user,
                        site=site,
                        intervals=_parse_schedule(hours_form.cleaned_data["schedule"]),
                    )
                    messages.success(request, _("开放时间已保存。"))
                    return redirect("sites:console-site", pk=site.pk)
            elif action == "closure":
                closure_form = ClosureForm(request.POST)
                if closure_form.is_valid():
                    d = closure_form.cleaned_data
                    site_closure_add(
                        actor=request.user, site=site, starts_on=d["starts_on"], ends_on=d["ends_on"],
                        reason=d["reason"], opens=d["opens"], closes=d["closes"],
                    )  # fmt: skip
                    messages.success(request, _("已添加。"))
                    return redirect("sites:console-site", pk=site.pk)
        except DomainError as exc:
            _error(request, exc)
    moment = timeutils.now()
    today = moment.astimezone(LOCAL_TZ).date()
    year_start = dt.date(today.year, 1, 1)
    bookings = (
        scoped(request.user, Booking)
        .filter(room__site=site, ends_at__gte=moment, status="confirmed")
        .select_related("room", "booked_by")
        .order_by("starts_at")[:50]
    )
    queue = (
        scoped(request.user, ServiceRequest)
        .filter(site=site, status__in=sorted(OPEN_STATUSES))
        .select_related("category", "slot", "person")
        .order_by("created_at")[:100]
    )
    totals = [
        row for row in person_times(actor=request.user, start=year_start, end=today, by="site")
        if row["key"] == site.pk
    ]  # fmt: skip
    return render(
        request,
        "sites/console_site.html",
        {
            "site": site,
            "manages": manages,
            "state": hours.site_state(site, moment),
            "week": _week(site),
            "closures": site.closures.filter(ends_on__gte=today).order_by("starts_on"),
            "hours_form": hours_form,
            "closure_form": closure_form,
            "rooms": site.rooms.all(),
            "bookings": bookings,
            "queue": [(r, sorted(TRANSITIONS.get(r.mode, {}).get(r.status, set()))) for r in queue],
            "status_labels": dict(RequestStatus.choices),
            "programs": scoped(request.user, Program).filter(site=site).order_by("-starts_on"),
            "services": site.partner_services.select_related("partner", "category"),
            "person_times": totals[0]["person_times"] if totals else 0,
            "year": today.year,
        },
        status=400 if request.method == "POST" else 200,
    )


def _parse_schedule(text: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (3, 4) or not parts[0].isdigit() or not 1 <= int(parts[0]) <= 8:
            raise ValidationError(_("第 %(n)d 行格式不对。") % {"n": number}, field="hours")
        out.append((int(parts[0]) - 1, parts[1], parts[2], len(parts) == 4))
    return out


@login_required
@require_POST
def console_request(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    req = get_scoped_or_404(request.user, ServiceRequest, pk=pk)
    try:
        if request.POST.get("action") == "documents":
            request_documents_mark(
                actor=request.user, request_id=pk, received=request.POST.getlist("received")
            )
        else:
            request_transition(
                actor=request.user, request_id=pk, to_status=request.POST.get("to", ""),
                note=request.POST.get("note", ""),
            )  # fmt: skip
        messages.success(request, _("已更新。"))
    except DomainError as exc:
        _error(request, exc)
    return redirect("sites:console-site", pk=req.site_id)


@login_required
def console_program(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    program = get_scoped_or_404(
        request.user, Program, Program.objects.select_related("site"), pk=pk
    )
    today = timeutils.now().astimezone(LOCAL_TZ).date()
    if request.method == "POST" and request.POST.get("action") in ("enrol", "withdraw"):
        try:
            if request.POST["action"] == "enrol":
                raw = request.POST.get("person", "")
                if not raw.isdigit():
                    raise ValidationError(_("请填写人员编号。"), field="person")
                person = get_scoped_or_404(request.user, Person, pk=int(raw))
                program_enrol(actor=request.user, program_id=program.pk, person=person)
                messages.success(request, _("已报名。"))
            else:
                raw = request.POST.get("enrolment", "")
                program_withdraw(actor=request.user, enrolment_id=int(raw) if raw.isdigit() else 0)
                messages.success(request, _("已退出。"))
            return redirect("sites:console-program", pk=program.pk)
        except DomainError as exc:
            _error(request, exc)
    elif request.method == "POST":
        try:
            day = dt.date.fromisoformat(request.POST.get("date", ""))
        except ValueError:
            messages.error(request, _("日期无效。"))
        else:
            try:
                ids = [int(x) for x in request.POST.getlist("present") if x.isdigit()]
                n = attendance_mark(
                    actor=request.user, program_id=program.pk, date=day, enrolment_ids=ids
                )
                messages.success(request, _("已记出勤 %(n)d 人。") % {"n": n})
                return redirect("sites:console-program", pk=program.pk)
            except DomainError as exc:
                _error(request, exc)
    enrolments = (
        scoped(request.user, Enrolment)
        .filter(program=program, status="active")
        .select_related("person")
        .order_by("person__name")
    )
    totals = program.records.aggregate(sessions=Count("id"), person_times=Sum("person_times"))
    return render(
        request,
        "sites/console_program.html",
        {
            "program": program,
            "enrolments": enrolments,
            "today": today,
            "sessions": totals["sessions"],
            "person_times": totals["person_times"] or 0,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def console_partners(request: HttpRequest) -> HttpResponse:
    _staff(request)
    if request.method == "POST":
        form = SettlementForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                settlement_issue(
                    actor=request.user, agreement_id=d["agreement"], period_start=d["period_start"],
                    period_end=d["period_end"],
                )  # fmt: skip
                messages.success(request, _("结算单已出具。"))
                return redirect("sites:console-partners")
            except DomainError as exc:
                _error(request, exc)
        else:
            messages.error(request, _("请填写结算期间。"))
    partners = scoped(request.user, Partner).select_related("unit").order_by("unit__path", "name")
    agreements = (
        scoped(request.user, RevenueShare)
        .select_related("partner", "site")
        .order_by("partner__name")
    )
    settlements = scoped(request.user, Settlement).select_related(
        "agreement__partner", "agreement__site"
    )[:100]
    return render(
        request,
        "sites/console_partners.html",
        {
            "partners": partners[:200],
            "agreements": agreements[:200],
            "settlements": settlements,
            "can_issue": is_site_manager(request.user),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def console_coverage(request: HttpRequest, unit_pk: int) -> HttpResponse:
    _staff(request)
    unit = get_scoped_or_404(request.user, Unit, pk=unit_pk)
    if not is_site_manager(request.user):
        raise Http404
    params = request.GET
    level = params.get("level", "") if params.get("level", "") in SiteLevel.values else ""
    category = params.get("category", "")
    open_at = None
    if params.get("at21"):
        open_at = dt.datetime.combine(
            timeutils.now().astimezone(LOCAL_TZ).date(), dt.time(21), tzinfo=LOCAL_TZ
        )
    candidate = None
    error = ""
    if params.get("cand_lat") and params.get("cand_lng"):
        try:
            candidate = Candidate(
                lat=float(params["cand_lat"]), lng=float(params["cand_lng"]),
                level=params.get("cand_level") or SiteLevel.HOME,
                categories=tuple(params.getlist("cand_category")) or ((category,) if category else ()),
            )  # fmt: skip
        except ValueError:
            error = _("候选点坐标必须是数字。")
    try:
        report = circle_report(unit=unit, level=level, category=category, open_at=open_at)
        planned = (
            circle_report(unit=unit, level=level, category=category, open_at=open_at, candidate=candidate)
            if candidate is not None else None
        )  # fmt: skip
    except ValidationError as exc:
        error = str(exc.message)
        report = circle_report(unit=unit, level=level, category=category, open_at=open_at)
        planned = None
    shown = planned or report
    return render(
        request,
        "sites/console_coverage.html",
        {
            "unit": unit,
            "report": report,
            "planned": planned,
            "error": error,
            "filters": params,
            "levels": SiteLevel.choices,
            "categories": ServiceCategory.objects.filter(is_active=True),
            "map_data": {
                "tileUrl": tile_url(),
                "boundary": unit.boundary,
                "center": [unit.lat, unit.lng] if unit.lat is not None else None,
                "points": shown.points[:20000],
                "sites": shown.sites,
                "candidate": [candidate.lat, candidate.lng] if candidate else None,
                "reachM": shown.walk.reach_m,
            },
        },
        status=400 if error else 200,
    )


@login_required
def console_settings(request: HttpRequest) -> HttpResponse:
    _staff(request)
    if not can_configure_sites(request.user):
        raise Http404
    row = CircleSettings.objects.first()
    circle_form = CircleForm(
        initial={"walking_speed_m_per_min": row.walking_speed_m_per_min if row else 75.0,
                 "detour_factor": row.detour_factor if row else 1.3, "minutes": row.minutes if row else 15}
    )  # fmt: skip
    calendar_form = CalendarForm()
    network_form = NetworkForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "calendar":
                calendar_form = CalendarForm(request.POST, request.FILES)
                if calendar_form.is_valid():
                    upload = calendar_form.cleaned_data["file"]
                    n = holiday_calendar_load(
                        actor=request.user, year=calendar_form.cleaned_data["year"],
                        content=upload.read(200_001), filename=upload.name, request=request,
                    )  # fmt: skip
                    messages.success(request, _("已载入 %(n)d 天。") % {"n": n})
                    return redirect("sites:console-settings")
            elif action == "network":
                network_form = NetworkForm(request.POST, request.FILES)
                if network_form.is_valid():
                    upload = network_form.cleaned_data["file"]
                    suffix = Path(upload.name).suffix.lower()
                    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
                        for chunk in upload.chunks():
                            handle.write(chunk)
                        handle.flush()
                        road_network_load(
                            actor=request.user, name=network_form.cleaned_data["name"],
                            filename=upload.name, path=handle.name, request=request,
                        )  # fmt: skip
                    messages.success(request, _("路网已载入。"))
                    return redirect("sites:console-settings")
            elif action == "circle":
                circle_form = CircleForm(request.POST)
                if circle_form.is_valid():
                    circle_settings_update(actor=request.user, **circle_form.cleaned_data)
                    messages.success(request, _("参数已保存。"))
                    return redirect("sites:console-settings")
        except DomainError as exc:
            _error(request, exc)
    today = timeutils.now().astimezone(LOCAL_TZ).date()
    return render(
        request,
        "sites/console_settings.html",
        {
            "calendar_form": calendar_form,
            "network_form": network_form,
            "circle_form": circle_form,
            "days": HolidayDay.objects.filter(date__year=today.year),
            "year": today.year,
            "networks": RoadNetwork.objects.defer("data")[:10],
        },
        status=400 if request.method == "POST" else 200,
    )
