"""REST endpoints of sites.

* Public facts anyone may read: sites (list, detail, near a point, open now) and what a
  site offers — its bookable rooms, open appointment slots and current programs.
* A resident's own things: bookings (one-off and recurring) and their cancelling,
  service requests (appointment or proxy) and their cancelling, enrolling themselves or
  a household member in a program open to residents, and their household's enrolments
  with withdrawing.
* The staff's work, scoped through the one checkpoint: the site directory (create,
  edit, hours, closures), rooms, slots, programs (opened and edited) with enrolment and
  attendance, the request queue with its transitions and checklists, service records
  and person-times, partners with their services, agreements and settlements, and the
  15-minute circle's coverage of a unit.

Every view validates its input, calls one service (which checks who may act) and
serializes the result. A row in the path outside the caller's scope answers 404; an id
in the body that the caller cannot see is bad input (400, naming the field).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import timeutils
from doorstep.core.api import (
    Pagination,
    idempotency_header,
    idempotency_key_of,
    query_date,
    query_int,
)
from doorstep.core.errors import ValidationError
from doorstep.core.inputs import MAX_KEY, is_key
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.models import PartyOrg, Unit
from doorstep.people.models import Person

from . import hours
from .choices import (
    DAY_NAMES,
    OPEN_STATUSES,
    PROGRAM_AUDIENCE,
    TRANSITIONS,
    BookingStatus,
    Datum,
    EnrolmentStatus,
    ManagerKind,
    PartnerKind,
    Pricing,
    ProgramKind,
    RequestMode,
    RequestStatus,
    SiteLevel,
    StationSetting,
)
from .models import (
    Booking,
    BookingSeries,
    Enrolment,
    Partner,
    PartnerService,
    Program,
    RevenueShare,
    Room,
    ServiceCategory,
    ServiceRecord,
    ServiceRequest,
    Settlement,
    Site,
)
from .rules import can_manage_site, is_site_manager
from .selectors import (
    NEAR_RADIUS_M,
    PERIODS,
    Candidate,
    CircleReport,
    bookable_rooms,
    circle_report,
    household_persons,
    open_slots,
    person_times,
    public_programs,
    public_queryset,
    site_list,
    site_slot,
    sites_near,
)
from .services import (
    attendance_mark,
    booking_cancel,
    booking_create,
    booking_series_create,
    location_from_input,
    partner_create,
    partner_service_create,
    partner_update,
    program_create,
    program_enrol,
    program_self_enrol,
    program_self_withdraw,
    program_update,
    program_withdraw,
    record_create,
    request_documents_mark,
    request_submit,
    request_transition,
    revenue_share_create,
    room_create,
    room_update,
    settlement_issue,
    site_closure_add,
    site_create,
    site_hours_set,
    site_update,
    slot_create,
)

M = TypeVar("M", bound=Model)
SLUG = re.compile(r"[-a-zA-Z0-9_]+")

# Ids are positive and fit a 64-bit key; larger numbers are refused as bad input.
# Moments and dates outside these years are typing mistakes (and near the ends of the
# calendar, converting between time zones would overflow).
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_COUNT = 100_000  # capacities, person-times: far above any real site
MAX_FEN = 100_000_000  # one million yuan
AUDIENCE: dict[str, str] = {str(kind): who for kind, who in PROGRAM_AUDIENCE.items()}


# --- Shared input fields and helpers -------------------------------------------------------


def _id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_KEY, **kwargs)


def _years() -> str:
    return _("年份应在 %(first)d 到 %(last)d 之间。") % {"first": FIRST_YEAR, "last": LAST_YEAR}


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise serializers.ValidationError(_years())


class MomentField(serializers.DateTimeField):
    """An ISO 8601 moment; one without a time zone is read as Beijing time."""

    def to_internal_value(self, value: Any) -> dt.datetime:
        moment: dt.datetime = super().to_internal_value(value)
        _check_year(moment.year)
        return moment


class DayField(serializers.DateField):
    """A ``YYYY-MM-DD`` date within the years the platform deals with."""

    def to_internal_value(self, value: Any) -> dt.date:
        day: dt.date = super().to_internal_value(value)
        _check_year(day.year)
        return day


class InlineChoiceField(serializers.ChoiceField):
    """A choice of input whose schema is an inline enum: "kind" and "status" name
    different choice sets across the API, and named enum components would collide."""


class InlineChoiceExtension(OpenApiSerializerFieldExtension):
    target_class = InlineChoiceField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {"type": "string", "enum": [str(value) for value in self.target.choices]}


def _codes(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.SlugField(max_length=40), max_length=50, **kwargs
    )


def _visible(user: Any, model: type[M], pk: int, field: str, queryset: Any = None) -> M:
    """A row named in the body that the caller may see, or a 400 naming the field (the
    same answer whether it is missing or out of scope)."""
    row = scoped(user, model, queryset).filter(pk=pk).first()
    if row is None:
        raise ValidationError(_("找不到该对象，或不在您的管理范围内。"), field=field)
    return row


@contextmanager
def _name_clash() -> Iterator[None]:
    """A site, room or partner whose name is taken (a unique constraint over the name and
    its unit or site) is refused by ``full_clean`` under no field; the client sent a
    name, so the error names it."""
    try:
        yield
    except ValidationError as exc:
        if set(exc.errors) != {"__all__"}:
            raise
        raise ValidationError(errors={"name": exc.errors["__all__"]}) from None


def _today() -> dt.date:
    return timeutils.now().astimezone(LOCAL_TZ).date()


def _moment(request: Request, name: str = "at") -> dt.datetime:
    """The moment a query asks about (``?at=``), now by default."""
    raw = request.query_params.get(name, "")
    if not raw:
        return timeutils.now()
    moment = parse_datetime(raw)
    if moment is None or not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValidationError(_("时间格式无效，应为 ISO 8601。"), field=name)
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _query_day(request: Request, name: str) -> dt.date | None:
    """An optional ``YYYY-MM-DD`` query parameter within the years the platform deals
    with (a day is turned into the moments that bound it)."""
    day = query_date(request.query_params.get(name), name)
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(_years(), field=name)
    return day


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "") in ("1", "true", "yes", "on")


def _query_id(request: Request, name: str) -> int | None:
    """An optional id in the query; one larger than any key is refused, not looked up."""
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    value = query_int(raw, name)
    if value > MAX_KEY:
        raise ValidationError(_("应为数字。"), field=name)
    return value


def _query_choice(request: Request, name: str, values: list[str]) -> str:
    value = request.query_params.get(name, "")
    if value and value not in values:
        raise ValidationError(_("%(value)s 不是有效的选项。") % {"value": value[:40]}, field=name)
    return value


def _known_categories(codes: list[str], field: str) -> list[str]:
    """Codes of active service categories, or a 400 naming the field (a code that is not
    even a slug is refused before it reaches the database)."""
    wanted = {c for c in codes if c}
    known = set(
        ServiceCategory.objects.filter(
            code__in=[c for c in wanted if SLUG.fullmatch(c)], is_active=True
        ).values_list("code", flat=True)
    )
    if wanted - known:
        raise ValidationError(_("未知的服务类别。"), field=field)
    return [c for c in codes if c]


def _category(request: Request, name: str = "category") -> str:
    code = request.query_params.get(name, "")
    return _known_categories([code], name)[0] if code else ""


def _paged(view: APIView, request: Request, qs: Any, serializer: Any, **kw: Any) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True, **kw).data)


class PublicReadApi(APIView):
    """Reading is open to anyone (what a site offers is public); writing needs a
    signed-in user, and the service then decides whether they may."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in SAFE_METHODS:
            return [AllowAny()]
        return [IsAuthenticated()]


def _public_site(pk: int) -> Site:
    site = public_queryset(_today()).filter(pk=pk).first()
    if site is None:
        raise Http404
    return site


# --- Sites: public facts ---------------------------------------------------------------


class SiteOutput(serializers.Serializer):
    """A site's public facts. ``open_now`` / ``closes_at`` are for the moment asked."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=SiteLevel.choices)
    level_label = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    address = serializers.CharField()
    unit = serializers.CharField()
    phone = serializers.CharField()
    categories = serializers.ListField(child=serializers.CharField())
    station_types = serializers.ListField(child=serializers.CharField())
    amenities = serializers.ListField(child=serializers.CharField())
    open_now = serializers.BooleanField()
    closes_at = serializers.CharField(allow_null=True)
    extended = serializers.BooleanField()
    distance_m = serializers.FloatField(allow_null=True, required=False)
    walk_minutes = serializers.FloatField(allow_null=True, required=False)


class HoursOutput(serializers.Serializer):
    day = serializers.IntegerField()
    day_label = serializers.CharField()
    opens = serializers.CharField()
    closes = serializers.CharField()
    extended = serializers.BooleanField()


class SiteDetailOutput(SiteOutput):
    description = serializers.CharField()
    hours = HoursOutput(many=True)
    today = serializers.ListField(child=serializers.CharField())


def site_data(
    site: Site, state: hours.OpenState, *, metres: float | None = None, minutes: float | None = None
) -> dict[str, Any]:
    return {
        "id": site.pk,
        "name": site.name,
        "level": site.level,
        "level_label": str(SiteLevel(site.level).label),
        "lat": site.lat,
        "lng": site.lng,
        "address": site.address,
        "unit": site.unit.name,
        "phone": site.phone,
        "categories": [c.name for c in site.categories.all()],
        "station_types": [s.name for s in site.station_types.all()],
        "amenities": [a.name for a in site.amenities.all()],
        "open_now": state.is_open,
        "closes_at": state.closes_at.strftime("%H:%M") if state.closes_at else None,
        "extended": state.extended,
        "distance_m": round(metres) if metres is not None else None,
        "walk_minutes": round(minutes, 1) if minutes is not None else None,
    }


def hours_data(site: Site) -> list[dict[str, Any]]:
    return [
        {"day": h.day, "day_label": str(DAY_NAMES[h.day]), "opens": h.opens.strftime("%H:%M"),
         "closes": h.closes.strftime("%H:%M"), "extended": h.extended}
        for h in site.hours.all()
    ]  # fmt: skip


LIST_PARAMS = [
    OpenApiParameter("level", str, enum=SiteLevel.values),
    OpenApiParameter("category", str, description="服务类别代码，如 elderly"),
    OpenApiParameter("at", str, description="判断是否开放的时刻（ISO 8601），默认现在"),
]


class SiteListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = Pagination

    @extend_schema(
        responses=SiteOutput(many=True),
        parameters=[*LIST_PARAMS, OpenApiParameter("open_now", bool)],
        operation_id="sites_list",
        description="启用的服务阵地（公开信息），可按层级、服务类别和是否开放筛选。",
    )
    def get(self, request: Request) -> Response:
        moment = _moment(request)
        qs = public_queryset(moment.astimezone(LOCAL_TZ).date()).order_by(
            "unit__path", "level", "name"
        )
        if level := request.query_params.get("level", ""):
            if level not in SiteLevel.values:
                raise ValidationError(_("未知的阵地层级。"), field="level")
            qs = qs.filter(level=level)
        if category := _category(request):
            qs = qs.filter(categories__code=category)
        day = moment.astimezone(LOCAL_TZ).date()
        holidays = hours.holidays_between(day, day)
        paginator = Pagination()
        rows: Any = qs
        if _flag(request, "open_now"):
            rows = [s for s in qs if hours.site_state(s, moment, holidays).is_open]
        page: list[Site] = paginator.paginate_queryset(rows, request, view=self) or []
        data = [site_data(s, hours.site_state(s, moment, holidays)) for s in page]
        return paginator.get_paginated_response(data)


class SiteDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=SiteDetailOutput,
        parameters=[LIST_PARAMS[2]],
        operation_id="sites_retrieve",
    )
    def get(self, request: Request, pk: int) -> Response:
        moment = _moment(request)
        site = public_queryset(moment.astimezone(LOCAL_TZ).date()).filter(pk=pk).first()
        if site is None:
            raise Http404
        state = hours.site_state(site, moment)
        data = site_data(site, state)
        data["description"] = site.description
        data["hours"] = hours_data(site)
        data["today"] = [f"{o.strftime('%H:%M')}–{c.strftime('%H:%M')}" for o, c, _x in state.today]
        return Response(data)


class SiteNearApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=SiteOutput(many=True),
        parameters=[
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("lng", float, required=True),
            OpenApiParameter("datum", str, enum=Datum.values, description="坐标系，默认 wgs84"),
            OpenApiParameter("radius", int, description=f"搜索半径（米），默认 {NEAR_RADIUS_M}"),
            OpenApiParameter("open_now", bool),
            *LIST_PARAMS,
        ],
        operation_id="sites_near",
        description="离某点最近的阵地，按距离排序，附步行分钟数（直线×绕行系数）和是否开放。",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        lat, lng = location_from_input(
            params.get("lat"), params.get("lng"), params.get("datum", "wgs84")
        )
        try:
            radius = float(params.get("radius", NEAR_RADIUS_M))
        except ValueError:
            raise ValidationError(_("半径应为数字。"), field="radius") from None
        level = params.get("level", "")
        if level and level not in SiteLevel.values:
            raise ValidationError(_("未知的阵地层级。"), field="level")
        found = sites_near(
            lat=lat, lng=lng, radius_m=radius, moment=_moment(request), level=level,
            category=_category(request), open_now=_flag(request, "open_now"),
        )  # fmt: skip
        return Response(
            [site_data(n.site, n.state, metres=n.metres, minutes=n.minutes) for n in found]
        )


class SiteOpenNowApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses=SiteOutput(many=True),
        parameters=[
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("lng", float, required=True),
            OpenApiParameter("datum", str, enum=Datum.values),
            *LIST_PARAMS,
        ],
        operation_id="sites_open_now",
        description="附近（默认 3 公里内）此刻开放的阵地。",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        lat, lng = location_from_input(
            params.get("lat"), params.get("lng"), params.get("datum", "wgs84")
        )
        found = sites_near(
            lat=lat, lng=lng, moment=_moment(request),
            level=_query_choice(request, "level", SiteLevel.values), category=_category(request),
            open_now=True,
        )  # fmt: skip
        return Response(
            [site_data(n.site, n.state, metres=n.metres, minutes=n.minutes) for n in found]
        )


# --- Rooms ---------------------------------------------------------------------------------


class RoomOutput(serializers.Serializer):
    id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    name = serializers.CharField()
    capacity = serializers.IntegerField()
    functions = serializers.SerializerMethodField()
    bookable_by_residents = serializers.BooleanField()
    is_active = serializers.BooleanField()

    def get_functions(self, room: Room) -> list[str]:
        """Codes of the service categories the room is used for."""
        return sorted(f.code for f in room.functions.all())


class RoomInput(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
    functions = _codes(default=list, help_text="服务类别代码")
    bookable_by_residents = serializers.BooleanField(default=True)


class SiteRoomsApi(PublicReadApi):
    pagination_class = Pagination

    class RoomCreateInputSerializer(RoomInput):
        pass

    @extend_schema(
        responses=RoomOutput(many=True),
        operation_id="site_rooms_list",
        description=(
            "阵地的功能室。居民和访客看到启用且对居民开放的功能室；管理该阵地的工作人员"
            "看到全部（含停用的和只供工作人员使用的）。"
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        site = scoped(request.user, Site).filter(pk=pk).first()
        if site is not None and can_manage_site(request.user, site):
            rows: QuerySet[Room] = scoped(
                request.user, Room, Room.objects.filter(site=site).prefetch_related("functions")
            ).order_by("name", "id")
        else:
            rows = bookable_rooms(_public_site(pk))
        return _paged(self, request, rows, RoomOutput)

    @extend_schema(
        request=RoomCreateInputSerializer,
        responses={201: RoomOutput},
        operation_id="site_rooms_create",
        description="为阵地添加功能室（管理该阵地的工作人员）。",
    )
    def post(self, request: Request, pk: int) -> Response:
        site = get_scoped_or_404(request.user, Site, pk=pk)
        serializer = self.RoomCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _name_clash():
            room = room_create(
                actor=request.user, site=site, name=data["name"], capacity=data["capacity"],
                functions=data["functions"], bookable_by_residents=data["bookable_by_residents"],
            )  # fmt: skip
        return Response(RoomOutput(room).data, status=status.HTTP_201_CREATED)


class RoomDetailApi(APIView):
    class RoomUpdateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50, required=False)
        capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, required=False)
        functions = _codes(required=False, help_text="服务类别代码（整体替换）")
        bookable_by_residents = serializers.BooleanField(required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(
        request=RoomUpdateInputSerializer,
        responses=RoomOutput,
        operation_id="site_rooms_update",
        description="修改功能室；未提供的字段保持不变。容纳人数不能少于尚未结束的预订人数。",
    )
    def patch(self, request: Request, pk: int) -> Response:
        room = get_scoped_or_404(
            request.user, Room, Room.objects.prefetch_related("functions"), pk=pk
        )
        serializer = self.RoomUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _name_clash():
            updated = room_update(
                actor=request.user,
                room_id=room.pk,
                name=data.get("name", room.name),
                capacity=data.get("capacity", room.capacity),
                functions=data.get("functions", [f.code for f in room.functions.all()]),
                bookable_by_residents=data.get("bookable_by_residents", room.bookable_by_residents),
                is_active=data.get("is_active", room.is_active),
            )
        return Response(RoomOutput(updated).data)


# --- Appointment slots ------------------------------------------------------------------------


class SlotOutput(serializers.Serializer):
    id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name")
    service = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField()
    remaining = serializers.SerializerMethodField()

    def get_remaining(self, slot: Any) -> int:
        """Places still free."""
        return max(0, int(slot.capacity) - int(slot.booked))


class SiteSlotsApi(PublicReadApi):
    pagination_class = Pagination

    class SlotCreateInputSerializer(serializers.Serializer):
        category = serializers.SlugField(max_length=40, help_text="服务类别代码")
        service = serializers.CharField(max_length=100)
        starts_at = MomentField()
        ends_at = MomentField()
        capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)

    @extend_schema(
        responses=SlotOutput(many=True),
        parameters=[
            OpenApiParameter("date", dt.date, description="只看这一天（北京时间）的时段"),
            OpenApiParameter("category", str, description="服务类别代码"),
        ],
        operation_id="site_slots_list",
        description="阵地尚未开始的预约时段及剩余名额，按时间先后。",
    )
    def get(self, request: Request, pk: int) -> Response:
        site = _public_site(pk)
        rows = open_slots(
            site, moment=timeutils.now(), on=_query_day(request, "date"),
            category=_category(request),
        )  # fmt: skip
        return _paged(self, request, rows, SlotOutput)

    @extend_schema(
        request=SlotCreateInputSerializer,
        responses={201: SlotOutput},
        operation_id="site_slots_create",
        description="添加预约时段（管理该阵地的工作人员）。",
    )
    def post(self, request: Request, pk: int) -> Response:
        site = get_scoped_or_404(request.user, Site, pk=pk)
        serializer = self.SlotCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        slot = slot_create(
            actor=request.user, site=site, category=data["category"], service=data["service"],
            starts_at=data["starts_at"], ends_at=data["ends_at"], capacity=data["capacity"],
        )  # fmt: skip
        return Response(SlotOutput(slot).data, status=status.HTTP_201_CREATED)


# --- Programs ---------------------------------------------------------------------------------


class ProgramOutput(serializers.Serializer):
    id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    site = serializers.CharField(source="site.name")
    kind = serializers.ChoiceField(choices=ProgramKind.choices)
    audience = serializers.SerializerMethodField()
    name = serializers.CharField()
    category = serializers.CharField(source="category.code")
    partner_id = serializers.IntegerField(allow_null=True)
    partner = serializers.CharField(source="partner.name", allow_null=True, default=None)
    capacity = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    remaining = serializers.SerializerMethodField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    open_to_residents = serializers.BooleanField(help_text="居民可在线报名（否则到阵地报名）")

    def get_audience(self, program: Program) -> str:
        """``old`` or ``young`` (一老一小)."""
        return AUDIENCE.get(program.kind, "")

    def get_remaining(self, program: Program) -> int:
        """Places still free."""
        return max(0, program.capacity - program.enrolled)


class SiteProgramsApi(PublicReadApi):
    pagination_class = Pagination

    class ProgramCreateInputSerializer(serializers.Serializer):
        kind = InlineChoiceField(choices=ProgramKind.choices)
        name = serializers.CharField(max_length=100)
        category = serializers.SlugField(max_length=40, help_text="服务类别代码")
        capacity = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
        starts_on = DayField()
        ends_on = DayField()
        partner = _id(required=False, allow_null=True, help_text="承办的合伙人 id")
        open_to_residents = serializers.BooleanField(
            required=False, default=False, help_text="居民可在线报名"
        )

    @extend_schema(
        responses=ProgramOutput(many=True),
        parameters=[
            OpenApiParameter("kind", str, enum=ProgramKind.values),
            OpenApiParameter("audience", str, enum=["old", "young"]),
            OpenApiParameter("available", bool, description="只看还有名额的"),
        ],
        operation_id="site_programs_public_list",
        description=(
            "阵地尚未结束的一老一小项目及剩余名额（公开信息）。open_to_residents 为真的项目"
            "居民可在线报名（POST /api/v1/site-programs/{id}/enrol/），其余由阵地工作人员办理。"
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        rows = public_programs(_public_site(pk), today=_today())
        if kind := _query_choice(request, "kind", ProgramKind.values):
            rows = rows.filter(kind=kind)
        if audience := _query_choice(request, "audience", ["old", "young"]):
            rows = rows.filter(kind__in=[k for k, a in AUDIENCE.items() if a == audience])
        if _flag(request, "available"):
            rows = [p for p in rows if p.enrolled < p.capacity]  # type: ignore[assignment]
        return _paged(self, request, rows, ProgramOutput)

    @extend_schema(
        request=ProgramCreateInputSerializer,
        responses={201: ProgramOutput},
        operation_id="site_programs_create",
        description="在阵地开设一老一小项目（管理该阵地的工作人员）。",
    )
    def post(self, request: Request, pk: int) -> Response:
        site = get_scoped_or_404(request.user, Site, pk=pk)
        serializer = self.ProgramCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner = None
        if data.get("partner") is not None:
            partner = _active_partner(request.user, data["partner"])
        program = program_create(
            actor=request.user, site=site, kind=data["kind"], name=data["name"],
            category=data["category"], capacity=data["capacity"], starts_on=data["starts_on"],
            ends_on=data["ends_on"], partner=partner, open_to_residents=data["open_to_residents"],
        )  # fmt: skip
        return Response(ProgramOutput(program).data, status=status.HTTP_201_CREATED)


def _programs(user: Any) -> QuerySet[Program]:
    return scoped(user, Program, Program.objects.select_related("site", "category", "partner"))


class ProgramListApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        responses=ProgramOutput(many=True),
        parameters=[
            OpenApiParameter("site", int),
            OpenApiParameter("kind", str, enum=ProgramKind.values),
            OpenApiParameter("current", bool, description="只看尚未结束的"),
        ],
        operation_id="site_programs_list",
        description="可见范围内的一老一小项目，最近开始的在前。",
    )
    def get(self, request: Request) -> Response:
        qs = _programs(request.user)
        if (site := _query_id(request, "site")) is not None:
            qs = qs.filter(site_id=site)
        if kind := _query_choice(request, "kind", ProgramKind.values):
            qs = qs.filter(kind=kind)
        if _flag(request, "current"):
            qs = qs.filter(ends_on__gte=_today())
        return _paged(self, request, qs.order_by("-starts_on", "name", "id"), ProgramOutput)


class ProgramDetailApi(APIView):
    # The create's fields, each optional and without a default (a client that left
    # open_to_residents out must not close online sign-up). It shares the create's schema
    # name, so the PATCH body is "PatchedProgramCreateInput": under another name the
    # "kind" choices, used by two inputs, would make the enum's name collide.
    @extend_schema_serializer(component_name="ProgramCreateInput")
    class ProgramUpdateInputSerializer(SiteProgramsApi.ProgramCreateInputSerializer):
        def get_fields(self) -> dict[str, serializers.Field]:
            fields = super().get_fields()
            for field in fields.values():
                field.required = False
                field.default = serializers.empty
            return fields

    @extend_schema(responses=ProgramOutput, operation_id="site_programs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        program = get_scoped_or_404(
            request.user, Program, Program.objects.select_related("site", "category", "partner"),
            pk=pk,
        )  # fmt: skip
        return Response(ProgramOutput(program).data)

    @extend_schema(
        request=ProgramUpdateInputSerializer,
        responses=ProgramOutput,
        operation_id="site_programs_update",
        description=(
            "修改一老一小项目（管理该阵地的工作人员）；未提供的字段保持不变，partner 为 null "
            "表示不再由合伙人承办。名额不能少于已报名人数，结束日期不能早于开始日期；"
            "open_to_residents 决定居民能否在线报名。"
        ),
    )
    def patch(self, request: Request, pk: int) -> Response:
        program = get_scoped_or_404(request.user, Program, pk=pk)
        serializer = self.ProgramUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if changes.get("partner") is not None:
            # The partner the program has keeps it, even if stopped since; a new one must
            # be one the caller sees (the service refuses a stopped one).
            changes["partner"] = (
                program.partner
                if changes["partner"] == program.partner_id
                else _visible(request.user, Partner, changes["partner"], "partner")
            )
        updated = program_update(actor=request.user, program_id=program.pk, **changes)
        return Response(ProgramOutput(updated).data)


class EnrolmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    program_id = serializers.IntegerField()
    program = serializers.CharField(source="program.name")
    site_id = serializers.IntegerField(source="program.site_id")
    site = serializers.CharField(source="program.site.name")
    person_id = serializers.IntegerField()
    person = serializers.CharField(source="person.name")
    status = serializers.ChoiceField(choices=EnrolmentStatus.choices)
    enrolled_on = serializers.DateField()


class ProgramEnrolApi(APIView):
    class ProgramEnrolInputSerializer(serializers.Serializer):
        person = _id(help_text="报名人：本人或同户家庭成员的人员 id")

    @extend_schema(
        request=ProgramEnrolInputSerializer,
        responses={201: EnrolmentOutput},
        operation_id="site_programs_self_enrol",
        description=(
            "居民为本人或同户家庭成员报名开放在线报名的项目。账号未关联居民信息时返回 403；"
            "人员不是本人或同户家人时返回 400（person）；项目不开放在线报名或已结束时返回 400"
            "（program）；已报名或名额已满时返回 409。"
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.ProgramEnrolInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrolment = program_self_enrol(
            actor=request.user, program_id=pk, person_id=serializer.validated_data["person"]
        )
        return Response(EnrolmentOutput(enrolment).data, status=status.HTTP_201_CREATED)


class AttendanceApi(APIView):
    class AttendanceInputSerializer(serializers.Serializer):
        date = DayField()
        enrolments = serializers.ListField(child=_id(), max_length=1000, help_text="到场的报名 id")

    class AttendanceOutputSerializer(serializers.Serializer):
        program = serializers.IntegerField()
        date = serializers.DateField()
        marked = serializers.IntegerField(help_text="新记的出勤人数（当天已记的不重复计）")

    @extend_schema(
        request=AttendanceInputSerializer,
        responses=AttendanceOutputSerializer,
        operation_id="site_programs_attendance",
        description="记一次出勤：新记的人数成为一条服务记录。重复提交同一天同一人只计一次。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.AttendanceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        marked = attendance_mark(
            actor=request.user, program_id=pk, date=data["date"], enrolment_ids=data["enrolments"]
        )
        return Response({"program": pk, "date": data["date"], "marked": marked})


def _enrolments(user: Any) -> QuerySet[Enrolment]:
    return scoped(user, Enrolment, Enrolment.objects.select_related("program__site", "person"))


class EnrolmentListApi(APIView):
    pagination_class = Pagination

    class EnrolmentInputSerializer(serializers.Serializer):
        program = _id()
        person = _id()

    @extend_schema(
        responses=EnrolmentOutput(many=True),
        parameters=[
            OpenApiParameter("program", int),
            OpenApiParameter("status", str, enum=EnrolmentStatus.values),
        ],
        operation_id="site_enrolments_list",
        description="报名记录：居民看到本人和同户家庭成员的，工作人员看到所管阵地的。",
    )
    def get(self, request: Request) -> Response:
        qs = _enrolments(request.user)
        if (program := _query_id(request, "program")) is not None:
            qs = qs.filter(program_id=program)
        if state := _query_choice(request, "status", EnrolmentStatus.values):
            qs = qs.filter(status=state)
        return _paged(self, request, qs.order_by("-enrolled_on", "-id"), EnrolmentOutput)

    @extend_schema(
        request=EnrolmentInputSerializer,
        responses={201: EnrolmentOutput},
        operation_id="site_enrolments_create",
        description="为某人报名项目（阵地工作人员办理）。已报名或名额已满时返回 409。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.EnrolmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        program = _visible(request.user, Program, data["program"], "program")
        person = _visible(request.user, Person, data["person"], "person")
        enrolment = program_enrol(actor=request.user, program_id=program.pk, person=person)
        return Response(EnrolmentOutput(enrolment).data, status=status.HTTP_201_CREATED)


class EnrolmentWithdrawApi(APIView):
    @extend_schema(
        request=None,
        responses=EnrolmentOutput,
        operation_id="site_enrolments_withdraw",
        description=(
            "退出报名，名额随即空出：阵地工作人员办理所管阵地的，居民退出本人或同户家庭成员的"
            "（他人的报名返回 404）。已退出的返回 409。"
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        # The household's own enrolment goes the resident's way even for a worker (whose
        # child's class may be at a site they do not manage); anything else, the staff's.
        own = is_key(pk) and (
            Enrolment.objects.filter(
                pk=pk, person__in=household_persons(request.user).values("pk")
            ).exists()
        )
        staff = is_site_manager(request.user) and not own
        withdraw = program_withdraw if staff else program_self_withdraw
        enrolment = withdraw(actor=request.user, enrolment_id=pk)
        return Response(EnrolmentOutput(enrolment).data)


# --- Bookings ---------------------------------------------------------------------------------


class BookingOutput(serializers.ModelSerializer):
    room = serializers.CharField(source="room.name")
    site = serializers.CharField(source="room.site.name")
    room_id = serializers.IntegerField()
    site_id = serializers.IntegerField(source="room.site_id")
    series_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Booking
        fields = ["id", "site", "room", "purpose", "attendees", "starts_at", "ends_at", "status",
                  "room_id", "site_id", "series_id"]  # fmt: skip


class BookingListApi(APIView):
    pagination_class = Pagination

    class BookingCreateInputSerializer(serializers.Serializer):
        room = _id()
        starts_at = MomentField()
        ends_at = MomentField()
        purpose = serializers.CharField(max_length=100)
        attendees = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, default=1)

    @extend_schema(
        responses=BookingOutput(many=True),
        parameters=[
            OpenApiParameter("site", int),
            OpenApiParameter("room", int),
            OpenApiParameter("status", str, enum=BookingStatus.values),
            OpenApiParameter("upcoming", bool, description="只看尚未结束的"),
        ],
        operation_id="site_bookings_list",
        description="预订：居民看到自己的，工作人员看到所管阵地的，最晚开始的在前。",
    )
    def get(self, request: Request) -> Response:
        qs = scoped(request.user, Booking).select_related("room__site")
        if (site := _query_id(request, "site")) is not None:
            qs = qs.filter(room__site_id=site)
        if (room := _query_id(request, "room")) is not None:
            qs = qs.filter(room_id=room)
        if state := _query_choice(request, "status", BookingStatus.values):
            qs = qs.filter(status=state)
        if _flag(request, "upcoming"):
            qs = qs.filter(ends_at__gt=timeutils.now())
        return _paged(self, request, qs.order_by("-starts_at", "-id"), BookingOutput)

    @extend_schema(
        request=BookingCreateInputSerializer,
        responses={201: BookingOutput},
        operation_id="site_bookings_create",
        description="预订功能室。与已有预订重叠时返回 409；居民只能在开放时间内预订。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.BookingCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        booking = booking_create(
            actor=request.user, room_id=data["room"], starts_at=data["starts_at"],
            ends_at=data["ends_at"], purpose=data["purpose"], attendees=data["attendees"],
        )  # fmt: skip
        return Response(BookingOutput(booking).data, status=201)


class BookingDetailApi(APIView):
    @extend_schema(responses=BookingOutput, operation_id="site_bookings_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        booking = get_scoped_or_404(
            request.user, Booking, Booking.objects.select_related("room__site"), pk=pk
        )
        return Response(BookingOutput(booking).data)


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BookingCancelApi(APIView):
    class BookingCancelInputSerializer(NoteInput):
        pass

    @extend_schema(
        request=BookingCancelInputSerializer,
        responses=BookingOutput,
        operation_id="site_bookings_cancel",
        description="取消预订（预订人或阵地工作人员）。已取消或已结束的预订返回 409。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.BookingCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = booking_cancel(
            actor=request.user, booking_id=pk, note=serializer.validated_data["note"]
        )
        return Response(BookingOutput(booking).data)


class SeriesOutput(serializers.Serializer):
    id = serializers.IntegerField()
    room_id = serializers.IntegerField()
    room = serializers.CharField(source="room.name")
    site = serializers.CharField(source="room.site.name")
    purpose = serializers.CharField()
    weekdays = serializers.ListField(child=serializers.IntegerField(), help_text="0 = 周一")
    interval_weeks = serializers.IntegerField()
    first_date = serializers.DateField()
    last_date = serializers.DateField()
    starts = serializers.TimeField()
    ends = serializers.TimeField()
    bookings = BookingOutput(many=True, source="bookings.all")


def _series(user: Any) -> QuerySet[BookingSeries]:
    return (
        scoped(user, BookingSeries)
        .select_related("room__site")
        .prefetch_related("bookings__room__site")
    )


class SeriesListApi(APIView):
    pagination_class = Pagination

    class SeriesInputSerializer(serializers.Serializer):
        room = _id()
        purpose = serializers.CharField(max_length=100)
        weekdays = serializers.ListField(
            child=serializers.IntegerField(min_value=0, max_value=6), max_length=7,
            help_text="每周哪几天，0 = 周一 … 6 = 周日",
        )  # fmt: skip
        first_date = DayField()
        last_date = DayField()
        starts = serializers.CharField(max_length=8, help_text="HH:MM")
        ends = serializers.CharField(max_length=8, help_text="HH:MM")
        attendees = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, default=1)
        interval_weeks = serializers.IntegerField(min_value=1, max_value=8, default=1)

    @extend_schema(
        responses=SeriesOutput(many=True),
        operation_id="site_booking_series_list",
        description="周期预订及其各次预订：居民看到自己的，工作人员看到所管阵地的。",
    )
    def get(self, request: Request) -> Response:
        return _paged(self, request, _series(request.user).order_by("-id"), SeriesOutput)

    @extend_schema(
        request=SeriesInputSerializer,
        responses={201: SeriesOutput},
        operation_id="site_booking_series_create",
        description=(
            "按周规则预订功能室。先检查每一次：任何一次与已有预订重叠（或居民所订时间不在"
            "开放时间内）则一次也不预订，并指出是哪一次。"
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.SeriesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        series = booking_series_create(
            actor=request.user, room_id=data["room"], purpose=data["purpose"],
            weekdays=data["weekdays"], first_date=data["first_date"], last_date=data["last_date"],
            starts=data["starts"], ends=data["ends"], attendees=data["attendees"],
            interval_weeks=data["interval_weeks"],
        )  # fmt: skip
        return Response(SeriesOutput(series).data, status=status.HTTP_201_CREATED)


# --- Service requests -------------------------------------------------------------------------


class RequestOutput(serializers.Serializer):
    """A service request. ``next_statuses`` are the states the caller may move it to:
    the mode's table for the site's staff, ``cancelled`` for the requester while open."""

    id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    site = serializers.CharField(source="site.name")
    category_code = serializers.CharField(source="category.code")
    category = serializers.CharField(source="category.name")
    mode = serializers.ChoiceField(choices=RequestMode.choices)
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    matter = serializers.CharField()
    documents = serializers.ListField(
        child=serializers.DictField(), help_text="材料清单：[{name, received}]"
    )
    note = serializers.CharField()
    slot_id = serializers.IntegerField(allow_null=True)
    slot_starts_at = serializers.DateTimeField(
        source="slot.starts_at", allow_null=True, default=None
    )
    person_id = serializers.IntegerField(allow_null=True)
    mine = serializers.SerializerMethodField()
    next_statuses = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)

    def _user_pk(self) -> Any:
        return getattr(self.context.get("user"), "pk", None)

    def get_mine(self, req: ServiceRequest) -> bool:
        """Whether the caller asked for it themselves."""
        return req.requester_id is not None and req.requester_id == self._user_pk()

    def get_next_statuses(self, req: ServiceRequest) -> list[str]:
        allowed = TRANSITIONS.get(req.mode, {}).get(req.status, set())
        user = self.context.get("user")
        if user is not None and can_manage_site(user, req.site):
            return sorted(allowed)
        if self.get_mine(req) and RequestStatus.CANCELLED in allowed:
            return [RequestStatus.CANCELLED.value]
        return []


REQUEST_ROWS = ServiceRequest.objects.select_related("site__unit", "category", "slot")


def _requests(user: Any) -> QuerySet[ServiceRequest]:
    return scoped(user, ServiceRequest, REQUEST_ROWS)


def _request_response(
    request: Request, req: ServiceRequest, code: int = status.HTTP_200_OK
) -> Response:
    return Response(RequestOutput(req, context={"user": request.user}).data, status=code)


class RequestListApi(APIView):
    pagination_class = Pagination

    class RequestCreateInputSerializer(serializers.Serializer):
        site = _id()
        mode = serializers.ChoiceField(choices=RequestMode.choices)
        category = serializers.SlugField(
            max_length=40, required=False, allow_blank=True,
            help_text="服务类别代码；预约时可省略（取时段的类别）",
        )  # fmt: skip
        matter = serializers.CharField(
            max_length=100, required=False, allow_blank=True,
            help_text="办理事项；预约时可省略（取时段的事项）",
        )  # fmt: skip
        slot = _id(required=False, allow_null=True, help_text="预约时段 id（预约必填）")
        person = _id(required=False, allow_null=True, help_text="服务对象（仅工作人员代登记）")
        documents = serializers.ListField(
            child=serializers.CharField(max_length=60), max_length=100, default=list,
            help_text="代办所需材料（代办）",
        )  # fmt: skip
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
        idempotency_key = serializers.CharField(
            max_length=200, required=False, allow_blank=True, default="",
            help_text="客户端选定的幂等键（也可用 Idempotency-Key 请求头）",
        )  # fmt: skip

    @extend_schema(
        responses=RequestOutput(many=True),
        parameters=[
            OpenApiParameter("site", int),
            OpenApiParameter(
                "status", str, enum=[*RequestStatus.values, "open"], description="open = 尚未办结的"
            ),
            OpenApiParameter("mode", str, enum=RequestMode.values),
            OpenApiParameter("category", str, description="服务类别代码"),
        ],
        operation_id="site_requests_list",
        description="服务申请：居民看到自己提交的，工作人员看到所管阵地的待办队列。最新的在前。",
    )
    def get(self, request: Request) -> Response:
        qs = _requests(request.user)
        if (site := _query_id(request, "site")) is not None:
            qs = qs.filter(site_id=site)
        state = _query_choice(request, "status", [*RequestStatus.values, "open"])
        if state == "open":
            qs = qs.filter(status__in=sorted(OPEN_STATUSES))
        elif state:
            qs = qs.filter(status=state)
        if mode := _query_choice(request, "mode", RequestMode.values):
            qs = qs.filter(mode=mode)
        if category := _category(request):
            qs = qs.filter(category__code=category)
        return _paged(
            self, request, qs.order_by("-created_at", "-id"), RequestOutput,
            context={"user": request.user},
        )  # fmt: skip

    @extend_schema(
        request=RequestCreateInputSerializer,
        responses={201: RequestOutput, 200: RequestOutput},
        parameters=[
            idempotency_header("同一用户、同一键再次提交返回第一次的申请，状态码 200，不再占用名额")
        ],
        operation_id="site_requests_create",
        description=(
            "向阵地提出服务申请。appointment：占用所选时段的一个名额，约满返回 409；"
            "proxy：由工作人员代办，documents 成为材料清单；on_receipt：接件即办，仅工作人员"
            "登记，当即办结并记一条服务记录。"
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.RequestCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        category, matter = data.get("category", ""), data.get("matter", "")
        if data["mode"] == RequestMode.APPOINTMENT and data.get("slot") is not None:
            # As on the site's page: an appointment is for the slot's service.
            slot = site_slot(data["site"], data["slot"])
            if slot is not None:
                category, matter = category or slot.category.code, matter or slot.service
        person = None
        if data.get("person") is not None:
            person = _visible(request.user, Person, data["person"], "person")
        req = request_submit(
            actor=request.user, site_id=data["site"], category=category, mode=data["mode"],
            matter=matter, slot_id=data.get("slot"), person=person, documents=data["documents"],
            note=data["note"],
            idempotency_key=idempotency_key_of(request, data),
        )  # fmt: skip
        replayed = getattr(req, "replayed", False)
        return _request_response(
            request, req, status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
        )


class RequestDetailApi(APIView):
    @extend_schema(responses=RequestOutput, operation_id="site_requests_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        req = get_scoped_or_404(request.user, ServiceRequest, REQUEST_ROWS, pk=pk)
        return Response(RequestOutput(req, context={"user": request.user}).data)


class RequestTransitionApi(APIView):
    class RequestTransitionInputSerializer(NoteInput):
        status = InlineChoiceField(choices=RequestStatus.choices)

    @extend_schema(
        request=RequestTransitionInputSerializer,
        responses=RequestOutput,
        operation_id="site_requests_transition",
        description=(
            "按办理方式的流转表改变状态（阵地工作人员）；申请人只能取消自己尚未办结的申请。"
            "不允许的流转返回 409；退回须写 note；代办材料未齐不能进入办理中。"
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.RequestTransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        req = request_transition(
            actor=request.user, request_id=pk, to_status=data["status"], note=data["note"]
        )
        return _request_response(request, req)


class RequestDocumentsApi(APIView):
    class RequestDocumentsInputSerializer(serializers.Serializer):
        received = serializers.ListField(
            child=serializers.CharField(max_length=60), min_length=1, max_length=100,
            help_text="已收到的材料名称（须在清单中）",
        )  # fmt: skip

    @extend_schema(
        request=RequestDocumentsInputSerializer,
        responses=RequestOutput,
        operation_id="site_requests_documents",
        description="登记代办材料已收到（阵地工作人员）。已登记的保持已收到。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.RequestDocumentsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        req = request_documents_mark(
            actor=request.user, request_id=pk, received=serializer.validated_data["received"]
        )
        return _request_response(request, req)


# --- Service records and person-times ---------------------------------------------------------


class RecordOutput(serializers.Serializer):
    id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    site = serializers.CharField(source="site.name")
    category = serializers.CharField(source="category.code")
    delivered_at = serializers.DateTimeField()
    person_times = serializers.IntegerField()
    request_id = serializers.IntegerField(allow_null=True)
    program_id = serializers.IntegerField(allow_null=True)
    partner_service_id = serializers.IntegerField(allow_null=True)
    amount_fen = serializers.IntegerField()


class RecordListApi(APIView):
    pagination_class = Pagination

    class RecordInputSerializer(serializers.Serializer):
        site = _id()
        category = serializers.SlugField(max_length=40, help_text="服务类别代码")
        person_times = serializers.IntegerField(min_value=1, max_value=MAX_COUNT)
        delivered_at = MomentField(required=False, allow_null=True, help_text="默认现在")
        partner_service = _id(required=False, allow_null=True)
        amount_fen = serializers.IntegerField(min_value=0, max_value=MAX_FEN, default=0)

    @extend_schema(
        responses=RecordOutput(many=True),
        parameters=[
            OpenApiParameter("site", int),
            OpenApiParameter("category", str, description="服务类别代码"),
            OpenApiParameter("start", dt.date, description="起始日期（含，北京时间）"),
            OpenApiParameter("end", dt.date, description="截止日期（含，北京时间）"),
        ],
        operation_id="site_records_list",
        description="可见范围内的服务记录（人次的来源），最新在前。",
    )
    def get(self, request: Request) -> Response:
        qs = scoped(request.user, ServiceRecord).select_related("site", "category")
        if (site := _query_id(request, "site")) is not None:
            qs = qs.filter(site_id=site)
        if category := _category(request):
            qs = qs.filter(category__code=category)
        if start := _query_day(request, "start"):
            qs = qs.filter(delivered_at__gte=dt.datetime.combine(start, dt.time(0), LOCAL_TZ))
        if end := _query_day(request, "end"):
            qs = qs.filter(
                delivered_at__lt=dt.datetime.combine(end, dt.time(0), LOCAL_TZ)
                + dt.timedelta(days=1)
            )
        return _paged(self, request, qs.order_by("-delivered_at", "-id"), RecordOutput)

    @extend_schema(
        request=RecordInputSerializer,
        responses={201: RecordOutput},
        operation_id="site_records_create",
        description="登记不经申请的服务（一次活动、一批来访），金额只用于低偿或有偿的合伙人服务。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.RecordInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        site = _visible(request.user, Site, data["site"], "site")
        service = None
        if data.get("partner_service") is not None:
            service = _visible(
                request.user, PartnerService, data["partner_service"], "partner_service"
            )
        record = record_create(
            actor=request.user, site=site, category=data["category"],
            person_times=data["person_times"], delivered_at=data.get("delivered_at"),
            partner_service=service, amount_fen=data["amount_fen"],
        )  # fmt: skip
        return Response(RecordOutput(record).data, status=status.HTTP_201_CREATED)


class PersonTimesRowOutput(serializers.Serializer):
    key = serializers.CharField(help_text="阵地 id、类别代码、层级或 YYYY-MM")
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    person_times = serializers.IntegerField()
    records = serializers.IntegerField()


class PersonTimesOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    by = serializers.CharField()
    rows = PersonTimesRowOutput(many=True)
    total_person_times = serializers.IntegerField()
    total_records = serializers.IntegerField()


class PersonTimesApi(APIView):
    @extend_schema(
        responses=PersonTimesOutput,
        parameters=[
            OpenApiParameter("start", dt.date, description="起始日期（含），默认今年 1 月 1 日"),
            OpenApiParameter("end", dt.date, description="截止日期（含），默认今天"),
            OpenApiParameter("by", str, enum=list(PERIODS), description="分组，默认 site"),
            OpenApiParameter("level", str, enum=SiteLevel.values),
            OpenApiParameter("category", str, description="服务类别代码"),
        ],
        operation_id="site_person_times_retrieve",
        description="可见范围内的服务人次，按阵地、类别、层级或月份分组，附合计。",
    )
    def get(self, request: Request) -> Response:
        today = _today()
        start = _query_day(request, "start") or dt.date(today.year, 1, 1)
        end = _query_day(request, "end") or today
        if end < start:
            raise ValidationError(_("结束日期不能早于开始日期。"), field="end")
        by = _query_choice(request, "by", list(PERIODS)) or "site"
        rows = person_times(
            actor=request.user, start=start, end=end, by=by,
            level=_query_choice(request, "level", SiteLevel.values), category=_category(request),
        )  # fmt: skip
        return Response(
            PersonTimesOutput(
                {
                    "start": start, "end": end, "by": by,
                    "rows": [{**row, "key": str(row["key"])} for row in rows],
                    "total_person_times": sum(r["person_times"] for r in rows),
                    "total_records": sum(r["records"] for r in rows),
                }
            ).data
        )  # fmt: skip


# --- The site directory: creating and editing sites ------------------------------------------


class ManagedSiteOutput(serializers.Serializer):
    """A site with the facts its staff keep (active or not); ``manages`` tells whether
    the caller may edit it."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=SiteLevel.choices)
    setting = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.name")
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    address = serializers.CharField()
    phone = serializers.CharField()
    manager_kind = serializers.ChoiceField(choices=ManagerKind.choices)
    manager_name = serializers.CharField()
    party_org_id = serializers.IntegerField(allow_null=True)
    description = serializers.CharField()
    categories = serializers.SerializerMethodField()
    station_types = serializers.SerializerMethodField()
    amenities = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    manages = serializers.SerializerMethodField()

    def get_categories(self, site: Site) -> list[str]:
        return sorted(c.code for c in site.categories.all())

    def get_station_types(self, site: Site) -> list[str]:
        return sorted(c.code for c in site.station_types.all())

    def get_amenities(self, site: Site) -> list[str]:
        return sorted(c.code for c in site.amenities.all())

    def get_manages(self, site: Site) -> bool:
        return can_manage_site(self.context.get("user"), site)


class SiteInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    level = serializers.ChoiceField(choices=SiteLevel.choices)
    unit = _id()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    datum = serializers.ChoiceField(choices=Datum.choices, default=Datum.WGS84)
    address = serializers.CharField(max_length=200)
    manager_kind = serializers.ChoiceField(choices=ManagerKind.choices)
    manager_name = serializers.CharField(max_length=100)
    parent = _id(  # type: ignore[assignment]  # a field, not the serializer's parent
        required=False, allow_null=True, help_text="上级阵地 id（站和之家必填）"
    )
    party_org = _id(required=False, allow_null=True, help_text="功能型党组织 id")
    setting = serializers.ChoiceField(choices=StationSetting.choices, default="", allow_blank=True)
    phone = serializers.CharField(max_length=30, default="", allow_blank=True)
    description = serializers.CharField(max_length=2000, default="", allow_blank=True)
    categories = _codes(default=list, help_text="服务类别代码")
    station_types = _codes(default=list, help_text="站点类型代码")
    amenities = _codes(default=list, help_text="便民设施代码")


SITE_ROWS = Site.objects.select_related("unit").prefetch_related(
    "categories", "station_types", "amenities"
)


def _site_refs(user: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The unit, parent site and party organization named in the body, each one the
    caller may see."""
    refs: dict[str, Any] = {}
    if "unit" in data:
        refs["unit"] = _visible(
            user, Unit, data["unit"], "unit", Unit.objects.filter(is_active=True)
        )
    for name, model in (("parent", Site), ("party_org", PartyOrg)):
        if name in data:
            refs[name] = _visible(user, model, data[name], name) if data[name] else None
    return refs


def _site_response(request: Request, site: Site, code: int = status.HTTP_200_OK) -> Response:
    return Response(ManagedSiteOutput(site, context={"user": request.user}).data, status=code)


class DirectoryListApi(APIView):
    pagination_class = Pagination

    class SiteCreateInputSerializer(SiteInput):
        pass

    @extend_schema(
        responses=ManagedSiteOutput(many=True),
        parameters=[
            OpenApiParameter("level", str, enum=SiteLevel.values),
            OpenApiParameter("unit", int, description="只看该单元及其下级的阵地"),
            OpenApiParameter("q", str, description="名称或地址中的文字"),
            OpenApiParameter("active", bool, description="只看启用（1）或停用（0）的"),
        ],
        operation_id="site_directory_list",
        description="工作人员可见范围内的阵地（含停用的），附管理信息。",
    )
    def get(self, request: Request) -> Response:
        within = None
        if (unit := _query_id(request, "unit")) is not None:
            within = get_scoped_or_404(request.user, Unit, pk=unit)
        qs = site_list(
            actor=request.user, level=_query_choice(request, "level", SiteLevel.values),
            within=within,
        ).prefetch_related("categories", "station_types", "amenities")  # fmt: skip
        if q := request.query_params.get("q", "").replace("\x00", "").strip()[:50]:
            qs = qs.filter(Q(name__contains=q) | Q(address__contains=q))
        if (active := request.query_params.get("active", "")) in ("0", "1"):
            qs = qs.filter(is_active=active == "1")
        return _paged(self, request, qs, ManagedSiteOutput, context={"user": request.user})

    @extend_schema(
        request=SiteCreateInputSerializer,
        responses={201: ManagedSiteOutput},
        operation_id="site_directory_create",
        description=(
            "设立阵地（该单元及上级的工作人员）。坐标可为 WGS-84、GCJ-02 或 BD-09，保存为 "
            "WGS-84；坐标有误时错误字段为 location。站和之家须挂在上级阵地之下。"
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.SiteCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _name_clash():
            site = site_create(
                actor=request.user, name=data["name"], level=data["level"], lat=data["lat"],
                lng=data["lng"], datum=data["datum"], address=data["address"],
                manager_kind=data["manager_kind"], manager_name=data["manager_name"],
                setting=data["setting"], phone=data["phone"], description=data["description"],
                categories=data["categories"], station_types=data["station_types"],
                amenities=data["amenities"], **_site_refs(request.user, data),
            )  # fmt: skip
        return _site_response(request, site, status.HTTP_201_CREATED)


class DirectoryDetailApi(APIView):
    class SiteUpdateInputSerializer(SiteInput):
        is_active = serializers.BooleanField(required=False)

        def get_fields(self) -> dict[str, serializers.Field]:
            fields = super().get_fields()
            for field in fields.values():
                field.required = False
                field.default = serializers.empty
            return fields

    @extend_schema(responses=ManagedSiteOutput, operation_id="site_directory_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        site = get_scoped_or_404(request.user, Site, SITE_ROWS, pk=pk)
        return Response(ManagedSiteOutput(site, context={"user": request.user}).data)

    @extend_schema(
        request=SiteUpdateInputSerializer,
        responses=ManagedSiteOutput,
        operation_id="site_directory_update",
        description=(
            "修改阵地（管理该阵地的工作人员）；未提供的字段保持不变，纬度和经度须同时提供。"
            "下面还有启用站点的阵地不能停用。"
        ),
    )
    def patch(self, request: Request, pk: int) -> Response:
        site = get_scoped_or_404(request.user, Site, SITE_ROWS, pk=pk)
        serializer = self.SiteUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if ("lat" in data) != ("lng" in data):
            missing = "lng" if "lat" in data else "lat"
            raise ValidationError(_("纬度和经度必须同时提供。"), field=missing)
        current: dict[str, Any] = {
            "name": site.name, "level": site.level, "unit": site.unit, "lat": site.lat,
            "lng": site.lng, "datum": Datum.WGS84, "address": site.address,
            "manager_kind": site.manager_kind, "manager_name": site.manager_name,
            "parent": site.parent, "party_org": site.party_org, "setting": site.setting,
            "phone": site.phone, "description": site.description, "is_active": site.is_active,
            "categories": [c.code for c in site.categories.all()],
            "station_types": [c.code for c in site.station_types.all()],
            "amenities": [c.code for c in site.amenities.all()],
        }  # fmt: skip
        current.update(data)
        if "lat" not in data:
            current["datum"] = Datum.WGS84  # the kept coordinates are WGS-84 already
        current.update(_site_refs(request.user, data))
        with _name_clash():
            updated = site_update(actor=request.user, site=site, **current)
        return _site_response(request, updated)


class IntervalInput(serializers.Serializer):
    day = serializers.IntegerField(
        min_value=0, max_value=7, help_text="0 = 周一 … 6 = 周日，7 = 法定节假日"
    )
    opens = serializers.CharField(max_length=8, help_text="HH:MM")
    closes = serializers.CharField(max_length=8, help_text="HH:MM（24:00 为午夜）")
    extended = serializers.BooleanField(default=False, help_text="延时服务")


class SiteHoursApi(APIView):
    class SiteHoursInputSerializer(serializers.Serializer):
        hours = IntervalInput(many=True, allow_empty=True, max_length=100)  # type: ignore[call-arg]

    @extend_schema(
        request=SiteHoursInputSerializer,
        responses=HoursOutput(many=True),
        operation_id="site_directory_hours_set",
        description=(
            "整体替换每周开放时间（管理该阵地的工作人员）。任何一段有误则全部不改；"
            "没有 7（节假日）的阵地节假日闭馆。"
        ),
    )
    def put(self, request: Request, pk: int) -> Response:
        site = get_scoped_or_404(request.user, Site, pk=pk)
        serializer = self.SiteHoursInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site_hours_set(
            actor=request.user, site=site,
            intervals=[(i["day"], i["opens"], i["closes"], i["extended"])
                       for i in serializer.validated_data["hours"]],
        )  # fmt: skip
        return Response(hours_data(site))


class ClosureOutput(serializers.Serializer):
    id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    opens = serializers.TimeField(allow_null=True)
    closes = serializers.TimeField(allow_null=True)
    reason = serializers.CharField()


class SiteClosureApi(APIView):
    class SiteClosureInputSerializer(serializers.Serializer):
        starts_on = DayField()
        ends_on = DayField()
        reason = serializers.CharField(max_length=100)
        opens = serializers.CharField(
            max_length=8, required=False, allow_null=True, help_text="特别开放时间 HH:MM"
        )
        closes = serializers.CharField(max_length=8, required=False, allow_null=True)

    @extend_schema(
        request=SiteClosureInputSerializer,
        responses={201: ClosureOutput},
        operation_id="site_directory_closures_create",
        description="临时闭馆若干天，或（填写开关门时间）这些天只在该时段开放。",
    )
    def post(self, request: Request, pk: int) -> Response:
        site = get_scoped_or_404(request.user, Site, pk=pk)
        serializer = self.SiteClosureInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        closure = site_closure_add(
            actor=request.user, site=site, starts_on=data["starts_on"], ends_on=data["ends_on"],
            reason=data["reason"], opens=data.get("opens"), closes=data.get("closes"),
        )  # fmt: skip
        return Response(ClosureOutput(closure).data, status=status.HTTP_201_CREATED)


# --- Partners, their services, agreements and settlements -------------------------------------


class PartnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=PartnerKind.choices)
    unit_id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.name")
    contact = serializers.CharField()
    is_active = serializers.BooleanField()


def _active_partner(user: Any, pk: int) -> Partner:
    """A partner named in the body: one the caller sees, still working with the sites (a
    stopped partner takes no new services, agreements or programs)."""
    partner = _visible(user, Partner, pk, "partner")
    if not partner.is_active:
        raise ValidationError(_("该合伙人已停用。"), field="partner")
    return partner


def _partners(user: Any) -> QuerySet[Partner]:
    return scoped(user, Partner, Partner.objects.select_related("unit"))


class PartnerListApi(APIView):
    pagination_class = Pagination

    class PartnerCreateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        kind = InlineChoiceField(choices=PartnerKind.choices)
        unit = _id(help_text="合伙人所在的社区（单元 id）")
        contact = serializers.CharField(
            max_length=100, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        responses=PartnerOutput(many=True),
        parameters=[
            OpenApiParameter("kind", str, enum=PartnerKind.values),
            OpenApiParameter("active", bool, description="只看合作中（1）或已停用（0）的"),
        ],
        operation_id="site_partners_list",
        description="可见范围内的社区合伙人；合伙人账号只看到自己。",
    )
    def get(self, request: Request) -> Response:
        qs = _partners(request.user)
        if kind := _query_choice(request, "kind", PartnerKind.values):
            qs = qs.filter(kind=kind)
        if (active := request.query_params.get("active", "")) in ("0", "1"):
            qs = qs.filter(is_active=active == "1")
        return _paged(self, request, qs.order_by("unit__path", "name", "id"), PartnerOutput)

    @extend_schema(
        request=PartnerCreateInputSerializer,
        responses={201: PartnerOutput},
        operation_id="site_partners_create",
        description="登记社区合伙人（该社区及上级的工作人员）。同一社区不能重名。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.PartnerCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unit = _visible(
            request.user, Unit, data["unit"], "unit", Unit.objects.filter(is_active=True)
        )
        with _name_clash():
            partner = partner_create(
                actor=request.user, name=data["name"], kind=data["kind"], unit=unit,
                contact=data["contact"],
            )  # fmt: skip
        return Response(PartnerOutput(partner).data, status=status.HTTP_201_CREATED)


class PartnerDetailApi(APIView):
    class PartnerUpdateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False)
        contact = serializers.CharField(max_length=100, required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False, help_text="false = 停止合作")

    @extend_schema(responses=PartnerOutput, operation_id="site_partners_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(PartnerOutput(get_scoped_or_404(request.user, Partner, pk=pk)).data)

    @extend_schema(
        request=PartnerUpdateInputSerializer,
        responses=PartnerOutput,
        operation_id="site_partners_update",
        description="改名、改联系方式，或停止 / 恢复合作；未提供的字段保持不变。",
    )
    def patch(self, request: Request, pk: int) -> Response:
        partner = get_scoped_or_404(request.user, Partner, pk=pk)
        serializer = self.PartnerUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with _name_clash():
            updated = partner_update(
                actor=request.user, partner=partner, name=data.get("name"),
                contact=data.get("contact"), is_active=data.get("is_active"),
            )  # fmt: skip
        return Response(PartnerOutput(updated).data)


class PartnerServiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    partner = serializers.CharField(source="partner.name")
    site_id = serializers.IntegerField()
    site = serializers.CharField(source="site.name")
    category = serializers.CharField(source="category.code")
    name = serializers.CharField()
    pricing = serializers.ChoiceField(choices=Pricing.choices)
    price_fen = serializers.IntegerField()
    is_active = serializers.BooleanField()


class PartnerServiceListApi(APIView):
    pagination_class = Pagination

    class PartnerServiceInputSerializer(serializers.Serializer):
        partner = _id()
        site = _id()
        category = serializers.SlugField(max_length=40, help_text="服务类别代码")
        name = serializers.CharField(max_length=100)
        pricing = serializers.ChoiceField(choices=Pricing.choices)
        price_fen = serializers.IntegerField(min_value=0, max_value=MAX_FEN, default=0)

    @extend_schema(
        responses=PartnerServiceOutput(many=True),
        parameters=[OpenApiParameter("partner", int), OpenApiParameter("site", int)],
        operation_id="site_partner_services_list",
        description="合伙人在各阵地提供的服务（无偿、低偿或有偿，单价以分计）。",
    )
    def get(self, request: Request) -> Response:
        qs = scoped(
            request.user, PartnerService,
            PartnerService.objects.select_related("partner", "site", "category"),
        )  # fmt: skip
        if (partner := _query_id(request, "partner")) is not None:
            qs = qs.filter(partner_id=partner)
        if (site := _query_id(request, "site")) is not None:
            qs = qs.filter(site_id=site)
        return _paged(
            self, request, qs.order_by("partner__name", "name", "id"), PartnerServiceOutput
        )

    @extend_schema(
        request=PartnerServiceInputSerializer,
        responses={201: PartnerServiceOutput},
        operation_id="site_partner_services_create",
        description="登记合伙人在某阵地的服务（管理该阵地的工作人员）。无偿服务不收费，低偿和有偿须有单价。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.PartnerServiceInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner = _active_partner(request.user, data["partner"])
        site = _visible(request.user, Site, data["site"], "site")
        service = partner_service_create(
            actor=request.user, partner=partner, site=site, category=data["category"],
            name=data["name"], pricing=data["pricing"], price_fen=data["price_fen"],
        )  # fmt: skip
        return Response(PartnerServiceOutput(service).data, status=status.HTTP_201_CREATED)


class AgreementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    partner = serializers.CharField(source="partner.name")
    site_id = serializers.IntegerField()
    site = serializers.CharField(source="site.name")
    partner_share_bp = serializers.IntegerField(help_text="合伙人分成，万分比")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)
    terms = serializers.CharField()


class AgreementListApi(APIView):
    pagination_class = Pagination

    class AgreementInputSerializer(serializers.Serializer):
        partner = _id()
        site = _id()
        partner_share_bp = serializers.IntegerField(
            min_value=0, max_value=10000, help_text="合伙人分成，万分比（7000 = 70%）"
        )
        valid_from = DayField()
        valid_to = DayField(required=False, allow_null=True)
        terms = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        responses=AgreementOutput(many=True),
        parameters=[OpenApiParameter("partner", int), OpenApiParameter("site", int)],
        operation_id="site_agreements_list",
        description="收益分成协议；合伙人账号只看到自己的。",
    )
    def get(self, request: Request) -> Response:
        qs = scoped(request.user, RevenueShare).select_related("partner", "site")
        if (partner := _query_id(request, "partner")) is not None:
            qs = qs.filter(partner_id=partner)
        if (site := _query_id(request, "site")) is not None:
            qs = qs.filter(site_id=site)
        return _paged(
            self, request, qs.order_by("partner__name", "-valid_from", "id"), AgreementOutput
        )

    @extend_schema(
        request=AgreementInputSerializer,
        responses={201: AgreementOutput},
        operation_id="site_agreements_create",
        description="登记收益分成协议（管理该阵地的工作人员）。同一合伙人在同一阵地的协议期间不能重叠（409）。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.AgreementInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner = _active_partner(request.user, data["partner"])
        site = _visible(request.user, Site, data["site"], "site")
        agreement = revenue_share_create(
            actor=request.user, partner=partner, site=site,
            partner_share_bp=data["partner_share_bp"], valid_from=data["valid_from"],
            valid_to=data.get("valid_to"), terms=data["terms"],
        )  # fmt: skip
        return Response(AgreementOutput(agreement).data, status=status.HTTP_201_CREATED)


class SettlementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    agreement_id = serializers.IntegerField()
    partner = serializers.CharField(source="agreement.partner.name")
    site = serializers.CharField(source="agreement.site.name")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    records = serializers.IntegerField(help_text="服务人次")
    gross_fen = serializers.IntegerField()
    partner_fen = serializers.IntegerField()
    community_fen = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class SettlementListApi(APIView):
    pagination_class = Pagination

    class SettlementInputSerializer(serializers.Serializer):
        agreement = _id()
        period_start = DayField()
        period_end = DayField()

    @extend_schema(
        responses=SettlementOutput(many=True),
        parameters=[OpenApiParameter("agreement", int)],
        operation_id="site_settlements_list",
        description="结算单，最近的期间在前；合伙人账号只看到自己的。",
    )
    def get(self, request: Request) -> Response:
        qs = scoped(request.user, Settlement).select_related(
            "agreement__partner", "agreement__site"
        )
        if (agreement := _query_id(request, "agreement")) is not None:
            qs = qs.filter(agreement_id=agreement)
        return _paged(self, request, qs.order_by("-period_start", "-id"), SettlementOutput)

    @extend_schema(
        request=SettlementInputSerializer,
        responses={201: SettlementOutput},
        operation_id="site_settlements_create",
        description=(
            "按协议出具一个期间的结算单（阵地工作人员）：收入来自该合伙人在阵地的服务记录，"
            "合伙人分成向下取整到分。期间须已结束且在协议有效期内；同一期间只出一次（409）。"
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.SettlementInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        agreement = _visible(request.user, RevenueShare, data["agreement"], "agreement")
        settlement = settlement_issue(
            actor=request.user, agreement_id=agreement.pk, period_start=data["period_start"],
            period_end=data["period_end"],
        )  # fmt: skip
        return Response(SettlementOutput(settlement).data, status=status.HTTP_201_CREATED)


# --- The 15-minute circle ---------------------------------------------------------------------


class WalkOutput(serializers.Serializer):
    speed_m_per_min = serializers.FloatField()
    detour = serializers.FloatField()
    minutes = serializers.FloatField()
    reach_m = serializers.FloatField()


class CommunityCoverageOutput(serializers.Serializer):
    unit_id = serializers.IntegerField()
    name = serializers.CharField()
    households = serializers.IntegerField()
    covered = serializers.IntegerField()
    share = serializers.FloatField()


class CompoundGapOutput(serializers.Serializer):
    unit_id = serializers.IntegerField()
    name = serializers.CharField()
    households = serializers.IntegerField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    minutes = serializers.FloatField(allow_null=True, help_text="到最近阵地的步行分钟数")


class CoverageSiteOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="0 = 规划中的候选点")
    name = serializers.CharField()
    level = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()


class CoveragePointOutput(serializers.Serializer):
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    households = serializers.IntegerField()
    minutes = serializers.FloatField(allow_null=True)
    covered = serializers.BooleanField()
    site = serializers.CharField()


class CoverageReportOutput(serializers.Serializer):
    model = serializers.CharField(help_text="straight（直线×绕行系数）或 network（步行路网）")
    walk = WalkOutput()
    households = serializers.IntegerField()
    covered = serializers.IntegerField()
    share = serializers.FloatField()
    unlocated = serializers.IntegerField(help_text="所在单元没有坐标的户数")
    by_community = CommunityCoverageOutput(many=True)
    uncovered_compounds = CompoundGapOutput(many=True)
    sites = CoverageSiteOutput(many=True)
    points = CoveragePointOutput(many=True, required=False)


class CoverageOutput(serializers.Serializer):
    unit_id = serializers.IntegerField()
    unit = serializers.CharField()
    report = CoverageReportOutput()
    planned = CoverageReportOutput(allow_null=True, help_text="假设建成候选点后的覆盖")


MAX_POINTS = 20_000


def _report_data(report: CircleReport, *, points: bool) -> dict[str, Any]:
    walk = report.walk
    data: dict[str, Any] = {
        "model": report.model,
        "walk": {"speed_m_per_min": walk.speed_m_per_min, "detour": walk.detour,
                 "minutes": walk.minutes, "reach_m": walk.reach_m},
        "households": report.households, "covered": report.covered, "share": report.share,
        "unlocated": report.unlocated, "by_community": report.by_community,
        "uncovered_compounds": report.uncovered_compounds, "sites": report.sites,
    }  # fmt: skip
    if points:
        data["points"] = report.points[:MAX_POINTS]
    return data


def _float_param(request: Request, name: str) -> float:
    try:
        return float(request.query_params.get(name, ""))
    except ValueError:
        raise ValidationError(_("坐标必须是数字。"), field=name) from None


class CoverageApi(APIView):
    @extend_schema(
        responses=CoverageOutput,
        parameters=[
            OpenApiParameter("level", str, enum=SiteLevel.values, description="只算这一层级的阵地"),
            OpenApiParameter("category", str, description="只算提供这一服务类别的阵地"),
            OpenApiParameter(
                "open_at", str, description="只算此刻（ISO 8601）开放的阵地，如 21:00"
            ),
            OpenApiParameter("cand_lat", float, description="规划：候选点纬度（WGS-84）"),
            OpenApiParameter("cand_lng", float, description="规划：候选点经度（WGS-84）"),
            OpenApiParameter(
                "cand_level", str, enum=SiteLevel.values, description="候选点层级，默认 home"
            ),
            OpenApiParameter("cand_category", str, many=True, description="候选点提供的服务类别"),
            OpenApiParameter(
                "points", bool, description="附上每个有坐标单元的步行分钟数（至多 2 万个）"
            ),
        ],
        operation_id="site_coverage_retrieve",
        description=(
            "15 分钟服务圈：该单元各社区步行可达阵地的住户占比、未覆盖的小区；给出候选点时"
            "另算建成后的覆盖（planned）。仅管理阵地的工作人员。"
        ),
    )
    def get(self, request: Request, unit_pk: int) -> Response:
        unit = get_scoped_or_404(request.user, Unit, pk=unit_pk)
        if not is_site_manager(request.user):
            raise Http404
        level = _query_choice(request, "level", SiteLevel.values)
        category = _category(request)
        open_at = _moment(request, "open_at") if request.query_params.get("open_at") else None
        candidate = None
        if request.query_params.get("cand_lat") or request.query_params.get("cand_lng"):
            codes = _known_categories(
                request.query_params.getlist("cand_category"), "cand_category"
            )
            candidate = Candidate(
                lat=_float_param(request, "cand_lat"), lng=_float_param(request, "cand_lng"),
                level=_query_choice(request, "cand_level", SiteLevel.values) or SiteLevel.HOME,
                categories=tuple(codes) or ((category,) if category else ()),
            )  # fmt: skip
        points = _flag(request, "points")
        report = circle_report(unit=unit, level=level, category=category, open_at=open_at)
        planned = None
        if candidate is not None:
            planned = circle_report(
                unit=unit, level=level, category=category, open_at=open_at, candidate=candidate
            )
        return Response(
            CoverageOutput(
                {
                    "unit_id": unit.pk, "unit": unit.name,
                    "report": _report_data(report, points=points),
                    "planned": _report_data(planned, points=points) if planned else None,
                }
            ).data
        )  # fmt: skip
