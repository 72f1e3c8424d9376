from django.urls import path

from . import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="api-me"),
    path("auth/token/", apis.TokenApi.as_view(), name="api-token"),
    path("role-assignments/", apis.RoleAssignmentListApi.as_view(), name="api-role-assignments"),
    path(
        "role-assignments/<int:pk>/revoke/",
        apis.RoleAssignmentRevokeApi.as_view(),
        name="api-role-revoke",
    ),
    path("audit-events/", apis.AuditEventListApi.as_view(), name="api-audit-events"),
    path("audit-events/<int:pk>/", apis.AuditEventDetailApi.as_view(), name="api-audit-event"),
]
