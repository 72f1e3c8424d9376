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
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from doorstep.accounts.rules import is_staff_user
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import timeutils
from doorstep.core.errors import DomainError, NotFound, ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.core.pages import render_page, xlsx_response
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.selectors import mask_name

from . import hours
from .choices import (
    DAY_NAMES,
    OPEN_STATUSES,
    TRANSITIONS,
    BookingStatus,
    EnrolmentStatus,
    RequestMode,
    RequestStatus,
    SiteLevel,
)
from .forms import (
    AgreementForm,
    AppointmentForm,
    BookingForm,
    CalendarForm,
    CircleForm,
    ClosureForm,
    DeskForm,
    EnrolForm,
    HoursForm,
    NearForm,
    NetworkForm,
    PartnerEditForm,
    PartnerForm,
    PartnerServiceForm,
    ProgramEditForm,
    ProgramForm,
    ProxyForm,
    ReportForm,
    RoomForm,
    SettlementForm,
    SiteEditForm,
    SiteForm,
    SlotForm,
    VoidForm,
)
from .models import (
    AppointmentSlot,
    Booking,
    CircleSettings,
    Enrolment,
    HolidayDay,
    Partner,
    PartnerService,
    Program,
    RevenueShare,
    RoadNetwork,
    ServiceCategory,
    ServiceRequest,
    Settlement,
    Site,
    SiteEvent,
)
from .rules import can_configure_sites, can_manage_site, is_site_manager
from .selectors import (
    DESK_CANDIDATES,
    Candidate,
    circle_report,
    desk_people,
    desk_person,
    household_persons,
    my_requests,
    person_times,
    public_programs,
    public_site,
    site_list,
    site_slot,
    sites_near,
)
from .services import (
    LEVEL_UNIT_KINDS,
    attendance_mark,
    booking_cancel,
    booking_create,
    circle_settings_update,
    holiday_calendar_load,
    partner_create,
    partner_service_create,
    partner_update,
    program_create,
    program_enrol,
    program_self_enrol,
    program_self_withdraw,
    program_update,
    program_withdraw,
    request_documents_mark,
    request_submit,
    request_transition,
    request_void,
    request_voidable,
    revenue_share_create,
    road_network_load,
    room_create,
    room_update,
    settlement_issue,
    site_closure_add,
    site_create,
    site_hours_set,
    site_update,
    slot_create,
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


# Service field names that a console form shows under another name.
FIELD_ALIASES = {"location": "lat", "starts_at": "starts", "ends_at": "ends",
                 "partner_share_bp": "partner_share_percent", "price_fen": "price_yuan"}  # fmt: skip


def _to_form(request: HttpRequest, form: Any, exc: DomainError) -> None:
    """A refused service call shown on its form: each message beside the field it names
    and in the summary above the form; a message about no field of the form in that
    summary too, so that it stands by the form that was sent. With no form, the page's
    messages."""
    errors = exc.errors if isinstance(exc, ValidationError) else {exc.field: [exc.message]}
    for field, messages_ in errors.items():
        name = FIELD_ALIASES.get(field or "", field)
        for message in messages_:
            if form is None:
                messages.error(request, str(message))
            else:
                form.add_error(name if name in form.fields else None, str(message))


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
            # LOGIN_URL is a URL name: redirect_to_login resolves it (a bare f-string
            # made the redirect "accounts:login?next=…", refused as unsafe).
            return redirect_to_login(f"/sites/{pk}/")
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
                # The slot and the key come with the page, not from the person: a form
                # without them (or with garbage in them) names no slot of this site.
                valid = appoint.is_valid()
                slot = site_slot(site.pk, appoint.cleaned_data["slot"]) if valid else None
                if slot is None:
                    raise ValidationError(_("该阵地没有这个预约时段。"), field="slot")
                request_submit(
                    actor=request.user, site_id=site.pk, category=slot.category.code,
                    mode=RequestMode.APPOINTMENT, matter=slot.service, slot_id=slot.pk,
                    idempotency_key=appoint.cleaned_data["key"],
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
                        idempotency_key=d["key"],
                    )  # fmt: skip
                    messages.success(request, _("代办申请已提交。"))
                    return redirect("sites:mine")
            elif action == "enrol":
                enrol = EnrolForm(request.POST)
                if not enrol.is_valid():
                    raise ValidationError(_("请选择报名人。"), field="person")
                offered = public_programs(site, today=_today()).filter(
                    pk=enrol.cleaned_data["program"]
                )
                if not offered.exists():
                    raise ValidationError(_("该阵地没有这个项目。"), field="program")
                program_self_enrol(
                    actor=request.user, program_id=enrol.cleaned_data["program"],
                    person_id=enrol.cleaned_data["person"],
                )  # fmt: skip
                messages.success(request, _("报名成功。"))
                return redirect("sites:mine")
            else:
                raise ValidationError(_("未知的操作。"), field="action")
        except DomainError as exc:
            _error(request, exc)
    slots = AppointmentSlot.objects.filter(site=site, starts_at__gt=moment).order_by("starts_at")[
        :30
    ]
    status = 400 if request.method == "POST" else 200
    programs = list(public_programs(site, today=_today()))
    for program in programs:
        program.places_left = max(0, program.capacity - program.enrolled)  # type: ignore[attr-defined]
    return render(
        request,
        "sites/site.html",
        {
            "site": site,
            "programs": programs,
            # Who the signed-in resident may enrol: themselves, then their household.
            "enrollable": _household_choices(request.user),
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
            # Each showing of the page gets its own key for its appointment and proxy
            # forms: sending one of them twice is one request (request_submit).
            "form_key": uuid.uuid4().hex,
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


def _today() -> dt.date:
    return timeutils.now().astimezone(LOCAL_TZ).date()


def _household_choices(user: Any) -> list[Person]:
    """The signed-in resident and the members of their household, themselves first."""
    people = list(household_persons(user).order_by("name_pinyin", "id"))
    return sorted(people, key=lambda p: p.user_id != getattr(user, "pk", None))


def _week(site: Site) -> list[dict[str, Any]]:
    rows = []
    for day in range(8):
        spans = [h for h in site.hours.all() if h.day == day]
        rows.append({"label": DAY_NAMES[day], "spans": spans})
    return rows


# /sites/mine/: what is on is listed whole (a resident has a handful); the past pages.
MINE_CURRENT = 100
MINE_PAST_PAGE = 10


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """What the resident has on: current bookings, open requests and active enrolments
    in full (up to ``MINE_CURRENT``), and each kind's past ones a page at a time."""
    now = timeutils.now()
    bookings = (
        scoped(request.user, Booking)
        .filter(booked_by_id=request.user.pk)
        .select_related("room__site")
    )
    upcoming = Q(status=BookingStatus.CONFIRMED, ends_at__gt=now)
    # Asked for online, or registered at a desk for them or their household.
    requests_ = my_requests(request.user).select_related("site", "category", "slot", "person")
    open_request = Q(status__in=OPEN_STATUSES)
    # Enrolments of the resident and their household (scope: accounts.scoping, the
    # RESIDENT rule in scope_rules), narrowed to the persons they act for.
    enrolments = (
        scoped(request.user, Enrolment)
        .filter(person__in=household_persons(request.user).values("pk"))
        .select_related("program__site", "person")
    )
    active = Q(status=EnrolmentStatus.ACTIVE)

    def past(rows: Any, param: str) -> Any:
        return Paginator(rows, MINE_PAST_PAGE).get_page(request.GET.get(param))

    return render(
        request,
        "sites/mine.html",
        {
            "bookings": bookings.filter(upcoming).order_by("starts_at")[:MINE_CURRENT],
            "past_bookings": past(bookings.exclude(upcoming).order_by("-starts_at"), "bp"),
            "requests": requests_.filter(open_request).order_by("-created_at")[:MINE_CURRENT],
            "past_requests": past(requests_.exclude(open_request).order_by("-created_at"), "rp"),
            "enrolments": enrolments.filter(active).order_by("-enrolled_on", "-id")[:MINE_CURRENT],
            "past_enrolments": past(
                enrolments.exclude(active).order_by("-enrolled_on", "-id"), "ep"
            ),
            "current_limit": MINE_CURRENT,
            "now": now,
        },
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
        elif kind == "enrolment":
            # The service finds the enrolment among the household's, or says "not found".
            try:
                program_self_withdraw(actor=request.user, enrolment_id=pk)
            except NotFound:
                raise Http404 from None
            messages.success(request, _("已退出报名。"))
            return redirect("sites:mine")
        elif kind == "request":
            if (
                not scoped(request.user, ServiceRequest)
                .filter(pk=pk, requester_id=request.user.pk)
                .exists()
            ):
                raise Http404
            request_transition(actor=request.user, request_id=pk, to_status=RequestStatus.CANCELLED)
        else:
            raise Http404
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
            "manager": is_site_manager(request.user),
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
    room_form = RoomForm(prefix="room")
    slot_form = SlotForm(prefix="slot")
    partners = scoped(request.user, Partner).filter(is_active=True)
    program_form = ProgramForm(prefix="program", partners=partners)
    form: Any = None
    if request.method == "POST":
        if not manages:
            raise Http404
        action = request.POST.get("action")
        try:
            if action == "room":
                form = room_form = RoomForm(request.POST, prefix="room")
                if room_form.is_valid():
                    d = room_form.cleaned_data
                    if d["room"] and not site.rooms.filter(pk=d["room"]).exists():
                        raise Http404
                    if d["room"]:
                        room_update(
                            actor=request.user, room_id=d["room"], name=d["name"],
                            capacity=d["capacity"], functions=d["functions"],
                            bookable_by_residents=d["bookable_by_residents"],
                            is_active=d["is_active"],
                        )  # fmt: skip
                    else:
                        room_create(
                            actor=request.user, site=site, name=d["name"], capacity=d["capacity"],
                            functions=d["functions"],
                            bookable_by_residents=d["bookable_by_residents"],
                        )  # fmt: skip
                    messages.success(request, _("功能室已保存。"))
                    return redirect("sites:console-site", pk=site.pk)
            elif action == "slot":
                form = slot_form = SlotForm(request.POST, prefix="slot")
                if slot_form.is_valid():
                    d = slot_form.cleaned_data
                    slot_create(
                        actor=request.user, site=site, category=d["category"], service=d["service"],
                        starts_at=dt.datetime.combine(d["date"], d["starts"], tzinfo=LOCAL_TZ),
                        ends_at=dt.datetime.combine(d["date"], d["ends"], tzinfo=LOCAL_TZ),
                        capacity=d["capacity"],
                    )  # fmt: skip
                    messages.success(request, _("预约时段已添加。"))
                    return redirect("sites:console-site", pk=site.pk)
            elif action == "program":
                form = program_form = ProgramForm(request.POST, prefix="program", partners=partners)
                if program_form.is_valid():
                    d = program_form.cleaned_data
                    created = program_create(
                        actor=request.user, site=site, kind=d["kind"], name=d["name"],
                        category=d["category"], capacity=d["capacity"], starts_on=d["starts_on"],
                        ends_on=d["ends_on"], partner=d["partner"],
                        open_to_residents=d["open_to_residents"],
                    )  # fmt: skip
                    messages.success(request, _("项目已创建。"))
                    return redirect("sites:console-program", pk=created.pk)
            elif action == "hours":
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
                form = closure_form = ClosureForm(request.POST)
                if closure_form.is_valid():
                    d = closure_form.cleaned_data
                    site_closure_add(
                        actor=request.user, site=site, starts_on=d["starts_on"], ends_on=d["ends_on"],
                        reason=d["reason"], opens=d["opens"], closes=d["closes"],
                    )  # fmt: skip
                    messages.success(request, _("已添加。"))
                    return redirect("sites:console-site", pk=site.pk)
            else:
                raise ValidationError(_("未知的操作。"), field="action")
        except DomainError as exc:
            _to_form(request, form, exc)
    moment = timeutils.now()
    today = moment.astimezone(LOCAL_TZ).date()
    year_start = dt.date(today.year, 1, 1)
    bookings = (
        scoped(request.user, Booking)
        .filter(room__site=site, ends_at__gte=moment, status="confirmed")
        .select_related("room", "booked_by__person")
        .order_by("starts_at")[:50]
    )
    queue = (
        scoped(request.user, ServiceRequest)
        .filter(site=site, status__in=sorted(OPEN_STATUSES))
        .select_related("category", "slot", "person", "requester__person")
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
            "rooms": _rooms(site),
            "room_form": room_form,
            "slot_form": slot_form,
            "program_form": program_form,
            "slots": AppointmentSlot.objects.filter(site=site, ends_at__gte=moment)
            .select_related("category")
            .order_by("starts_at")[:50],
            "events": _events(request.user, site),
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


# Written out as gettext_lazy (not an alias) so that makemessages extracts them.
EVENT_ACTIONS = {
    "created": gettext_lazy("新建"),
    "updated": pgettext_lazy("change history", "修改"),
    "moved": gettext_lazy("调整位置"),
    "hours_set": gettext_lazy("设置开放时间"),
    "closure_added": gettext_lazy("添加闭馆或特别开放"),
    "issued": gettext_lazy("出具"),
    "enrolled": gettext_lazy("居民报名"),
    "withdrawn": gettext_lazy("居民退出报名"),
}


def _rooms(site: Site) -> list[Any]:
    rooms = list(site.rooms.prefetch_related("functions"))
    for room in rooms:
        room.function_codes = {f.code for f in room.functions.all()}  # type: ignore[attr-defined]
    return rooms


def _events(user: Any, site: Site) -> list[tuple[SiteEvent, str, str]]:
    from django.apps import apps

    out = []
    for event in scoped(user, SiteEvent).filter(site=site).select_related("actor")[:20]:
        try:
            what = str(apps.get_model("sites", event.object_type)._meta.verbose_name)
        except LookupError:
            what = event.object_type
        out.append((event, what, str(EVENT_ACTIONS.get(event.action, event.action))))
    return out


def _parse_schedule(text: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if (
            len(parts) not in (3, 4)
            or key_from_text(parts[0]) is None
            or not 1 <= int(parts[0]) <= 8
        ):
            raise ValidationError(_("第 %(n)d 行格式不对。") % {"n": number}, field="hours")
        out.append((int(parts[0]) - 1, parts[1], parts[2], len(parts) == 4))
    return out


@login_required
def console_desk(request: HttpRequest, pk: int) -> HttpResponse:
    """The site's desk (办事登记): staff find the resident in front of them (or register
    no one, for a passer-by), then record a matter handled on receipt or taken for proxy
    handling. Below, what this user registered at this site today."""
    _staff(request)
    site = get_scoped_or_404(request.user, Site, Site.objects.select_related("unit"), pk=pk)
    if not can_manage_site(request.user, site):
        raise Http404
    categories = list(site.categories.filter(is_active=True)) or list(
        ServiceCategory.objects.filter(is_active=True)
    )
    q = request.GET.get("q", "").strip()[:40]
    people: list[Person] = []
    search_error = ""
    if q:
        try:
            people = desk_people(actor=request.user, q=q)
        except ValidationError as exc:
            search_error = str(exc.message)
    status = 200
    # The resident chosen from the search (?person=): one the clerk may serve, else none.
    chosen = key_from_text(request.GET.get("person", ""))
    selected = desk_person(actor=request.user, person_id=chosen) if chosen else None
    form = DeskForm(
        initial={"key": uuid.uuid4().hex, "person": selected.pk if selected else None},
        categories=categories,
    )
    if request.method == "POST":
        form = DeskForm(request.POST, categories=categories)
        if form.is_valid():
            d = form.cleaned_data
            try:
                person = None
                if d["person"]:
                    person = desk_person(actor=request.user, person_id=d["person"])
                    if person is None:
                        raise ValidationError(
                            _("服务对象不存在，或不在您管辖的范围内。"), field="person"
                        )
                req = request_submit(
                    actor=request.user, site_id=site.pk, category=d["category"], mode=d["mode"],
                    matter=d["matter"], person=person, documents=form.document_list(),
                    note=d["note"], idempotency_key=d["key"],
                )  # fmt: skip
                messages.success(
                    request,
                    _("已登记：%(matter)s（%(status)s）。")
                    % {"matter": req.matter, "status": req.get_status_display()},
                )
                return redirect("sites:console-desk", pk=site.pk)
            except DomainError as exc:
                _to_form(request, form, exc)
        status = 400
        posted = key_from_text(str(form["person"].value() or ""))
        selected = desk_person(actor=request.user, person_id=posted) if posted else None
    day_start = dt.datetime.combine(
        timeutils.now().astimezone(LOCAL_TZ).date(), dt.time(0), tzinfo=LOCAL_TZ
    )
    today = (
        scoped(request.user, ServiceRequest)
        .filter(site=site, submitted_by_id=request.user.pk, created_at__gte=day_start)
        .select_related("category", "person")
        .order_by("-created_at", "-id")[:50]
    )
    # What the resident chosen already has under way here (a proxy matter to collect).
    pending = (
        scoped(request.user, ServiceRequest)
        .filter(site=site, status__in=sorted(OPEN_STATUSES))
        .filter(Q(person_id=selected.pk) | Q(requester__person=selected.pk))
        .select_related("category")
        .order_by("created_at")[:20]
        if selected is not None
        else []
    )
    return render(
        request,
        "sites/console_desk.html",
        {
            "site": site,
            "pending": pending,
            "form": form,
            "q": q,
            "people": people,
            "search_error": search_error,
            "limit": DESK_CANDIDATES,
            "selected": selected,
            "today": today,
            "today_date": day_start.date(),
        },
        status=status,
    )


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
def console_request_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """The slip handed to the resident (print from the browser): what was registered, for
    whom, by whom, and for a proxy matter the documents left and the number to call.
    The site's staff may take back, on the day, a matter registered by mistake."""
    _staff(request)
    req = get_scoped_or_404(
        request.user,
        ServiceRequest,
        ServiceRequest.objects.select_related(
            "site__unit", "category", "person", "requester__person", "submitted_by"
        ),
        pk=pk,
    )
    form = VoidForm()
    status = 200
    if request.method == "POST":
        if not can_manage_site(request.user, req.site):
            raise Http404
        form = VoidForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                request_void(
                    actor=request.user, request_id=req.pk,
                    reason=form.cleaned_data["reason"], request=request,
                )  # fmt: skip
            except DomainError as exc:
                _to_form(request, form, exc)
            else:
                messages.success(request, _("已撤销登记：%(matter)s。") % {"matter": req.matter})
                return redirect("sites:console-desk", pk=req.site_id)
    person = req.person or getattr(req.requester, "person", None)
    voided = (
        req.events.filter(to_status=RequestStatus.CANCELLED).order_by("-id").first()
        if req.status == RequestStatus.CANCELLED
        else None
    )
    return render(
        request,
        "sites/console_request_receipt.html",
        {
            "r": req,
            "holder": mask_name(person.name) if person and not person.pseudonymized_at else "",
            "voided": voided,
            "can_void": request_voidable(request.user, req),
            "form": form,
        },
        status=status,
    )


@login_required
def console_program(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request)
    program = get_scoped_or_404(
        request.user,
        Program,
        Program.objects.select_related("site__unit", "category", "partner"),
        pk=pk,
    )
    today = timeutils.now().astimezone(LOCAL_TZ).date()
    manages = can_manage_site(request.user, program.site)
    partners = scoped(request.user, Partner).filter(is_active=True)
    edit_form = ProgramEditForm(prefix="edit", program=program, partners=partners)
    if request.method == "POST" and request.POST.get("action") == "update":
        if not manages:
            raise Http404
        edit_form = ProgramEditForm(request.POST, prefix="edit", program=program, partners=partners)
        if edit_form.is_valid():
            try:
                program_update(actor=request.user, program_id=program.pk, **edit_form.cleaned_data)
                messages.success(request, _("项目已保存。"))
                return redirect("sites:console-program", pk=program.pk)
            except DomainError as exc:
                _to_form(request, edit_form, exc)
    elif request.method == "POST" and request.POST.get("action") in ("enrol", "withdraw"):
        try:
            if request.POST["action"] == "enrol":
                person_id = key_from_text(request.POST.get("person", ""))
                if person_id is None:
                    raise ValidationError(_("请填写人员编号。"), field="person")
                person = get_scoped_or_404(request.user, Person, pk=person_id)
                program_enrol(actor=request.user, program_id=program.pk, person=person)
                messages.success(request, _("已报名。"))
            else:
                enrolment_id = key_from_text(request.POST.get("enrolment", "")) or 0
                program_withdraw(actor=request.user, enrolment_id=enrolment_id)
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
                ids = [
                    k for k in map(key_from_text, request.POST.getlist("present")) if k is not None
                ]
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
            "manages": manages,
            "edit_form": edit_form,
            "enrolments": enrolments,
            "today": today,
            "sessions": totals["sessions"],
            "person_times": totals["person_times"] or 0,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def console_partners(request: HttpRequest) -> HttpResponse:
    """Partners, the services they give at which sites, revenue-share agreements and the
    settlement statements; staff who run sites register each of them here."""
    _staff(request)
    manager = is_site_manager(request.user)
    partners = scoped(request.user, Partner).select_related("unit").order_by("unit__path", "name")
    managed_units = scoped(request.user, Unit).filter(
        kind__in=["community", "village", "street", "town"], is_active=True
    )
    sites = scoped(request.user, Site).filter(is_active=True).order_by("unit__path", "name")
    active_partners = partners.filter(is_active=True)
    partner_form = PartnerForm(prefix="partner", units=managed_units)
    service_form = PartnerServiceForm(prefix="service", partners=active_partners, sites=sites)
    agreement_form = AgreementForm(prefix="agreement", partners=active_partners, sites=sites)
    edit_form: PartnerEditForm | None = None
    if request.method == "POST":
        if not manager:
            raise Http404
        action = request.POST.get("action", "settlement")
        form: Any = None
        try:
            if action == "partner":
                form = partner_form = PartnerForm(
                    request.POST, prefix="partner", units=managed_units
                )
                if form.is_valid():
                    d = form.cleaned_data
                    partner_create(
                        actor=request.user, name=d["name"], kind=d["kind"], unit=d["unit"],
                        contact=d["contact"],
                    )  # fmt: skip
                    messages.success(request, _("合伙人已登记。"))
                    return redirect("sites:console-partners")
            elif action == "partner_update":
                form = edit_form = PartnerEditForm(request.POST, prefix="edit", partners=partners)
                if form.is_valid():
                    d = form.cleaned_data
                    partner_update(
                        actor=request.user, partner=d["partner"], name=d["name"],
                        contact=d["contact"], is_active=d["is_active"],
                    )  # fmt: skip
                    messages.success(request, _("合伙人信息已更新。"))
                    return redirect("sites:console-partners")
            elif action == "service":
                form = service_form = PartnerServiceForm(
                    request.POST, prefix="service", partners=active_partners, sites=sites
                )
                if form.is_valid():
                    d = form.cleaned_data
                    price = d["price_yuan"]
                    partner_service_create(
                        actor=request.user, partner=d["partner"], site=d["site"],
                        category=d["category"], name=d["name"], pricing=d["pricing"],
                        price_fen=int(price * 100) if price is not None else 0,
                    )  # fmt: skip
                    messages.success(request, _("合伙人服务已登记。"))
                    return redirect("sites:console-partners")
            elif action == "agreement":
                form = agreement_form = AgreementForm(
                    request.POST, prefix="agreement", partners=active_partners, sites=sites
                )
                if form.is_valid():
                    d = form.cleaned_data
                    revenue_share_create(
                        actor=request.user, partner=d["partner"], site=d["site"],
                        partner_share_bp=int(d["partner_share_percent"] * 100),
                        valid_from=d["valid_from"], valid_to=d["valid_to"], terms=d["terms"],
                    )  # fmt: skip
                    messages.success(request, _("收益分成协议已登记。"))
                    return redirect("sites:console-partners")
            else:
                settle = SettlementForm(request.POST)
                if settle.is_valid():
                    d = settle.cleaned_data
                    settlement_issue(
                        actor=request.user, agreement_id=d["agreement"],
                        period_start=d["period_start"], period_end=d["period_end"],
                    )  # fmt: skip
                    messages.success(request, _("结算单已出具。"))
                    return redirect("sites:console-partners")
                for field, errors in settle.errors.items():
                    label = settle.fields[field].label if field in settle.fields else ""
                    for error in errors:
                        messages.error(
                            request,
                            _("%(field)s：%(message)s") % {"field": label, "message": error}
                            if label
                            else str(error),
                        )
        except DomainError as exc:
            _to_form(request, form, exc)
    agreements = (
        scoped(request.user, RevenueShare)
        .select_related("partner", "site")
        .order_by("partner__name")
    )
    settlements = scoped(request.user, Settlement).select_related(
        "agreement__partner", "agreement__site"
    )[:100]
    services = (
        scoped(request.user, PartnerService)
        .select_related("partner", "site", "category")
        .order_by("partner__name", "name")
    )
    return render(
        request,
        "sites/console_partners.html",
        {
            "partners": partners[:200],
            "services": services[:200],
            "agreements": agreements[:200],
            "settlements": settlements,
            "can_issue": manager,
            "partner_form": partner_form,
            "edit_form": edit_form,
            "service_form": service_form,
            "agreement_form": agreement_form,
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
            else:
                raise ValidationError(_("未知的操作。"), field="action")
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


# --- Console: creating and editing sites ---------------------------------------------------

SITE_UNIT_KINDS = sorted({kind for kinds in LEVEL_UNIT_KINDS.values() for kind in kinds})
PARENT_SITE_LEVELS = [SiteLevel.AREA_CENTER, SiteLevel.COMMUNITY_CENTER, SiteLevel.STATION,
                      SiteLevel.VILLAGE_CENTER]  # fmt: skip


def _site_form_choices(user: Any, exclude: int | None = None) -> dict[str, Any]:
    from doorstep.orgs.models import PartyOrg

    parents = scoped(user, Site).filter(is_active=True, level__in=PARENT_SITE_LEVELS)
    if exclude is not None:
        parents = parents.exclude(pk=exclude)
    return {
        "units": scoped(user, Unit).filter(kind__in=SITE_UNIT_KINDS, is_active=True),
        "parents": parents.order_by("unit__path", "name"),
        "party_orgs": scoped(user, PartyOrg).order_by("path"),
    }


def _site_args(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: data[key]
        for key in ("name", "level", "setting", "unit", "parent", "lat", "lng", "datum", "address",
                    "phone", "manager_kind", "manager_name", "party_org", "description",
                    "categories", "station_types", "amenities")
    }  # fmt: skip


@login_required
def console_site_new(request: HttpRequest) -> HttpResponse:
    """A new site: its level, unit, parent, location (WGS-84, GCJ-02 or BD-09), address,
    manager, categories, station types and amenities."""
    _staff(request)
    if not is_site_manager(request.user):
        raise Http404
    choices = _site_form_choices(request.user)
    form = SiteForm(request.POST or None, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            site = site_create(actor=request.user, **_site_args(form.cleaned_data))
            messages.success(request, _("阵地已创建。"))
            return redirect("sites:console-site", pk=site.pk)
        except DomainError as exc:
            _to_form(request, form, exc)
    return render(
        request,
        "sites/console_site_form.html",
        {"form": form, "site": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def console_site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    site, manages = _managed_site(request, pk)
    if not manages:
        raise Http404
    choices = _site_form_choices(request.user, exclude=site.pk)
    initial = {
        "name": site.name, "level": site.level, "setting": site.setting, "unit": site.unit,
        "parent": site.parent, "lat": site.lat, "lng": site.lng, "datum": "wgs84",
        "address": site.address, "phone": site.phone, "manager_kind": site.manager_kind,
        "manager_name": site.manager_name, "party_org": site.party_org,
        "description": site.description, "is_active": site.is_active,
        "categories": [c.code for c in site.categories.all()],
        "station_types": [c.code for c in site.station_types.all()],
        "amenities": [c.code for c in site.amenities.all()],
    }  # fmt: skip
    form = SiteEditForm(request.POST or None, initial=initial, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            site_update(
                actor=request.user, site=site, is_active=form.cleaned_data["is_active"],
                **_site_args(form.cleaned_data),
            )  # fmt: skip
            messages.success(request, _("阵地已保存。"))
            return redirect("sites:console-site", pk=site.pk)
        except DomainError as exc:
            _to_form(request, form, exc)
    return render(
        request,
        "sites/console_site_form.html",
        {"form": form, "site": site},
        status=400 if request.method == "POST" else 200,
    )


# --- Console: person-times report ----------------------------------------------------------


@login_required
def console_report(request: HttpRequest) -> HttpResponse:
    """Person-times per site, category, level or month over a period, from the service
    records of the staff's subtree, with the total; exportable to .xlsx (audited)."""
    _staff(request)
    today = timeutils.now().astimezone(LOCAL_TZ).date()
    params = request.GET if "start" in request.GET else None
    form = ReportForm(
        params, initial={"start": dt.date(today.year, 1, 1), "end": today, "by": "site"}
    )
    if params is None:
        form = ReportForm({"start": dt.date(today.year, 1, 1), "end": today, "by": "site"})
    rows: list[dict[str, Any]] | None = None
    data: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        rows = person_times(
            actor=request.user, start=data["start"], end=data["end"], by=data["by"],
            level=data["level"], category=data["category"],
        )  # fmt: skip
        if request.GET.get("format") == "xlsx":
            from .exporting import person_times_xlsx

            content = person_times_xlsx(
                actor=request.user, rows=rows, filters=data, request=request
            )
            name = f"person-times-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.xlsx"
            return xlsx_response(content, name)
    by_labels = {"site": _("阵地"), "category": _("服务类别"), "level": _("层级"),
                 "month": _("月份")}  # fmt: skip
    return render(
        request,
        "sites/console_report.html",
        {
            "form": form,
            "rows": rows,
            "start": data.get("start"),
            "end": data.get("end"),
            "by_label": by_labels.get(data.get("by", "site"), ""),
            "total_person_times": sum(r["person_times"] for r in rows or []),
            "total_records": sum(r["records"] for r in rows or []),
            "query": urlencode({k: v for k, v in form.data.items() if k != "format"}),
        },
        status=400 if form.is_bound and params is not None and not form.is_valid() else 200,
    )
