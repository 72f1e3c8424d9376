from django.urls import path

from . import views

app_name = "points"

urlpatterns = [
    path("console/counter/", views.counter, name="counter"),
    path("console/counter/redeem/", views.counter_redeem, name="counter-redeem"),
    path("console/counter/receipts/<int:pk>/", views.receipt_page, name="receipt"),
    path("console/points/", views.points_home, name="home"),
    path("console/points/outlets/<int:pk>/", views.outlet_page, name="outlet"),
    path("console/points/people/<int:person_pk>/", views.person_points, name="person"),
    path("me/points/", views.my_points, name="mine"),
    path("points/leaderboard/<int:unit_pk>/", views.public_leaderboard, name="leaderboard"),
]
