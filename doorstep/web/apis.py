"""Read endpoints of the org tree (units, party organizations, departments), scoped."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core.api import Pagination
from doorstep.orgs.choices import DepartmentKind, PartyOrgKind, UnitKind
from doorstep.orgs.models import Department, PartyOrg, Unit


class UnitOutput(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "kind", "name", "code", "parent", "depth", "lat", "lng", "is_active"]


class UnitDetailOutput(UnitOutput):
    class Meta(UnitOutput.Meta):
        fields = [*UnitOutput.Meta.fields, "boundary"]


class PartyOrgOutput(serializers.ModelSerializer):
    class Meta:
        model = PartyOrg
        fields = ["id", "kind", "name", "parent", "unit", "secretary_name", "is_active"]


class DepartmentOutput(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "kind", "name", "unit", "office_phone", "is_active"]


class _Filters(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    parent = serializers.IntegerField(required=False, min_value=1)  # type: ignore[assignment]
    within = serializers.IntegerField(
        required=False, min_value=1, help_text="Only rows in this unit's subtree"
    )


def _page(
    view: APIView, request: Request, qs: QuerySet, serializer: type[serializers.Serializer]
) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class UnitListApi(APIView):
    class FilterSerializer(_Filters):
        kind = serializers.ChoiceField(choices=UnitKind.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer], responses=UnitOutput(many=True), operation_id="units_list"
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        qs = scoped(request.user, Unit).order_by("path")
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
        if data.get("parent"):
            qs = qs.filter(parent_id=data["parent"])
        if data.get("within"):
            anchor = get_scoped_or_404(request.user, Unit, pk=data["within"])
            qs = qs.filter(anchor.subtree_q())
        if data.get("q"):
            qs = qs.filter(Q(name__icontains=data["q"]) | Q(code__startswith=data["q"]))
        return _page(self, request, qs, UnitOutput)


class UnitDetailApi(APIView):
    @extend_schema(responses=UnitDetailOutput, operation_id="units_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(UnitDetailOutput(get_scoped_or_404(request.user, Unit, pk=pk)).data)


class PartyOrgListApi(APIView):
    class FilterSerializer(_Filters):
        kind = serializers.ChoiceField(choices=PartyOrgKind.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=PartyOrgOutput(many=True),
        operation_id="party_orgs_list",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        qs = scoped(request.user, PartyOrg).order_by("path")
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
        if data.get("within"):
            anchor = get_scoped_or_404(request.user, Unit, pk=data["within"])
            qs = qs.filter(anchor.subtree_q(field="unit__path"))
        if data.get("q"):
            qs = qs.filter(name__icontains=data["q"])
        return _page(self, request, qs, PartyOrgOutput)


class PartyOrgDetailApi(APIView):
    @extend_schema(responses=PartyOrgOutput, operation_id="party_orgs_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(PartyOrgOutput(get_scoped_or_404(request.user, PartyOrg, pk=pk)).data)


class DepartmentListApi(APIView):
    class FilterSerializer(_Filters):
        kind = serializers.ChoiceField(choices=DepartmentKind.choices, required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=DepartmentOutput(many=True),
        operation_id="departments_list",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        qs = scoped(request.user, Department).order_by("unit__path", "name")
        if data.get("kind"):
            qs = qs.filter(kind=data["kind"])
        if data.get("q"):
            qs = qs.filter(name__icontains=data["q"])
        return _page(self, request, qs, DepartmentOutput)


class DepartmentDetailApi(APIView):
    @extend_schema(responses=DepartmentOutput, operation_id="departments_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(DepartmentOutput(get_scoped_or_404(request.user, Department, pk=pk)).data)
