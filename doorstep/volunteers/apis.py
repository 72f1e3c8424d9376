"""REST endpoints of the volunteers app: teams, activities with their slots, sign-up
(idempotent: signing the same person up again returns the first sign-up), check-in and
check-out by the organizer or by the code at the place, confirmation of hours (which
pays points through the ledger), and a volunteer's own records and star level.

Every row comes through the scoping checkpoint (a row out of scope is 404); every write
is one service call, which checks who may do it (403 for a row seen but not run)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core.api import Pagination, query_int
from doorstep.core.errors import NotFound, ValidationError
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.selectors import mask_name, own_person
from doorstep.points.choices import ActivityType

from .choices import ActivityStatus, CheckMethod, SignupStatus
from .models import Activity, Signup, Team
from .selectors import active_signup, activity_list, my_signups, roster, standing, team_list
from .services import (
    check_in,
    check_out,
    scan,
    signup_cancel,
    signup_confirm,
    signup_create,
    signup_reject,
)

# --- Output ----------------------------------------------------------------------------------


class TeamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    unit_id = serializers.IntegerField()
    unit_name = serializers.CharField(source="unit.name")
    name = serializers.CharField()
    leader = serializers.SerializerMethodField()
    serves_id = serializers.IntegerField(allow_null=True)
    serves_name = serializers.SerializerMethodField()
    member_count = serializers.IntegerField()
    is_active = serializers.BooleanField()

    def get_leader(self, team: Team) -> str:
        """The leader's masked name."""
        return mask_name(team.leader.name) if team.leader_id else ""  # type: ignore[union-attr]

    def get_serves_name(self, team: Team) -> str:
        return team.serves.name if team.serves_id else ""  # type: ignore[union-attr]


class ActivityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    unit_id = serializers.IntegerField()
    unit_name = serializers.CharField(source="unit.name")
    team_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    activity_type = serializers.ChoiceField(choices=ActivityType.choices)
    place = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    slots = serializers.IntegerField()
    taken = serializers.IntegerField(help_text="已报名（含已签到、已签退、已确认）人数")
    is_party_post = serializers.BooleanField(help_text="党员认领岗位：只接受党员报名")
    status = serializers.ChoiceField(choices=ActivityStatus.choices)
    points_per_time = serializers.SerializerMethodField()
    points_per_hour = serializers.SerializerMethodField()

    def get_points_per_time(self, activity: Activity) -> int | None:
        """Points per participation by the rule the activity was announced with."""
        rule = activity.points_rule
        return rule.points_per_time if rule is not None else None

    def get_points_per_hour(self, activity: Activity) -> int | None:
        rule = activity.points_rule
        return rule.points_per_hour if rule is not None else None


class SignupOutput(serializers.Serializer):
    id = serializers.IntegerField()
    activity_id = serializers.IntegerField()
    activity_title = serializers.CharField(source="activity.title")
    person_id = serializers.IntegerField()
    person = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=SignupStatus.choices)
    party_claim = serializers.BooleanField()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)
    check_method = serializers.CharField(help_text="staff 工作人员登记，qr 现场扫码")
    minutes = serializers.IntegerField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    points = serializers.SerializerMethodField()
    note = serializers.CharField()

    def get_person(self, signup: Signup) -> str:
        """The volunteer's masked name."""
        return mask_name(signup.person.name)

    def get_points(self, signup: Signup) -> int | None:
        """Points the confirmation paid (none before, or when a cap left nothing)."""
        return signup.transfer.amount if signup.transfer_id else None  # type: ignore[union-attr]


class StandingOutput(serializers.Serializer):
    hours = serializers.FloatField(help_text="累计已确认服务时长（小时）")
    stars = serializers.IntegerField(help_text="星级（0–5）")
    next_stars_at = serializers.IntegerField(allow_null=True, help_text="下一星级所需累计小时")
    thresholds = serializers.ListField(child=serializers.IntegerField())


# --- Helpers -------------------------------------------------------------------------------


def _paginate(view: APIView, request: Request, qs: Any, output: Any) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


def _unit_param(request: Request) -> Unit | None:
    value = request.query_params.get("unit", "")
    if not value:
        return None
    return get_scoped_or_404(request.user, Unit, pk=query_int(value, "unit"))


def _activity(request: Request, pk: int) -> Activity:
    return get_scoped_or_404(
        request.user,
        Activity,
        queryset=Activity.objects.select_related("unit", "team", "points_rule"),
        pk=pk,
    )


def _signup(request: Request, pk: int) -> Signup:
    return get_scoped_or_404(
        request.user,
        Signup,
        queryset=Signup.objects.select_related("activity__unit", "person", "transfer"),
        pk=pk,
    )


def _signup_data(signup: Signup) -> dict[str, Any]:
    fresh = Signup.objects.select_related("activity", "person", "transfer").get(pk=signup.pk)
    return SignupOutput(fresh).data


UNIT_PARAM = OpenApiParameter("unit", int, description="单元 id（含下级）")
SIGNUP_FIELDS = ("activity", "person", "transfer")


# --- Teams and activities ------------------------------------------------------------------


class TeamListApi(APIView):
    @extend_schema(
        responses=TeamOutput(many=True),
        parameters=[UNIT_PARAM],
        operation_id="volunteers_teams_list",
        description="可见范围内的志愿服务队及在队人数，队长姓名脱敏。",
    )
    def get(self, request: Request) -> Response:
        return _paginate(
            self, request, team_list(actor=request.user, unit=_unit_param(request)), TeamOutput
        )


class ActivityListApi(APIView):
    @extend_schema(
        responses=ActivityOutput(many=True),
        parameters=[
            UNIT_PARAM,
            OpenApiParameter("upcoming", bool, description="只列未结束的活动"),
        ],
        operation_id="volunteers_activities_list",
        description="可见范围内的志愿活动与岗位（居民：所住社区及以上的活动），新的在前。",
    )
    def get(self, request: Request) -> Response:
        upcoming = request.query_params.get("upcoming", "")
        if upcoming not in ("", "true", "false", "1", "0"):
            raise ValidationError(_("应为 true 或 false。"), field="upcoming")
        qs = activity_list(
            actor=request.user, unit=_unit_param(request), upcoming=upcoming in ("true", "1")
        )
        return _paginate(self, request, qs, ActivityOutput)


class ActivityDetailApi(APIView):
    @extend_schema(responses=ActivityOutput, operation_id="volunteers_activities_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        activity = activity_list(actor=request.user).filter(pk=pk).first()
        if activity is None:
            raise NotFound(_("未找到该活动。"))
        return Response(ActivityOutput(activity).data)


# --- Sign-up and the roster ------------------------------------------------------------------


class ActivitySignupsApi(APIView):
    class SignupInputSerializer(serializers.Serializer):
        person = serializers.IntegerField(
            required=False, help_text="为他人报名时填写（组织者）；居民为自己报名时省略"
        )

    @extend_schema(
        responses=SignupOutput(many=True),
        operation_id="volunteers_activities_signups_list",
        description="活动的报名名单（组织者看本活动全部报名，居民只看自己的），姓名脱敏。",
    )
    def get(self, request: Request, pk: int) -> Response:
        activity = _activity(request, pk)
        qs = roster(actor=request.user, activity=activity).select_related(*SIGNUP_FIELDS)
        return _paginate(self, request, qs, SignupOutput)

    @extend_schema(
        request=SignupInputSerializer,
        responses={201: SignupOutput, 200: SignupOutput},
        operation_id="volunteers_activities_signups_create",
        description=(
            "报名：居民为自己报名，组织者可为他人报名。同一人已报名时返回原报名（200），"
            "不会重复占用名额。党员认领岗位只接受党员。"
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.SignupInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity = _activity(request, pk)
        person = self._person(request, serializer.validated_data.get("person"))
        existing = active_signup(actor=request.user, activity=activity, person=person)
        if existing is not None:
            return Response(_signup_data(existing), status=status.HTTP_200_OK)
        try:
            signup = signup_create(actor=request.user, activity=activity, person=person)
        except ValidationError as exc:
            # Two taps at once: the second loses the race on the unique index.
            existing = active_signup(actor=request.user, activity=activity, person=person)
            if exc.code == "duplicate" and existing is not None:
                return Response(_signup_data(existing), status=status.HTTP_200_OK)
            raise
        return Response(_signup_data(signup), status=status.HTTP_201_CREATED)

    @staticmethod
    def _person(request: Request, person_id: int | None) -> Person:
        if person_id is None:
            person = own_person(actor=request.user)
            if person is None:
                raise ValidationError(_("您的账号还没有关联居民信息。"), field="person")
            return person
        found = scoped(request.user, Person).filter(pk=person_id).first()
        if found is None:
            raise ValidationError(_("未找到该居民。"), field="person")
        return found


class _SignupActionApi(APIView):
    """A state change of one sign-up; the service checks who may make it."""

    def _done(self, signup: Signup) -> Response:
        return Response(_signup_data(signup))


class SignupCheckInApi(_SignupActionApi):
    class CheckInputSerializer(serializers.Serializer):
        at = serializers.DateTimeField(
            required=False, help_text="签到/签退时间，省略为当前时间；须在活动时间窗口内"
        )

    @extend_schema(
        request=CheckInputSerializer,
        responses=SignupOutput,
        operation_id="volunteers_signups_check_in",
        description="组织者为志愿者签到。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.CheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signup = _signup(request, pk)
        at = serializer.validated_data.get("at")
        return self._done(
            check_in(actor=request.user, signup=signup, at=at, method=CheckMethod.STAFF)
        )


class SignupCheckOutApi(_SignupActionApi):
    @extend_schema(
        request=SignupCheckInApi.CheckInputSerializer,
        responses=SignupOutput,
        operation_id="volunteers_signups_check_out",
        description="组织者为志愿者签退；服务时长按活动时间内的签到至签退计算。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = SignupCheckInApi.CheckInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signup = _signup(request, pk)
        at = serializer.validated_data.get("at")
        return self._done(
            check_out(actor=request.user, signup=signup, at=at, method=CheckMethod.STAFF)
        )


class SignupConfirmApi(_SignupActionApi):
    class ConfirmInputSerializer(serializers.Serializer):
        minutes = serializers.IntegerField(
            required=False, help_text="确认的服务分钟数，省略则按签到签退计算的时长"
        )

    @extend_schema(
        request=ConfirmInputSerializer,
        responses=SignupOutput,
        operation_id="volunteers_signups_confirm",
        description="组织者确认服务时长，随即按活动的积分规则（含每日、每月上限）发放积分，每条报名只发一次。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.ConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signup = _signup(request, pk)
        minutes = serializer.validated_data.get("minutes")
        return self._done(signup_confirm(actor=request.user, signup=signup, minutes=minutes))


class SignupRejectApi(_SignupActionApi):
    class RejectInputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=200, help_text="不予确认的原因")

    @extend_schema(
        request=RejectInputSerializer,
        responses=SignupOutput,
        operation_id="volunteers_signups_reject",
        description="组织者不予确认（须说明原因），不发放积分。",
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.RejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signup = _signup(request, pk)
        note = serializer.validated_data["note"]
        return self._done(signup_reject(actor=request.user, signup=signup, note=note))


class SignupCancelApi(_SignupActionApi):
    @extend_schema(
        request=None,
        responses=SignupOutput,
        operation_id="volunteers_signups_cancel",
        description="取消报名：居民取消自己的，组织者可取消任何人的；签到后不能取消。",
    )
    def post(self, request: Request, pk: int) -> Response:
        return self._done(signup_cancel(actor=request.user, signup=_signup(request, pk)))


class ScanApi(_SignupActionApi):
    class ScanInputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=64, help_text="现场二维码中的签到码")

    @extend_schema(
        request=ScanInputSerializer,
        responses=SignupOutput,
        operation_id="volunteers_scan_create",
        description="志愿者在现场扫码：第一次签到，第二次签退。只处理本人的报名。",
    )
    def post(self, request: Request) -> Response:
        serializer = self.ScanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._done(scan(actor=request.user, token=serializer.validated_data["token"]))


# --- My records ------------------------------------------------------------------------------


class MyStandingApi(APIView):
    @extend_schema(
        responses=StandingOutput,
        operation_id="volunteers_me_retrieve",
        description="我的累计服务时长与星级（星级标准可由社区设置，默认100/300/600/1000/1500小时）。",
    )
    def get(self, request: Request) -> Response:
        person = own_person(actor=request.user)
        if person is None:
            raise NotFound(_("您的账号还没有关联居民信息。"))
        mine = standing(person)
        data = {
            "hours": mine.hours,
            "stars": mine.stars,
            "next_stars_at": mine.next_stars_at,
            "thresholds": list(mine.thresholds),
        }
        return Response(StandingOutput(data).data)


class MySignupsApi(APIView):
    @extend_schema(
        responses=SignupOutput(many=True),
        operation_id="volunteers_me_signups_list",
        description="我的报名与服务记录，新的在前。",
    )
    def get(self, request: Request) -> Response:
        qs = my_signups(actor=request.user).select_related(*SIGNUP_FIELDS)
        return _paginate(self, request, qs, SignupOutput)
