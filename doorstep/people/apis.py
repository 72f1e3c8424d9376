"""REST endpoints of the registry: masked persons and households, the audited reveal of
one full number, and the staff's writes (register, correct, move, off the register and
back; ADR 0018)."""

from __future__ import annotations

import functools

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.core.api import Pagination
from doorstep.core.errors import ValidationError

from .choices import LeftReason, Relation
from .models import Person
from .selectors import (
    RegistryPaginator,
    count_limit,
    household_detail,
    person_detail,
    person_search,
    with_list_relations,
)
from .services import (
    person_leave,
    person_move,
    person_register,
    person_reinstate,
    person_reveal,
    person_update,
    person_version,
)


class PersonOutput(serializers.ModelSerializer):
    """A person as the API shows it: numbers masked, age computed on the day."""

    age = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    unit_id = serializers.IntegerField()
    household_id = serializers.IntegerField(allow_null=True)
    tags = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField(
        help_text="修改或迁移时原样传回；记录在此后被他人修改过，请求会被拒绝（409）"
    )

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "gender",
            "birth_date",
            "age",
            "id_number_masked",
            "phone_masked",
            "unit_id",
            "household_id",
            "relation",
            "address",
            "tags",
            "left_on",
            "left_reason",
            "left_note",
            "version",
        ]
        extra_kwargs = {
            "left_on": {"help_text": "迁出本辖区或去世的日期；在册时为 null"},
            "left_reason": {"help_text": "moved_away（迁出本辖区）、deceased（去世）；在册时为空"},
        }

    def get_age(self, person: Person) -> int | None:
        return person.age_shown(timezone.localdate())

    def get_address(self, person: Person) -> str:
        return person.household.address if person.household is not None else person.unit.name

    def get_tags(self, person: Person) -> list[str]:
        return [tag.code for tag in person.tags.all()]

    def get_version(self, person: Person) -> str:
        return person_version(person)


class _PersonFieldsInput(serializers.Serializer):
    """A record's own fields as a client sends them; the service judges the values."""

    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    gender = serializers.CharField(max_length=10, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    relation = serializers.CharField(max_length=20, required=False, allow_blank=True)
    guardian_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=50
    )


class _AddressInput(serializers.Serializer):
    unit_id = serializers.IntegerField(min_value=1, help_text="楼栋、小区、自然村或村的单元 id")
    entrance = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    room = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class PersonListApi(APIView):
    class RegisterInputSerializer(_PersonFieldsInput, _AddressInput):
        pass

    @extend_schema(
        responses=inline_serializer(
            "PersonPage",
            fields={
                "count": serializers.IntegerField(
                    help_text="符合条件的人数；范围大于社区时最多数到 1000（见 more）"
                ),
                "more": serializers.BooleanField(help_text="实际人数多于 count"),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": PersonOutput(many=True),
            },
        ),
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description="姓名片段、拼音或首字母前缀、证件/电话后四位、完整证件号或电话",
            ),
            OpenApiParameter("tag", str, many=True, description="标签代码，可重复，须全部满足"),
            OpenApiParameter("age_group", str, enum=["elderly", "child"]),
            OpenApiParameter("within", int, description="单元 id（含下级）"),
            OpenApiParameter(
                "status",
                str,
                enum=["current", "left", "all"],
                description="current：在册（默认）；left：已迁出或去世；all：全部",
            ),
        ],
        operation_id="people_list",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        within = params.get("within", "")
        if within and not within.isdigit():
            raise ValidationError(_("单元 id 应为数字。"), field="within")
        search = functools.partial(
            person_search,
            actor=request.user,
            q=params.get("q", ""),
            tags=params.getlist("tag"),
            age_group=params.get("age_group", ""),
            within=int(within) if within else None,
            status=params.get("status", "") or "current",
        )
        qs = search()
        # The count stops at a limit for a wide scope; "more" says there are more rows.
        counter = functools.partial(
            RegistryPaginator,
            count_queryset=search(for_count=True),
            limit=count_limit(request.user, int(within) if within else None),
        )
        paginator = Pagination()
        paginator.django_paginator_class = counter  # type: ignore[assignment]
        page = paginator.paginate_queryset(with_list_relations(qs), request, view=self)
        response = paginator.get_paginated_response(PersonOutput(page, many=True).data)
        shown = paginator.page.paginator if paginator.page is not None else None
        response.data["more"] = bool(getattr(shown, "more", False))
        return response

    @extend_schema(
        request=RegisterInputSerializer,
        responses={201: PersonOutput},
        operation_id="people_register",
        description="在地址处登记人员：该地址已有住户时加入该户，没有时新建住户。"
        "同一住户只能有一名户主。需要维护人口信息的角色；记入审计日志。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        person = person_register(
            actor=request.user,
            unit_id=data["unit_id"],
            entrance=data["entrance"],
            room=data["room"],
            relation=data.get("relation", ""),
            name=data["name"],
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            gender=data.get("gender", ""),
            birth_date=data.get("birth_date"),
            guardian_id=data.get("guardian_id"),
            tags=data.get("tags"),
            request=request._request,
        )
        shown = person_detail(actor=request.user, person_id=person.pk)
        return Response(PersonOutput(shown).data, status=201)


class PersonDetailApi(APIView):
    class UpdateInputSerializer(_PersonFieldsInput):
        name = serializers.CharField(max_length=50, required=False)
        version = serializers.CharField(max_length=40)

    @extend_schema(responses=PersonOutput, operation_id="people_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        return Response(PersonOutput(person_detail(actor=request.user, person_id=pk)).data)

    @extend_schema(
        request=UpdateInputSerializer,
        responses=PersonOutput,
        operation_id="people_update",
        description="修改人员信息。未给出的字段不变；身份证号码、电话留空或不给出即不变，"
        "有身份证号码时出生日期和性别由号码得出。version 取自读取时的记录。记入审计日志。",
    )
    def patch(self, request: Request, pk: int) -> Response:
        serializer = self.UpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        person = person_detail(actor=request.user, person_id=pk)
        has_id = bool(person.id_number_hash)
        person_update(
            actor=request.user,
            person_id=pk,
            version=data["version"],
            name=data.get("name", person.name),
            relation=data.get("relation", person.relation),
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            gender=data.get("gender", "" if has_id else person.gender),
            birth_date=data.get("birth_date", None if has_id else person.birth_date),
            guardian_id=data.get("guardian_id", person.guardian_id),
            tags=data.get("tags", [tag.code for tag in person.tags.all()]),
            request=request._request,
        )
        return Response(PersonOutput(person_detail(actor=request.user, person_id=pk)).data)


class PersonMoveApi(APIView):
    class MoveInputSerializer(_AddressInput):
        relation = serializers.CharField(max_length=20, required=False, allow_blank=True)
        version = serializers.CharField(max_length=40)

    @extend_schema(
        request=MoveInputSerializer,
        responses=PersonOutput,
        operation_id="people_move",
        description="人户迁移：迁往本辖区内的另一地址（该地址已有住户时加入该户，没有时新建）。"
        "户主迁出后原住户没有户主。记入审计日志。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.MoveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        person_move(
            actor=request.user,
            person_id=pk,
            version=data["version"],
            unit_id=data["unit_id"],
            entrance=data["entrance"],
            room=data["room"],
            relation=data.get("relation", ""),
            request=request._request,
        )
        return Response(PersonOutput(person_detail(actor=request.user, person_id=pk)).data)


class PersonLeaveApi(APIView):
    class LeaveInputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=LeftReason.choices)
        on = serializers.DateField(help_text="迁出或去世的日期，不晚于今天")
        note = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        version = serializers.CharField(max_length=40)

    @extend_schema(
        request=LeaveInputSerializer,
        responses=PersonOutput,
        operation_id="people_leave",
        description="登记迁出本辖区或去世：人员不再在册（不计入统计，不再列为家庭成员、"
        "监护人或柜台可查找的居民），记录、诉求、走访和积分保留。户主离开后住户没有户主。"
        "记入审计日志；登记有误时用 reinstate 恢复。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.LeaveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        person_leave(
            actor=request.user,
            person_id=pk,
            version=data["version"],
            reason=data["reason"],
            on=data["on"],
            note=data["note"],
            request=request._request,
        )
        return Response(PersonOutput(person_detail(actor=request.user, person_id=pk)).data)


class PersonReinstateApi(APIView):
    class ReinstateInputSerializer(serializers.Serializer):
        version = serializers.CharField(max_length=40)

    @extend_schema(
        request=ReinstateInputSerializer,
        responses=PersonOutput,
        operation_id="people_reinstate",
        description="恢复在册：撤销迁出或去世的登记。已注销的住户重新启用；原为户主且该户"
        "没有新户主时仍为户主。记入审计日志。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.ReinstateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person_reinstate(
            actor=request.user,
            person_id=pk,
            version=serializer.validated_data["version"],
            request=request._request,
        )
        return Response(PersonOutput(person_detail(actor=request.user, person_id=pk)).data)


class PersonRevealApi(APIView):
    class RevealInputSerializer(serializers.Serializer):
        field = serializers.ChoiceField(choices=["id_number", "phone"])

    class RevealOutputSerializer(serializers.Serializer):
        field = serializers.CharField()
        value = serializers.CharField()

    @extend_schema(
        request=RevealInputSerializer,
        responses=RevealOutputSerializer,
        operation_id="people_reveal",
        description="完整的身份证号码或电话。需要相应角色权限；每次调用（含被拒绝的）都记入审计日志。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.RevealInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        field = serializer.validated_data["field"]
        value = person_reveal(
            actor=request.user, person_id=pk, field=field, request=request._request
        )
        response = Response(self.RevealOutputSerializer({"field": field, "value": value}).data)
        response["Cache-Control"] = "no-store"
        return response


class HouseholdDetailApi(APIView):
    class HouseholdOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="household.pk")
        unit_id = serializers.IntegerField(source="household.unit_id")
        entrance = serializers.CharField(source="household.entrance")
        room = serializers.CharField(source="household.room")
        address = serializers.CharField(source="household.address")
        is_active = serializers.BooleanField(source="household.is_active")
        head_id = serializers.IntegerField(source="household.head_id", allow_null=True)
        grid = inline_serializer(
            "HouseholdGrid",
            {"id": serializers.IntegerField(), "name": serializers.CharField()},
            allow_null=True,
        )
        members = inline_serializer(
            "HouseholdMember",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "relation": serializers.ChoiceField(choices=Relation.choices, allow_blank=True),
                "id_number_masked": serializers.CharField(),
                "phone_masked": serializers.CharField(),
            },
            many=True,
        )

    @extend_schema(responses=HouseholdOutputSerializer, operation_id="households_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        detail = household_detail(actor=request.user, household_id=pk)
        data = {
            "household": detail.household,
            "grid": {"id": detail.grid.pk, "name": detail.grid.name} if detail.grid else None,
            "members": [
                {
                    "id": m.pk,
                    "name": m.name,
                    "relation": m.relation,
                    "id_number_masked": m.id_number_masked,
                    "phone_masked": m.phone_masked,
                }
                for m in detail.members
            ],
        }
        return Response(self.HouseholdOutputSerializer(data).data)
