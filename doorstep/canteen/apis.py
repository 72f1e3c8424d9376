"""REST endpoints of the canteen: canteens and their menus (read), finding a diner at
a counter, quotes, meal orders (create with a client-chosen idempotency key, list,
detail, refund) and the diner report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.accounts.scoping import get_scoped_or_404
from doorstep.core import timeutils
from doorstep.core.api import (
    Pagination,
    idempotency_header,
    idempotency_key_of,
    query_date,
    query_int,
)
from doorstep.core.errors import ValidationError
from doorstep.orgs.models import Unit
from doorstep.people.models import Person

from .choices import Meal, OrderState
from .models import MealOrder
from .selectors import (
    canteen_detail,
    canteen_list,
    diner_find,
    diner_from_ticket,
    diner_report,
    menu_items,
    order_detail,
    order_list,
)
from .services import Quote, order_create, order_quote, order_refund

KEY_HEADER = idempotency_header()


class CanteenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    unit_id = serializers.IntegerField()
    site_id = serializers.IntegerField()
    outlet_id = serializers.IntegerField()
    lunch_from = serializers.TimeField()
    lunch_until = serializers.TimeField()
    dinner_from = serializers.TimeField()
    dinner_until = serializers.TimeField()
    breakfast_from = serializers.TimeField(allow_null=True)
    breakfast_until = serializers.TimeField(allow_null=True)
    discounted_per_meal = serializers.IntegerField()
    fen_per_point = serializers.IntegerField()
    is_active = serializers.BooleanField()


class MenuItemOutput(serializers.Serializer):
    dish_id = serializers.IntegerField()
    name = serializers.CharField(source="dish.name")
    kind = serializers.CharField(source="dish.kind")
    price_fen = serializers.IntegerField(source="dish.price_fen")
    portions = serializers.IntegerField(allow_null=True)
    sold = serializers.IntegerField()


class LineOutput(serializers.Serializer):
    dish_id = serializers.IntegerField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    list_price_fen = serializers.IntegerField()
    unit_price_fen = serializers.IntegerField()
    rule_id = serializers.IntegerField(allow_null=True)
    rule_label = serializers.CharField()
    total_fen = serializers.IntegerField()


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    canteen_id = serializers.IntegerField()
    date = serializers.DateField()
    meal = serializers.ChoiceField(choices=Meal.choices)
    walk_in = serializers.SerializerMethodField()
    total_fen = serializers.IntegerField()
    cash_fen = serializers.IntegerField()
    points = serializers.IntegerField()
    points_fen = serializers.IntegerField()
    transfer_id = serializers.IntegerField(allow_null=True)
    state = serializers.ChoiceField(choices=OrderState.choices)
    cash_refunded_fen = serializers.IntegerField()
    refund_transfer_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    lines = LineOutput(many=True, source="lines.all")

    def get_walk_in(self, order: MealOrder) -> bool:
        return order.person_id is None


class ItemInput(serializers.Serializer):
    dish = serializers.IntegerField()
    quantity = serializers.IntegerField()


class DinerInput(serializers.Serializer):
    """Who eats: a counter ticket (from the diner search) or, for staff who may see the
    registry, a person id; neither is a walk-in at list prices."""

    ticket = serializers.CharField(required=False, allow_blank=True, max_length=400)
    person = serializers.IntegerField(required=False, allow_null=True)


def _diner(request: Request, canteen: Any, data: dict[str, Any]) -> Person | None:
    if data.get("ticket"):
        try:
            return diner_from_ticket(actor=request.user, canteen=canteen, ticket=data["ticket"])
        except Http404:
            raise ValidationError(
                _("就餐者凭据无效或已过期，请重新查找。"), field="ticket"
            ) from None
    if data.get("person"):
        try:
            return get_scoped_or_404(request.user, Person, pk=data["person"])
        except Http404:
            raise ValidationError(_("未找到该居民。"), field="person") from None
    return None


def _canteen(request: Request, pk: int) -> Any:
    return canteen_detail(actor=request.user, canteen_id=pk)


class CanteenListApi(APIView):
    @extend_schema(
        responses=CanteenOutput(many=True),
        operation_id="canteen_canteens_list",
        description="可见范围内的幸福食堂。",
    )
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(canteen_list(actor=request.user), request, view=self)
        return paginator.get_paginated_response(CanteenOutput(page, many=True).data)


class MenuApi(APIView):
    @extend_schema(
        responses=MenuItemOutput(many=True),
        parameters=[
            OpenApiParameter("date", dt.date, description="日期，默认今天"),
            OpenApiParameter("meal", str, enum=Meal.values, description="餐次，默认午餐"),
        ],
        operation_id="canteen_menus_retrieve",
        description="食堂某日某餐的菜单：菜品、原价、供应与已售份数。",
    )
    def get(self, request: Request, pk: int) -> Response:
        canteen = _canteen(request, pk)
        meal = request.query_params.get("meal") or Meal.LUNCH
        if meal not in Meal.values:
            raise ValidationError(_("未知的餐次。"), field="meal")
        day = query_date(request.query_params.get("date"), "date") or timeutils.local_today()
        return Response(MenuItemOutput(menu_items(canteen, day, meal), many=True).data)


class DinerFindApi(APIView):
    class HitOutput(serializers.Serializer):
        masked_name = serializers.CharField(source="candidate.masked_name")
        place = serializers.CharField(source="candidate.place")
        phone_masked = serializers.CharField(source="candidate.phone_masked")
        age = serializers.IntegerField(source="candidate.age", allow_null=True)
        ticket = serializers.CharField()

    @extend_schema(
        responses=HitOutput(many=True),
        parameters=[
            OpenApiParameter("q", str, required=True, description="姓名、拼音、电话后四位或积分码")
        ],
        operation_id="canteen_diners_find",
        description="收银台查找就餐者：至多数人，姓名脱敏，每人附一张收银凭据（ticket）。",
    )
    def get(self, request: Request, pk: int) -> Response:
        canteen = _canteen(request, pk)
        hits = diner_find(actor=request.user, canteen=canteen, q=request.query_params.get("q", ""))
        return Response(self.HitOutput(hits, many=True).data)


class QuoteApi(APIView):
    class QuoteInputSerializer(DinerInput):
        canteen = serializers.IntegerField()
        meal = serializers.ChoiceField(choices=Meal.choices)
        items = ItemInput(many=True)

    class QuoteOutputSerializer(serializers.Serializer):
        class QuoteLine(serializers.Serializer):
            dish_id = serializers.IntegerField(source="dish.pk")
            name = serializers.CharField(source="dish.name")
            quantity = serializers.IntegerField()
            list_price_fen = serializers.IntegerField(source="dish.price_fen")
            unit_price_fen = serializers.IntegerField()
            rule_id = serializers.IntegerField(source="rule.pk", allow_null=True, default=None)
            rule_label = serializers.CharField()

        date = serializers.DateField()
        meal = serializers.CharField()
        total_fen = serializers.IntegerField()
        list_total_fen = serializers.IntegerField()
        max_points = serializers.IntegerField()
        lines = QuoteLine(many=True)

    @extend_schema(
        request=QuoteInputSerializer,
        responses=QuoteOutputSerializer,
        operation_id="canteen_quotes_create",
        description="按就餐者的年龄与标签计算今日应付金额，并说明适用的价格规则。不产生订单。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        canteen = _canteen(request, data["canteen"])
        if not _bills(request, canteen):
            raise Http404
        quote: Quote = order_quote(
            canteen=canteen,
            meal=data["meal"],
            items=[(i["dish"], i["quantity"]) for i in data["items"]],
            person=_diner(request, canteen, data),
        )
        return Response(self.QuoteOutputSerializer(quote).data)


def _bills(request: Request, canteen: Any) -> bool:
    from .rules import can_bill

    return can_bill(request.user, canteen)


class OrderListCreateApi(APIView):
    class OrderInputSerializer(DinerInput):
        canteen = serializers.IntegerField()
        meal = serializers.ChoiceField(choices=Meal.choices)
        items = ItemInput(many=True)
        points = serializers.IntegerField(required=False, default=0)
        cash_fen = serializers.IntegerField(required=False, allow_null=True, default=None)
        idempotency_key = serializers.CharField(max_length=90, required=False)

    @extend_schema(
        responses=OrderOutput(many=True),
        parameters=[
            OpenApiParameter("canteen", int),
            OpenApiParameter("date", dt.date, description="就餐日期"),
        ],
        operation_id="canteen_orders_list",
        description="可见范围内的就餐订单，最新在前。",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        canteen = (
            _canteen(request, query_int(params["canteen"], "canteen"))
            if params.get("canteen")
            else None
        )
        qs = order_list(
            actor=request.user, canteen=canteen, day=query_date(params.get("date"), "date")
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs.prefetch_related("lines"), request, view=self)
        return paginator.get_paginated_response(OrderOutput(page, many=True).data)

    @extend_schema(
        request=OrderInputSerializer,
        responses={201: OrderOutput, 200: OrderOutput},
        parameters=[KEY_HEADER],
        operation_id="canteen_orders_create",
        description="收银：按规则计价，扣减份数，积分经积分账本支付，其余现金；全部在同一事务中完成。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.OrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        canteen = _canteen(request, data["canteen"])
        key = idempotency_key_of(request, data)
        replay = MealOrder.objects.filter(idempotency_key=f"meal:{key.strip()}").exists()
        order = order_create(
            actor=request.user,
            canteen=canteen,
            meal=data["meal"],
            items=[(i["dish"], i["quantity"]) for i in data["items"]],
            person=_diner(request, canteen, data),
            points=data["points"],
            cash_fen=data["cash_fen"],
            idempotency_key=key,
        )
        order = order_detail(actor=request.user, order_id=order.pk)
        return Response(
            OrderOutput(order).data,
            status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
        )


class OrderDetailApi(APIView):
    @extend_schema(responses=OrderOutput, operation_id="canteen_orders_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(OrderOutput(order_detail(actor=request.user, order_id=pk)).data)


class OrderRefundApi(APIView):
    class RefundInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200)

    @extend_schema(
        request=RefundInputSerializer,
        responses=OrderOutput,
        operation_id="canteen_orders_refund",
        description="退款：积分经冲正退回，现金记为已退还，份数回到菜单。重复调用返回同一结果。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.RefundInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_detail(actor=request.user, order_id=pk)
        order_refund(
            actor=request.user,
            order=order,
            reason=serializer.validated_data["reason"],
            request=request._request,
        )
        return Response(OrderOutput(order_detail(actor=request.user, order_id=pk)).data)


class ReportApi(APIView):
    class ReportOutputSerializer(serializers.Serializer):
        class DayOutput(serializers.Serializer):
            date = serializers.DateField()
            breakfast = serializers.IntegerField()
            lunch = serializers.IntegerField()
            dinner = serializers.IntegerField()
            total = serializers.IntegerField()
            age_meals = serializers.IntegerField()
            cash_fen = serializers.IntegerField()
            points = serializers.IntegerField()

        class CanteenRow(serializers.Serializer):
            canteen_id = serializers.IntegerField()
            name = serializers.CharField()
            person_times = serializers.IntegerField()
            age_meals = serializers.IntegerField()
            cash_fen = serializers.IntegerField()
            points = serializers.IntegerField()

        start = serializers.DateField()
        end = serializers.DateField()
        person_times = serializers.IntegerField()
        daily_average = serializers.FloatField()
        age_meals = serializers.IntegerField()
        cash_fen = serializers.IntegerField()
        points = serializers.IntegerField()
        canteens = CanteenRow(many=True)
        days = DayOutput(many=True)

    @extend_schema(
        responses=ReportOutputSerializer,
        parameters=[
            OpenApiParameter("unit", int, description="单元 id（含下级）"),
            OpenApiParameter("canteen", int),
            OpenApiParameter("start", dt.date, description="起始日期（含），默认截止前 29 天"),
            OpenApiParameter("end", dt.date, description="截止日期（含），默认今天"),
        ],
        operation_id="canteen_report_retrieve",
        description="就餐人次（按日、按餐次）、长者优惠餐份数、现金与积分收入，按食堂分列。",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        unit = canteen = None
        if params.get("unit"):
            unit = get_scoped_or_404(request.user, Unit, pk=query_int(params["unit"], "unit"))
        if params.get("canteen"):
            canteen = _canteen(request, query_int(params["canteen"], "canteen"))
        report = diner_report(
            actor=request.user,
            unit=unit,
            canteen=canteen,
            start=query_date(params.get("start"), "start"),
            end=query_date(params.get("end"), "end"),
        )
        return Response(self.ReportOutputSerializer(report).data)
