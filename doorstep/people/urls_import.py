"""Import and export of the registry; included at the site root, so the paths are full."""

from django.urls import path

from . import views_import

app_name = "people_import"

urlpatterns = [
    path("console/registry/import/", views_import.import_page, name="import"),
    path(
        "console/registry/import/template/<str:kind>.xlsx",
        views_import.import_template_download,
        name="import-template",
    ),
    path("console/registry/export.xlsx", views_import.export_xlsx, name="export"),
]
