"""REST endpoints of appeals: intake (idempotent), the scoped list, a case, and its
transitions. One view per operation; each validates input, calls one service and
serializes the result."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.core.api import Pagination, idempotency_header, idempotency_key_of
from doorstep.core.errors import ValidationError
from doorstep.orgs.models import Unit
from doorstep.people.models import Household

from .choices import TRANSITIONS, Action, CaseKind, CaseState, Channel, Color, Level, TaskState
from .models import TEXT_MAX, CaseEvent, Category, JointTask
from .selectors import case_detail, case_list, leaf_categories
from .services import case_submit, case_transition


class CategoryOutput(serializers.ModelSerializer):
    default_color = serializers.CharField(help_text="green、yellow、red")
    default_level = serializers.CharField(help_text="grid、community、party_org")
    parent_code = serializers.CharField(source="parent.code", allow_null=True, default=None)

    class Meta:
        model = Category
        fields = ["code", "name", "parent_code", "default_color", "default_level", "description"]


def _choice(values: list[str]) -> serializers.CharField:
    return serializers.CharField(help_text="、".join(values))


class CaseOutput(serializers.Serializer):
    """A case as the API shows it. Declared field by field (not a ModelSerializer): the
    intake answers with it on every request, and introspecting the model each time
    costs more than the rest of the response."""

    id = serializers.IntegerField()
    receipt_code = serializers.CharField()
    kind = _choice(CaseKind.values)
    category = serializers.CharField(source="category.code")
    channel = _choice(Channel.values)
    text = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    community = serializers.CharField(source="community.name")
    compound = serializers.CharField(source="compound.name", allow_null=True, default=None)
    grid_id = serializers.IntegerField(allow_null=True)
    party_org_id = serializers.IntegerField(allow_null=True)
    color = _choice(Color.values)
    level = _choice(Level.values)
    state = _choice(CaseState.values)
    is_joint = serializers.BooleanField()
    deadline = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()
    result = serializers.CharField()
    rating = serializers.IntegerField(allow_null=True)
    merged_into_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class TaskOutput(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name")
    state = _choice(TaskState.values)

    class Meta:
        model = JointTask
        fields = ["id", "department", "is_lead", "deadline", "state", "reply", "replied_at"]


class EventOutput(serializers.ModelSerializer):
    action = _choice(Action.values)
    from_state = _choice(CaseState.values)
    to_state = _choice(CaseState.values)
    from_color = _choice(Color.values)
    to_color = _choice(Color.values)

    class Meta:
        model = CaseEvent
        fields = [
            "action",
            "at",
            "from_state",
            "to_state",
            "from_color",
            "to_color",
            "note",
            "is_public",
        ]


class CaseDetailOutput(CaseOutput):
    tasks = TaskOutput(many=True, read_only=True)
    events = EventOutput(many=True, read_only=True)


class CategoryListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class = None

    @extend_schema(responses=CategoryOutput(many=True), operation_id="appeal_categories_list")
    def get(self, request: Request) -> Response:
        return Response(CategoryOutput(leaf_categories(), many=True).data)


class CaseListApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class AppealCreateInputSerializer(serializers.Serializer):
        kind = serializers.CharField(default=CaseKind.PROBLEM, help_text="、".join(CaseKind.values))
        category = serializers.CharField(max_length=40)
        channel = serializers.CharField(default=Channel.ONLINE, help_text="、".join(Channel.values))
        text = serializers.CharField(max_length=TEXT_MAX * 20, trim_whitespace=False)
        unit_id = serializers.IntegerField(required=False, allow_null=True)
        household_id = serializers.IntegerField(required=False, allow_null=True)
        lat = serializers.FloatField(required=False, allow_null=True)
        lng = serializers.FloatField(required=False, allow_null=True)
        idempotency_key = serializers.CharField(max_length=200, required=False, allow_blank=True)
        photo = serializers.FileField(required=False)

    @extend_schema(
        responses=CaseOutput(many=True),
        parameters=[
            OpenApiParameter("color", str, enum=Color.values),
            OpenApiParameter("state", str, enum=[*CaseState.values, "open"]),
            OpenApiParameter("kind", str, enum=CaseKind.values),
            OpenApiParameter("category", str, description="类别代码"),
        ],
        operation_id="appeals_list",
    )
    def get(self, request: Request) -> Response:
        qs = case_list(actor=request.user, filters=request.query_params.dict())
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CaseOutput(page, many=True).data)

    @extend_schema(
        request=AppealCreateInputSerializer,
        responses={201: CaseOutput, 200: CaseOutput},
        parameters=[
            idempotency_header("重复提交（同一提交人、同一键）返回第一次创建的诉求，状态码 200")
        ],
        operation_id="appeals_create",
        description="提交诉求。居民网上提交用 channel=online；工作人员代为登记用热线等渠道。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.AppealCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = idempotency_key_of(request, data)
        # A unit is looked up (active, with the places above it) when the case is located.
        unit: int | None = data.get("unit_id") or None
        household = None
        if data.get("household_id"):
            from doorstep.accounts.scoping import scoped

            household = scoped(request.user, Household).filter(pk=data["household_id"]).first()
            if household is None:
                raise ValidationError(_("住户不存在。"), field="household_id")
            # The household is the place; a unit sent beside it must still exist.
            if unit is not None and not Unit.objects.filter(pk=unit, is_active=True).exists():
                raise ValidationError(_("地点不存在。"), field="unit_id")
        case = case_submit(
            actor=request.user,
            kind=data["kind"],
            category=data["category"],
            channel=data["channel"],
            text=data["text"],
            unit=unit,
            household=household,
            lat=data.get("lat"),
            lng=data.get("lng"),
            idempotency_key=key,
            photos=[data["photo"]] if data.get("photo") else [],
        )
        code = status.HTTP_200_OK if getattr(case, "replayed", False) else status.HTTP_201_CREATED
        return Response(CaseOutput(case).data, status=code)


class CaseDetailApi(APIView):
    @extend_schema(responses=CaseDetailOutput, operation_id="appeals_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(CaseDetailOutput(case_detail(actor=request.user, pk=pk)).data)


class CaseTransitionApi(APIView):
    class AppealTransitionInputSerializer(serializers.Serializer):
        action = serializers.CharField(help_text="、".join(sorted(TRANSITIONS)))
        version = serializers.IntegerField()
        note = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=False, max_length=TEXT_MAX * 20
        )
        result = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=False, max_length=TEXT_MAX * 20
        )
        assignee = serializers.IntegerField(required=False, allow_null=True)
        target = serializers.IntegerField(required=False, allow_null=True)
        score = serializers.IntegerField(required=False, allow_null=True)
        comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(
        request=AppealTransitionInputSerializer,
        responses=CaseOutput,
        operation_id="appeals_transition",
        description="执行一个流转操作。version 必须是读取时的版本，否则返回 409。",
    )
    def post(self, request: Request, pk: int) -> Response:
        case = case_detail(actor=request.user, pk=pk)
        serializer = self.AppealTransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        updated = case_transition(
            actor=request.user,
            case=case,
            action=data["action"],
            version=data["version"],
            note=data.get("note", ""),
            result=data.get("result", ""),
            assignee=data.get("assignee"),
            target=data.get("target"),
            score=data.get("score"),
            comment=data.get("comment", ""),
            request=request._request,
        )
        return Response(CaseOutput(updated).data)
