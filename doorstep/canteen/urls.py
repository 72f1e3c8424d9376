from django.urls import path

from . import views

app_name = "canteen"

urlpatterns = [
    path("console/canteen/counter/", views.counter, name="counter"),
    path("console/canteen/orders/<int:pk>/", views.receipt, name="receipt"),
    path("console/canteen/", views.index, name="index"),
    path("console/canteen/<int:pk>/", views.canteen_page, name="canteen"),
    path("console/canteen/<int:pk>/menu/", views.menu_edit, name="menu"),
    path("canteen/", views.public_page, name="public"),
    path("me/canteen/", views.my_meals, name="mine"),
]
