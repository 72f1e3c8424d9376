from django.urls import URLPattern, path

from . import views

app_name = "dashboards"

urlpatterns: list[URLPattern] = [
    path("console/figures/", views.figures, name="figures"),
]
