from django.urls import path

from . import apis

urlpatterns = [
    path("people/", apis.PersonListApi.as_view(), name="api-people"),
    path("people/<int:pk>/", apis.PersonDetailApi.as_view(), name="api-person"),
    path("people/<int:pk>/reveal/", apis.PersonRevealApi.as_view(), name="api-person-reveal"),
    path("people/<int:pk>/move/", apis.PersonMoveApi.as_view(), name="api-person-move"),
    path("households/<int:pk>/", apis.HouseholdDetailApi.as_view(), name="api-household"),
]
