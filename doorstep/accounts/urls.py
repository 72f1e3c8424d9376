from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("console/roles/", views.role_list, name="roles"),
    path("console/roles/scope-options/", views.role_scope_options, name="role-scope-options"),
    path("console/roles/grant/", views.role_grant_view, name="role-grant"),
    path("console/roles/<int:pk>/revoke/", views.role_revoke_view, name="role-revoke"),
    path("console/audit/", views.audit_log, name="audit-log"),
    path("console/audit/export.csv", views.audit_log_export, name="audit-log-export"),
]
