from django.urls import path

from . import apis, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("after-login/", views.after_login, name="after-login"),
    path("preferences/elder-mode/", views.elder_mode, name="elder-mode"),
    path("i18n/setlang/", views.set_language, name="set-language"),
    path("console/", views.console, name="console"),
    path("console/units/", views.units, name="units"),
    path("console/units/<int:pk>/", views.unit_detail, name="unit-detail"),
    path("console/party-orgs/", views.party_orgs, name="party-orgs"),
    path("console/departments/", views.departments, name="departments"),
]

api_urlpatterns = [
    path("units/", apis.UnitListApi.as_view(), name="api-units"),
    path("units/<int:pk>/", apis.UnitDetailApi.as_view(), name="api-unit"),
    path("party-orgs/", apis.PartyOrgListApi.as_view(), name="api-party-orgs"),
    path("party-orgs/<int:pk>/", apis.PartyOrgDetailApi.as_view(), name="api-party-org"),
    path("departments/", apis.DepartmentListApi.as_view(), name="api-departments"),
    path("departments/<int:pk>/", apis.DepartmentDetailApi.as_view(), name="api-department"),
]
