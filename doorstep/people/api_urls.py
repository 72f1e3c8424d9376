from django.urls import path

from . import apis

urlpatterns = [
    path("people/", apis.PersonListApi.as_view(), name="api-people"),
    path("people/<int:pk>/", apis.PersonDetailApi.as_view(), name="api-person"),
    path("people/<int:pk>/reveal/", apis.PersonRevealApi.as_view(), name="api-person-reveal"),
    path("people/<int:pk>/move/", apis.PersonMoveApi.as_view(), name="api-person-move"),
    path("people/<int:pk>/leave/", apis.PersonLeaveApi.as_view(), name="api-person-leave"),
    path(
        "people/<int:pk>/reinstate/",
        apis.PersonReinstateApi.as_view(),
        name="api-person-reinstate",
    ),
    path("households/<int:pk>/", apis.HouseholdDetailApi.as_view(), name="api-household"),
]
