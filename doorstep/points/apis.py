"""REST endpoints of the points ledger: balances and history, manual grants,
redemptions and reversals (each write takes a client-chosen idempotency key), outlets
with their goods, and the report."""

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
from doorstep.core.api import (
    Pagination,
    idempotency_header,
    idempotency_key_of,
    query_date,
    query_int,
)
from doorstep.core.errors import NotFound, PermissionDenied, ValidationError
from doorstep.orgs.models import Unit

from .choices import AccountKind, TransferKind
from .models import Account, Goods, Outlet, Redemption, Transfer
from .rules import can_serve_outlet
from .selectors import (
    account_detail,
    account_history,
    counter_account,
    counter_find,
    mask_name,
    outlet_goods,
    outlet_list,
    own_account,
    points_report,
    receipt,
)
from .services import points_grant, redemption_create, redemption_reverse, transfer_reverse

KEY_HEADER = idempotency_header()


class AccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AccountKind.choices)
    unit_id = serializers.IntegerField()
    balance = serializers.IntegerField()
    holder = serializers.SerializerMethodField()

    def get_holder(self, account: Account) -> str:
        """The resident's masked name, or the outlet's name."""
        if account.person_id:
            return mask_name(account.person.name)  # type: ignore[union-attr]
        return account.outlet.name if account.outlet_id else ""  # type: ignore[union-attr]


class TransferOutput(serializers.ModelSerializer):
    debit_id = serializers.IntegerField()
    credit_id = serializers.IntegerField()
    reverses_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "debit_id",
            "credit_id",
            "amount",
            "kind",
            "reason",
            "created_at",
            "idempotency_key",
            "reverses_id",
            "activity_type",
            "occurred_on",
        ]


class RedemptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    outlet_id = serializers.IntegerField()
    account_id = serializers.IntegerField()
    transfer_id = serializers.IntegerField()
    points = serializers.IntegerField()
    value_fen = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    reversed = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()

    def get_reversed(self, redemption: Redemption) -> bool:
        return Transfer.objects.filter(reverses_id=redemption.transfer_id).exists()

    def get_lines(self, redemption: Redemption) -> list[dict[str, Any]]:
        return [
            {
                "goods_id": line.goods_id,
                "name": line.name,
                "quantity": line.quantity,
                "points_price": line.points_price,
                "value_fen": line.value_fen,
            }
            for line in redemption.lines.all()
        ]


class AccountDetailApi(APIView):
    @extend_schema(responses=AccountOutput, operation_id="points_accounts_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        account = account_detail(actor=request.user, account_id=pk)
        return Response(AccountOutput(account).data)


class OwnAccountApi(APIView):
    @extend_schema(
        responses=AccountOutput,
        operation_id="points_me_retrieve",
        description="当前居民自己的积分账户与余额。",
    )
    def get(self, request: Request) -> Response:
        account = own_account(actor=request.user)
        if account is None:
            raise NotFound(_("您还没有积分账户。"))
        return Response(AccountOutput(account).data)


class AccountTransfersApi(APIView):
    @extend_schema(
        responses=TransferOutput(many=True),
        operation_id="points_accounts_transfers_list",
        description="账户的积分流水，最新在前。",
    )
    def get(self, request: Request, pk: int) -> Response:
        account = account_detail(actor=request.user, account_id=pk)
        paginator = Pagination()
        page = paginator.paginate_queryset(account_history(account), request, view=self)
        return paginator.get_paginated_response(TransferOutput(page, many=True).data)


class GrantCreateApi(APIView):
    class GrantInputSerializer(serializers.Serializer):
        account = serializers.IntegerField()
        amount = serializers.IntegerField()
        reason = serializers.CharField(max_length=200)
        idempotency_key = serializers.CharField(max_length=90, required=False)

    @extend_schema(
        request=GrantInputSerializer,
        responses={201: TransferOutput, 200: TransferOutput},
        parameters=[KEY_HEADER],
        operation_id="points_grants_create",
        description="人工发放积分（须填事由，记入审计日志）。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.GrantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = account_detail(actor=request.user, account_id=data["account"])
        key = idempotency_key_of(request, data)
        replay = Transfer.objects.filter(idempotency_key=key.strip()).exists() if key else False
        transfer = points_grant(
            actor=request.user,
            account=account,
            amount=data["amount"],
            reason=data["reason"],
            idempotency_key=key,
            request=request._request,
        )
        return Response(
            TransferOutput(transfer).data,
            status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
        )


class RedemptionCreateApi(APIView):
    class RedemptionInputSerializer(serializers.Serializer):
        class LineSerializer(serializers.Serializer):
            goods = serializers.IntegerField()
            quantity = serializers.IntegerField()

        outlet = serializers.IntegerField()
        account = serializers.IntegerField(
            required=False, help_text="居民账户 id（仅社区工作人员；收银员请用 ticket）"
        )
        ticket = serializers.CharField(
            max_length=300, required=False, help_text="柜台查询返回的凭据"
        )
        items = LineSerializer(many=True)
        idempotency_key = serializers.CharField(max_length=90, required=False)

    @extend_schema(
        request=RedemptionInputSerializer,
        responses={201: RedemptionOutput, 200: RedemptionOutput},
        parameters=[KEY_HEADER],
        operation_id="points_redemptions_create",
        description=(
            "在兑换点用积分兑换商品：库存与余额在同一事务中变动。收银员须先用柜台查询"
            "找到居民，并以返回的 ticket 指明账户。"
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.RedemptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outlet = get_scoped_or_404(request.user, Outlet, pk=data["outlet"])
        if not can_serve_outlet(request.user, outlet):
            raise PermissionDenied(_("您不能在此兑换点办理兑换。"), field="outlet")
        ticket = data.get("ticket", "")
        if not ticket and "account" not in data:
            raise ValidationError(_("请先查找居民。"), field="ticket")
        try:
            account = counter_account(
                actor=request.user, outlet=outlet, account_id=data.get("account"), ticket=ticket
            )
        except Http404:
            if ticket:
                raise ValidationError(
                    _("凭据无效或已过期，请重新查找居民。"), field="ticket"
                ) from None
            raise ValidationError(_("未找到该居民账户。"), field="account") from None
        key = idempotency_key_of(request, data)
        before = Transfer.objects.filter(idempotency_key=f"redeem:{key.strip()}").exists()
        redemption = redemption_create(
            actor=request.user,
            outlet=outlet,
            account=account,
            items=[(line["goods"], line["quantity"]) for line in data["items"]],
            idempotency_key=key,
        )
        return Response(
            RedemptionOutput(redemption).data,
            status=status.HTTP_200_OK if before else status.HTTP_201_CREATED,
        )


class RedemptionDetailApi(APIView):
    @extend_schema(responses=RedemptionOutput, operation_id="points_redemptions_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(RedemptionOutput(receipt(actor=request.user, redemption_id=pk)).data)


class RedemptionReverseApi(APIView):
    class ReverseInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200)

    @extend_schema(
        request=ReverseInputSerializer,
        responses=TransferOutput,
        operation_id="points_redemptions_reverse",
        description="撤销一次兑换：积分退回居民，商品回到库存。重复调用返回同一笔冲正。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.ReverseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        redemption = receipt(actor=request.user, redemption_id=pk)
        reversal = redemption_reverse(
            actor=request.user,
            redemption=redemption,
            reason=serializer.validated_data["reason"],
            request=request._request,
        )
        return Response(TransferOutput(reversal).data)


class TransferReverseApi(APIView):
    class TransferReverseInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200)
        idempotency_key = serializers.CharField(max_length=90, required=False)

    @extend_schema(
        request=TransferReverseInputSerializer,
        responses=TransferOutput,
        parameters=[KEY_HEADER],
        operation_id="points_transfers_reverse",
        description="冲正一笔发放或过期转账（兑换请用兑换撤销接口，以便退回库存）。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.TransferReverseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = get_scoped_or_404(
            request.user, Transfer, queryset=Transfer.objects.select_related("unit"), pk=pk
        )
        if transfer.kind == TransferKind.REDEEM:
            raise ValidationError(_("兑换请用撤销兑换。"), field="transfer")
        reversal = transfer_reverse(
            actor=request.user,
            transfer=transfer,
            reason=serializer.validated_data["reason"],
            idempotency_key=idempotency_key_of(request, serializer.validated_data),
            request=request._request,
        )
        return Response(TransferOutput(reversal).data)


class GoodsOutput(serializers.ModelSerializer):
    class Meta:
        model = Goods
        fields = ["id", "name", "points_price", "value_fen", "stock", "is_active"]


class OutletOutput(serializers.ModelSerializer):
    unit_id = serializers.IntegerField()

    class Meta:
        model = Outlet
        fields = ["id", "unit_id", "kind", "name", "address", "is_active"]


class OutletListApi(APIView):
    @extend_schema(responses=OutletOutput(many=True), operation_id="points_outlets_list")
    def get(self, request: Request) -> Response:
        paginator = Pagination()
        page = paginator.paginate_queryset(outlet_list(actor=request.user), request, view=self)
        return paginator.get_paginated_response(OutletOutput(page, many=True).data)


class CounterHitOutput(serializers.Serializer):
    account_id = serializers.IntegerField(source="account.pk")
    balance = serializers.IntegerField(source="account.balance")
    masked_name = serializers.CharField()
    place = serializers.CharField()
    phone_masked = serializers.CharField()
    age = serializers.IntegerField(allow_null=True)
    ticket = serializers.CharField(help_text="兑换时提交，证明该账户是在本柜台查到的")


class CounterSearchApi(APIView):
    @extend_schema(
        responses=CounterHitOutput(many=True),
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description="至少两个字的姓名、拼音、电话后四位或完整电话，或积分码",
            )
        ],
        operation_id="points_outlets_counter_list",
        description="兑换点柜台查找居民：只找本社区有积分账户的居民，至多几位，姓名与电话脱敏。",
    )
    def get(self, request: Request, pk: int) -> Response:
        outlet = get_scoped_or_404(request.user, Outlet, pk=pk)
        hits = counter_find(actor=request.user, outlet=outlet, q=request.query_params.get("q", ""))
        return Response(CounterHitOutput(hits, many=True).data)


class OutletGoodsApi(APIView):
    @extend_schema(responses=GoodsOutput(many=True), operation_id="points_outlets_goods_list")
    def get(self, request: Request, pk: int) -> Response:
        outlet = get_scoped_or_404(request.user, Outlet, pk=pk)
        return Response(
            GoodsOutput(outlet_goods(actor=request.user, outlet=outlet), many=True).data
        )


class ReportApi(APIView):
    class PointsReportOutputSerializer(serializers.Serializer):
        issued = serializers.IntegerField()
        redeemed = serializers.IntegerField()
        value_fen = serializers.IntegerField()
        person_times = serializers.IntegerField()
        persons = serializers.IntegerField()
        outlets = serializers.ListField(child=serializers.DictField(), source="rows")

    @extend_schema(
        responses=PointsReportOutputSerializer,
        parameters=[
            OpenApiParameter("unit", int, description="单元 id（含下级）"),
            OpenApiParameter("outlet", int),
            OpenApiParameter("start", dt.date, description="起始日期（含）"),
            OpenApiParameter("end", dt.date, description="截止日期（含）"),
        ],
        operation_id="points_report_retrieve",
        description="发放与兑换积分、兑换商品价值（分）、兑换人次，按兑换点分列。",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        unit = outlet = None
        if params.get("unit"):
            unit = get_scoped_or_404(request.user, Unit, pk=query_int(params["unit"], "unit"))
        if params.get("outlet"):
            outlet = get_scoped_or_404(
                request.user, Outlet, pk=query_int(params["outlet"], "outlet")
            )
        report = points_report(
            actor=request.user,
            unit=unit,
            outlet=outlet,
            start=query_date(params.get("start"), "start"),
            end=query_date(params.get("end"), "end"),
        )
        return Response(self.PointsReportOutputSerializer(report).data)
