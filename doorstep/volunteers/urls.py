from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns = [
    path("console/volunteers/", views.index, name="index"),
    path("console/volunteers/activities/<int:pk>/", views.activity_page, name="activity"),
    path("console/volunteers/teams/<int:pk>/", views.team_page, name="team"),
    path("me/volunteering/", views.my_volunteering, name="mine"),
    path("volunteer/scan/<str:token>/", views.scan_page, name="scan"),
    path(
        "volunteers/leaderboard/<int:unit_pk>/",
        views.public_leaderboard,
        name="leaderboard",
    ),
]
