"""The Django admin, for system administrators only: users and the org tree.

Role assignments are not here (the security admin grants them in the console) and the
audit log is not here (only the auditor reads it): that is the separation of duties.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from doorstep.core.errors import DomainError, ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.orgs.models import Department, PartyOrg, Unit
from doorstep.orgs.services import unit_check, unit_create, unit_move

from .audit import audit_record
from .models import AuditAction, User
from .rules import can_use_admin_site


class DoorstepAdminSite(admin.AdminSite):
    site_header = _("家门口 · 系统管理")
    site_title = _("家门口系统管理")
    index_title = _("系统管理")

    def has_permission(self, request: HttpRequest) -> bool:
        return can_use_admin_site(request.user)


site = DoorstepAdminSite(name="admin")


class KeyMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several rows picked in the admin (the ids arrive as text): a value that cannot be
    a primary key is refused before the ``pk__in`` query, which SQLite cannot even bind
    past 2**63. (A single foreign key is safe: Django answers "no such row" itself.)"""

    def clean(self, value: Any) -> Any:
        for one in value if isinstance(value, (list, tuple)) else ():
            if key_from_text(str(one)) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(one)[:20]},
                )
        return super().clean(value)


class SystemAdminOnly:
    """Every admin of the site: for system administrators only, never deleting, and the
    keys of a many-to-many field checked before they reach a query."""

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("form_class", KeyMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_use_admin_site(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_use_admin_site(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return can_use_admin_site(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_use_admin_site(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # nothing an auditor may ask about is deleted; deactivate instead


@admin.register(User, site=site)
class UserAdmin(SystemAdminOnly, DjangoUserAdmin):
    list_display = ["username", "display_name", "is_active", "last_login", "password_changed_at"]
    search_fields = ["username", "display_name"]
    list_filter = ["is_active"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("资料"), {"fields": ("display_name", "elder_mode", "preferred_language")}),
        (_("状态"), {"fields": ("is_active", "last_login", "date_joined", "password_changed_at")}),
    )
    readonly_fields = ["last_login", "date_joined", "password_changed_at"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "display_name", "password1", "password2"),
            },
        ),
    )


UNIT_FIELDS: list[Any] = [
    "kind",
    "name",
    "code",
    "parent",
    "lat",
    "lng",
    "boundary",
    "spans",
    "is_active",
]


class UnitAdminForm(forms.ModelForm):
    """Asks the org services what they would refuse before anything is saved, so that a
    wrong parent or code comes back as a message on the form, not as an error page."""

    class Meta:
        model = Unit
        fields = UNIT_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        existing = self.instance if self.instance.pk else None
        try:
            unit_check(
                kind=existing.kind if existing else data.get("kind", ""),
                parent=data.get("parent"),
                code=data.get("code") or "",
                lat=data.get("lat"),
                lng=data.get("lng"),
                boundary=data.get("boundary"),
                unit=existing,
            )
        except ValidationError as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, str(message))
        return data


@admin.register(Unit, site=site)
class UnitAdmin(SystemAdminOnly, admin.ModelAdmin):
    form = UnitAdminForm
    list_display = ["name", "kind", "code", "parent", "depth", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent"]
    filter_horizontal = ["spans"]
    fields = UNIT_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A unit's kind is fixed once it exists: its place in the tree depends on it.
        return ["kind"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        try:
            if not change:
                created = unit_create(
                    kind=obj.kind,
                    name=obj.name,
                    parent=obj.parent,
                    code=obj.code,
                    lat=obj.lat,
                    lng=obj.lng,
                    boundary=obj.boundary,
                )
                obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
                obj._state.adding = False
                obj.save(update_fields=["is_active"])
                return
            previous = Unit.objects.get(pk=obj.pk)
            if previous.parent_id != obj.parent_id:
                moved = unit_move(unit=previous, new_parent=obj.parent)
                obj.path, obj.depth = moved.path, moved.depth
                # Who sees which rows changes with the tree: the auditor can tell when.
                audit_record(
                    action=AuditAction.UNIT_MOVED,
                    actor=request.user,
                    obj=moved,
                    request=request,
                    detail={
                        "from_parent": previous.parent_id,
                        "from": str(previous.parent or "—"),
                        "to_parent": obj.parent_id,
                        "to": str(obj.parent or "—"),
                    },
                )
            obj.save(
                update_fields=["name", "code", "lat", "lng", "boundary", "is_active", "updated_at"]
            )
        except DomainError as exc:
            self.message_user(request, str(exc.message), level="error")
            raise


@admin.register(PartyOrg, site=site)
class PartyOrgAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "secretary_name", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["parent", "unit"]
    readonly_fields = ["parent"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["parent"]

    def save_model(self, request: HttpRequest, obj: PartyOrg, form: Any, change: bool) -> None:
        if not change:
            from doorstep.orgs.services import party_org_create

            created = party_org_create(
                kind=obj.kind,
                name=obj.name,
                unit=obj.unit,
                parent=obj.parent,
                secretary_name=obj.secretary_name,
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
            obj._state.adding = False
            return
        obj.save(
            update_fields=["kind", "name", "unit", "secretary_name", "is_active", "updated_at"]
        )


@admin.register(Department, site=site)
class DepartmentAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["name", "kind", "unit", "office_phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    raw_id_fields = ["unit"]
