from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("console/registry/", views.registry, name="registry"),
    path("console/registry/people/new/", views.person_new, name="person-new"),
    path("console/registry/people/<int:pk>/", views.person_page, name="person-detail"),
    path("console/registry/people/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("console/registry/people/<int:pk>/move/", views.person_move_view, name="person-move"),
    path("console/registry/people/<int:pk>/leave/", views.person_leave_view, name="person-leave"),
    path(
        "console/registry/people/<int:pk>/reinstate/",
        views.person_reinstate_view,
        name="person-reinstate",
    ),
    path(
        "console/registry/people/<int:pk>/reveal/",
        views.person_reveal_view,
        name="person-reveal",
    ),
    path("console/registry/households/<int:pk>/", views.household_page, name="household-detail"),
    path(
        "console/registry/households/empty/",
        views.empty_households_page,
        name="empty-households",
    ),
    path("console/registry/party-members/", views.party_members, name="party-members"),
    path(
        "console/registry/mobile-party-members/",
        views.mobile_registrations,
        name="mobile-registrations",
    ),
    path("me/record/", views.my_record, name="my-record"),
    path("me/record/delete/", views.my_record_delete, name="my-record-delete"),
]
