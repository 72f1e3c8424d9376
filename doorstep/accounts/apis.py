"""REST endpoints of accounts: who am I, tokens, role assignments, the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from doorstep.core.api import Pagination
from doorstep.core.errors import ValidationError

from .audit import audit_record
from .models import AuditAction, AuditEvent, RoleAssignment, User
from .roles import Role
from .scoping import get_scoped_or_404
from .selectors import audit_event_list, my_grants_display, role_assignment_list
from .services import role_grant, role_revoke


class MeApi(APIView):
    class MeOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField()
        roles = inline_serializer(
            "MeRole",
            {
                "role": serializers.CharField(),
                "label": serializers.CharField(),
                "scope": serializers.CharField(),
            },
            many=True,
        )

    @extend_schema(responses=MeOutputSerializer, operation_id="me")
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "display_name": str(user),
            "roles": my_grants_display(user),
        }
        return Response(self.MeOutputSerializer(data).data)


class TokenApi(APIView):
    """Exchange a username and password for an API token. Subject to the same lockout as
    the login page; every issued token is audited."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "anon"

    class TokenInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            max_length=128, trim_whitespace=False, style={"input_type": "password"}
        )

    class TokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        request=TokenInputSerializer, responses=TokenOutputSerializer, operation_id="token_create"
    )
    def post(self, request: Request) -> Response:
        serializer = self.TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            raise ValidationError(
                _("用户名或密码不正确。"), field="password", code="invalid_credentials"
            )
        token, _created = Token.objects.get_or_create(user=user)
        audit_record(
            action=AuditAction.TOKEN_ISSUED, actor=user, obj=user, request=request._request
        )
        return Response(
            self.TokenOutputSerializer({"token": token.key}).data, status=status.HTTP_200_OK
        )


class RoleAssignmentOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = RoleAssignment
        fields = [
            "id",
            "username",
            "role",
            "scope_kind",
            "scope_id",
            "created_at",
            "revoked_at",
            "note",
            "revoke_reason",
        ]


class RoleAssignmentListApi(APIView):
    class RoleGrantInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=Role.choices)
        scope_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        note = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        responses=RoleAssignmentOutput(many=True),
        parameters=[OpenApiParameter("active", bool), OpenApiParameter("username", str)],
        operation_id="role_assignments_list",
    )
    def get(self, request: Request) -> Response:
        active = request.query_params.get("active", "true").lower() != "false"
        qs = role_assignment_list(
            actor=request.user,
            active_only=active,
            username=request.query_params.get("username", ""),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RoleAssignmentOutput(page, many=True).data)

    @extend_schema(
        request=RoleGrantInputSerializer,
        responses={201: RoleAssignmentOutput},
        operation_id="role_assignments_create",
    )
    def post(self, request: Request) -> Response:
        serializer = self.RoleGrantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = User.objects.filter(username__iexact=data["username"]).first()
        if user is None:
            raise ValidationError(_("找不到该用户。"), field="username")
        assignment = role_grant(
            actor=request.user,
            user=user,
            role=data["role"],
            scope=data.get("scope_id"),
            note=data.get("note", ""),
            request=request._request,
        )
        return Response(RoleAssignmentOutput(assignment).data, status=status.HTTP_201_CREATED)


class RoleAssignmentRevokeApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(
            max_length=200, help_text="Why the role is revoked (kept for the audit)."
        )

    @extend_schema(
        request=InputSerializer,
        responses=RoleAssignmentOutput,
        operation_id="role_assignments_revoke",
    )
    def post(self, request: Request, pk: int) -> Response:
        get_scoped_or_404(request.user, RoleAssignment, pk=pk)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = role_revoke(
            actor=request.user,
            assignment_id=pk,
            reason=serializer.validated_data["reason"],
            request=request._request,
        )
        return Response(RoleAssignmentOutput(assignment).data)


class AuditEventOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_username",
            "action",
            "outcome",
            "object_type",
            "object_id",
            "object_repr",
            "ip",
            "detail",
        ]


class AuditEventListApi(APIView):
    @extend_schema(
        responses=AuditEventOutput(many=True),
        parameters=[
            OpenApiParameter("action", str),
            OpenApiParameter("username", str),
            OpenApiParameter("outcome", str),
        ],
        operation_id="audit_events_list",
    )
    def get(self, request: Request) -> Response:
        params: dict[str, Any] = {
            k: request.query_params.get(k, "") for k in ("action", "username", "outcome")
        }
        qs = audit_event_list(actor=request.user, **params)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(AuditEventOutput(page, many=True).data)


class AuditEventDetailApi(APIView):
    @extend_schema(responses=AuditEventOutput, operation_id="audit_events_retrieve")
    def get(self, request: Request, pk: int) -> Response:
        event = get_scoped_or_404(request.user, AuditEvent, pk=pk)
        return Response(AuditEventOutput(event).data)
