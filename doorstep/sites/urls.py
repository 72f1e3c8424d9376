from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "sites"

urlpatterns: list[URLPattern | URLResolver] = [
    path("sites/", views.near, name="near"),
    path("sites/mine/", views.mine, name="mine"),
    path("sites/mine/<str:kind>/<int:pk>/cancel/", views.mine_cancel, name="mine-cancel"),
    path("sites/<int:pk>/", views.site_page, name="site"),
    path("console/sites/", views.console_index, name="console-index"),
    path("console/sites/new/", views.console_site_new, name="console-site-new"),
    path("console/sites/report/", views.console_report, name="console-report"),
    path("console/sites/<int:pk>/", views.console_site, name="console-site"),
    path("console/sites/<int:pk>/edit/", views.console_site_edit, name="console-site-edit"),
    path("console/sites/<int:pk>/desk/", views.console_desk, name="console-desk"),
    path("console/sites/requests/<int:pk>/", views.console_request, name="console-request"),
    path(
        "console/sites/requests/<int:pk>/receipt/",
        views.console_request_receipt,
        name="console-request-receipt",
    ),
    path("console/sites/programs/<int:pk>/", views.console_program, name="console-program"),
    path("console/sites/partners/", views.console_partners, name="console-partners"),
    path("console/sites/coverage/<int:unit_pk>/", views.console_coverage, name="console-coverage"),
    path("console/sites/settings/", views.console_settings, name="console-settings"),
]
