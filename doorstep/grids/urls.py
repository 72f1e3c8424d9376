from django.urls import path

from . import views

app_name = "grids"

urlpatterns = [
    path("console/grids/", views.grid_index, name="index"),
    path("console/grids/units/<int:unit_pk>/", views.grid_list, name="grid-list"),
    path("console/grids/units/<int:unit_pk>/balance/", views.balance, name="balance"),
    path("console/grids/units/<int:unit_pk>/map/", views.grid_map, name="map"),
    path("console/grids/<int:pk>/", views.grid_detail, name="grid-detail"),
    path(
        "console/grids/households/<int:pk>/assign/",
        views.household_assign_view,
        name="household-assign",
    ),
    path("console/my-grid/", views.my_grid, name="my-grid"),
    path("console/my-grid/households/<int:pk>/", views.my_household, name="my-household"),
]
