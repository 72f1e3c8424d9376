from django.urls import path

from . import apis

urlpatterns = [
    path("volunteers/teams/", apis.TeamListApi.as_view(), name="api-volunteers-teams"),
    path(
        "volunteers/activities/",
        apis.ActivityListApi.as_view(),
        name="api-volunteers-activities",
    ),
    path(
        "volunteers/activities/<int:pk>/",
        apis.ActivityDetailApi.as_view(),
        name="api-volunteers-activity",
    ),
    path(
        "volunteers/activities/<int:pk>/signups/",
        apis.ActivitySignupsApi.as_view(),
        name="api-volunteers-activity-signups",
    ),
    path(
        "volunteers/signups/<int:pk>/check-in/",
        apis.SignupCheckInApi.as_view(),
        name="api-volunteers-check-in",
    ),
    path(
        "volunteers/signups/<int:pk>/check-out/",
        apis.SignupCheckOutApi.as_view(),
        name="api-volunteers-check-out",
    ),
    path(
        "volunteers/signups/<int:pk>/confirmation/",
        apis.SignupConfirmApi.as_view(),
        name="api-volunteers-confirmation",
    ),
    path(
        "volunteers/signups/<int:pk>/rejection/",
        apis.SignupRejectApi.as_view(),
        name="api-volunteers-rejection",
    ),
    path(
        "volunteers/signups/<int:pk>/cancellation/",
        apis.SignupCancelApi.as_view(),
        name="api-volunteers-cancellation",
    ),
    path("volunteers/scan/", apis.ScanApi.as_view(), name="api-volunteers-scan"),
    path("volunteers/me/", apis.MyStandingApi.as_view(), name="api-volunteers-me"),
    path(
        "volunteers/me/signups/",
        apis.MySignupsApi.as_view(),
        name="api-volunteers-me-signups",
    ),
]
