"""REST endpoints of sites: the public facts (list, detail, near a point, open now) that
anyone may read, and a resident's or staff member's bookings and requests (scoped)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import timeutils
from doorstep.core.api import Pagination
from doorstep.core.errors import ValidationError
from doorstep.core.timeutils import LOCAL_TZ

from . import hours
from .choices import DAY_NAMES, Datum, SiteLevel
from .models import Booking, ServiceRequest, Site
from .selectors import NEAR_RADIUS_M, public_queryset, sites_near
from .services import booking_create, location_from_input


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


def _moment(request: Request) -> dt.datetime:
    raw = request.query_params.get("at", "")
    if not raw:
        return timeutils.now()
    moment = parse_datetime(raw)
    if moment is None:
        raise ValidationError(_("时间格式无效，应为 ISO 8601。"), field="at")
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "") in ("1", "true", "yes", "on")


LIST_PARAMS = [
    OpenApiParameter("level", str, enum=SiteLevel.values),
    OpenApiParameter("category", str, description="服务类别代码，如 elderly"),
    OpenApiParameter("at", str, description="判断是否开放的时刻（ISO 8601），默认现在"),
]


class SiteListApi(APIView):
    permission_classes = [AllowAny]

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
        if category := request.query_params.get("category", ""):
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
            from django.http import Http404

            raise Http404
        state = hours.site_state(site, moment)
        data = site_data(site, state)
        data["description"] = site.description
        data["hours"] = [
            {"day": h.day, "day_label": str(DAY_NAMES[h.day]), "opens": h.opens.strftime("%H:%M"),
             "closes": h.closes.strftime("%H:%M"), "extended": h.extended}
            for h in site.hours.all()
        ]  # fmt: skip
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
            category=params.get("category", ""), open_now=_flag(request, "open_now"),
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
            lat=lat, lng=lng, moment=_moment(request), level=params.get("level", ""),
            category=params.get("category", ""), open_now=True,
        )  # fmt: skip
        return Response(
            [site_data(n.site, n.state, metres=n.metres, minutes=n.minutes) for n in found]
        )


class BookingOutput(serializers.ModelSerializer):
    room = serializers.CharField(source="room.name")
    site = serializers.CharField(source="room.site.name")

    class Meta:
        model = Booking
        fields = ["id", "site", "room", "purpose", "attendees", "starts_at", "ends_at", "status"]


class BookingListApi(APIView):
    class InputSerializer(serializers.Serializer):
        room = serializers.IntegerField()
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        purpose = serializers.CharField(max_length=100)
        attendees = serializers.IntegerField(default=1)

    @extend_schema(responses=BookingOutput(many=True), operation_id="site_bookings_list")
    def get(self, request: Request) -> Response:
        qs = scoped(request.user, Booking).select_related("room__site").order_by("-starts_at")
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(BookingOutput(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: BookingOutput},
        operation_id="site_bookings_create",
        description="预订功能室。与已有预订重叠时返回 409；居民只能在开放时间内预订。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
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


class RequestOutput(serializers.ModelSerializer):
    site = serializers.CharField(source="site.name")
    category = serializers.CharField(source="category.name")

    class Meta:
        model = ServiceRequest
        fields = ["id", "site", "category", "mode", "status", "matter", "documents", "created_at",
                  "done_at"]  # fmt: skip


class RequestDetailApi(APIView):
    @extend_schema(responses=RequestOutput, operation_id="site_requests_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        req = get_scoped_or_404(
            request.user, ServiceRequest, ServiceRequest.objects.select_related("site", "category"),
            pk=pk,
        )  # fmt: skip
        return Response(RequestOutput(req).data)
